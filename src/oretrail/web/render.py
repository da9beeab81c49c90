"""Pages rendered from Jinja2 templates in the reader's language, with the navigation their role allows.

Every word on a page is a message (`web/texts.py`, keys `web.*`) rendered in the reader's language; a word
that has no current 简体中文 translation is shown in English and named in the page's
`data-missing-translations`, which the browser tests read (and fail on). Values of the records' vocabulary
(statuses, severities, departments, stages, provinces, countries, quantities) go through the same words as
alerts (`i18n/words.py`).

Pages carry a Content-Security-Policy that allows scripts from this server only: no inline script, no CDN,
which is also what a closed government network needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from oretrail.access.caller import Caller
from oretrail.access.permissions import denial
from oretrail.api.deps import lang as accepted_lang
from oretrail.i18n.catalogue import PO_LOCALE, _translations
from oretrail.i18n.message import MESSAGES, Said
from oretrail.i18n.words import SPECS, normal_lang
from oretrail.web import paging
from oretrail.web.session import LANG_COOKIE, PATH, _pending
from oretrail.web.texts import VERSION

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)

ENV = Environment(
    loader=PackageLoader("oretrail.web", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)

# The pages, in the order of the navigation: (key, path, what the role must be able to read to see it).
NAV: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("overview", "/", (("read", "event"), ("read", "alert"))),
    ("alerts", "/alerts", (("read", "alert"),)),
    ("trace", "/trace", (("read", "lot"),)),
    ("enterprises", "/enterprises", (("read", "registry"),)),
    ("licences", "/licences", (("read", "licence"),)),
    ("inspections", "/inspections", (("read", "registry"),)),
    ("bulletins", "/bulletins", (("read", "bulletin"),)),
    ("portal", "/portal", (("capture", "event"),)),
)


def may(who: Caller, action: str, kind: str) -> bool:
    return denial(who, action, kind) is None


def nav_for(who: Caller) -> list[tuple[str, str]]:
    """The pages this role has something to see on (any one of the listed reads)."""
    out = []
    for key, path, needs in NAV:
        if key == "portal" and who.role != "enterprise":
            continue  # the portal is the enterprises' own page; officers capture through their feeds
        if key == "inspections" and who.role == "enterprise":
            continue
        if any(may(who, action, kind) for action, kind in needs):
            out.append((key, PATH + path))
    return out


def language(request: Request) -> str:
    """The reader's choice (the switch on every page), else the browser's language."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in ("zh", "en"):
        return chosen
    return accepted_lang(request)


class Words:
    """`t(key, **params)` in one language, remembering keys that had no translation."""

    def __init__(self, lang: str) -> None:
        self.lang = normal_lang(lang)
        self.missing: set[str] = set()

    def __call__(self, key: str, **params: Any) -> str:
        message = MESSAGES.get(key)
        if message is None:
            self.missing.add(key)
            return key
        if self.lang != "en":
            found = _translations(PO_LOCALE).get(key)
            if found is None or found[0] != message.en:
                self.missing.add(key)
        return message.render(self.lang, **params)

    def said(self, said: Said) -> str:
        """A message with its parameters (a refusal, a stored record's words), checked like a page's own."""
        self._check(said)
        return said.render(self.lang)

    def _check(self, value: Any) -> None:
        if isinstance(value, list | tuple):
            for v in value:
                self._check(v)
        if not isinstance(value, Said):
            return
        message = MESSAGES.get(value.key)
        found = _translations(PO_LOCALE).get(value.key)
        if message is None or (self.lang != "en" and (found is None or found[0] != message.en)):
            self.missing.add(value.key)
        for v in value.params.values():
            self._check(v)


def _filters(lang: str) -> dict[str, Any]:
    out = {name: (lambda value, spec=spec: spec(value, lang)) for name, spec in SPECS.items()}
    out["grams"] = out["kg"]
    return out


def page(
    request: Request,
    who: Caller | None,
    name: str,
    *,
    status: int = 200,
    title: str = "",
    active: str = "",
    **context: Any,
) -> Response:
    lang = language(request)
    words = Words(lang)
    template = ENV.get_template(name)
    params = dict(request.query_params)
    body = template.render(
        t=words,
        lang=lang,
        who=who,
        nav=nav_for(who) if who is not None else [],
        active=active,
        title_key=title,
        path=request.url.path,
        query=request.url.query,
        params=params,
        link=lambda **changes: paging.link(params, **changes),
        sort_link=lambda p, column: paging.sort_link(params, p, column),
        f=_filters(lang),
        may=(lambda action, kind: may(who, action, kind)) if who is not None else (lambda *_: False),
        version=VERSION,
        base=PATH,
        **context,
    )
    missing = " ".join(sorted(words.missing))
    body = body.replace('data-missing-translations=""', f'data-missing-translations="{missing}"', 1)
    response = HTMLResponse(body, status_code=status)
    return finish(request, response)


def finish(request: Request, response: Response) -> Response:
    """Headers every page answer carries, and the session cookies the request refreshed."""
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    secure = request.url.scheme == "https"
    for c in _pending(request):
        if c.max_age is None:
            response.delete_cookie(c.name, path=PATH, secure=secure, httponly=True, samesite="strict")
        else:
            response.set_cookie(
                c.name, c.value, max_age=c.max_age, path=PATH, secure=secure, httponly=True, samesite="strict"
            )
    return response


def redirect(request: Request, url: str) -> Response:
    """See-other after a form post (so a reload does not post again); htmx follows it too."""
    return finish(request, RedirectResponse(url, status_code=303))


def figure_json(figure: Mapping[str, Any]) -> Markup:
    """A plotly figure as JSON for a `<script type="application/json">` block (not executed; read by
    static/web.js), with `</` escaped so the data cannot close the element."""
    text = orjson.dumps(figure).decode().replace("</", "<\\/")
    return Markup(text)
