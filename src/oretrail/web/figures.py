"""Plotly figures as plain data (the page's script hands them to plotly.js, which is served from the plotly
Python package itself): no figure objects are built on the server, which keeps a page's answer quick."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

# Okabe–Ito: told apart by readers with any common colour-vision deficiency.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
FONT = {"family": "Noto Sans CJK SC, Noto Sans, Liberation Sans, sans-serif", "size": 13}


def _layout(**extra: Any) -> dict[str, Any]:
    return {"font": FONT, "margin": {"l": 48, "r": 16, "t": 16, "b": 48}, "paper_bgcolor": "#ffffff", **extra}


def sankey(
    nodes: Sequence[str], links: Sequence[tuple[int, int, float]], label: Callable[[str], str], unit: str
) -> dict[str, Any]:
    """Nodes by key, links as (source index, target index, value); `label` names a node in the reader's
    language."""
    return {
        "data": [
            {
                "type": "sankey",
                "arrangement": "snap",
                "valueformat": ",.1f",
                "valuesuffix": f" {unit}",
                "node": {
                    "label": [label(n) for n in nodes],
                    "pad": 18,
                    "thickness": 16,
                    "color": [PALETTE[i % len(PALETTE)] for i in range(len(nodes))],
                },
                "link": {
                    "source": [s for s, _, _ in links],
                    "target": [t for _, t, _ in links],
                    "value": [v for _, _, v in links],
                    "color": "rgba(0,114,178,0.25)",
                },
            }
        ],
        "layout": _layout(height=420),
    }


def bars(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    x_title: str,
    y_title: str,
    horizontal: bool = False,
    height: int = 360,
) -> dict[str, Any]:
    """Stacked bars: one trace per series over the categories."""
    data = []
    for i, (name, values) in enumerate(series):
        trace: dict[str, Any] = {"type": "bar", "name": name, "marker": {"color": PALETTE[i % len(PALETTE)]}}
        if horizontal:
            trace.update(x=list(values), y=list(categories), orientation="h")
        else:
            trace.update(x=list(categories), y=list(values))
        data.append(trace)
    axis_c = {"title": {"text": y_title}, "automargin": True}
    axis_v = {"title": {"text": x_title}, "automargin": True}
    layout = _layout(
        height=height,
        barmode="stack",
        legend={"orientation": "h", "y": -0.25},
        xaxis=axis_v if horizontal else {"title": {"text": x_title}, "type": "category", "automargin": True},
        yaxis=axis_c if not horizontal else {"type": "category", "autorange": "reversed", "automargin": True},
    )
    if horizontal:
        layout["xaxis"] = {"title": {"text": y_title}, "automargin": True}
    return {"data": data, "layout": layout}


def line(x: Sequence[str], y: Sequence[float], *, name: str, y_title: str, y_range: tuple[float, float],
         height: int = 240) -> dict[str, Any]:  # fmt: skip
    """One series over dates (a score's history): markers joined by lines, the axis fixed to `y_range` so a
    small move does not look large."""
    trace = {"type": "scatter", "mode": "lines+markers", "name": name, "x": list(x), "y": list(y),
             "line": {"color": PALETTE[0]}, "marker": {"size": 7}}  # fmt: skip
    layout = _layout(
        height=height,
        showlegend=False,
        xaxis={"type": "date", "automargin": True},
        yaxis={"title": {"text": y_title}, "range": list(y_range), "automargin": True},
    )
    return {"data": [trace], "layout": layout}
