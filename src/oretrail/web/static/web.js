// Draws the figures a page carries as JSON (no inline script: the pages' Content-Security-Policy forbids it),
// after the first load and after every htmx swap.
(function () {
  "use strict";
  function draw(root) {
    if (typeof Plotly === "undefined") { return; }
    root.querySelectorAll('script[type="application/json"][data-figure]').forEach(function (el) {
      var target = document.getElementById(el.getAttribute("data-figure"));
      if (!target || target.getAttribute("data-drawn") === "1") { return; }
      var fig = JSON.parse(el.textContent);
      target.setAttribute("data-drawn", "1");
      Plotly.newPlot(target, fig.data, fig.layout, {responsive: true, displaylogo: false,
        modeBarButtonsToRemove: ["sendDataToCloud", "lasso2d", "select2d"]});
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (e) { draw(e.target); });
  // A select that filters a list submits its form at once (with htmx, only the results are swapped).
  document.addEventListener("change", function (e) {
    var el = e.target;
    if (el.matches && el.matches("form.filters select")) {
      var form = el.form;
      if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
    }
  });
})();
