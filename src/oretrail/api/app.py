"""The HTTP API (OpenAPI at /docs): the same operations as the CLI, for other systems and the dashboard."""

from __future__ import annotations

from fastapi import FastAPI

from oretrail.api import alerts, auth, bulletins, capture, chain, epcis, screening
from oretrail.web import routes as web


def create_app(db: str | None = None) -> FastAPI:
    from oretrail.rules.config import load_settings
    from oretrail.storage.engine import open_database

    app = FastAPI(
        title="oretrail",
        version="0.1.0",
        description="Full-chain export control of strategic minerals: capture, trace, alerts and their workflow.",
    )
    app.state.engine = open_database(db)
    app.state.settings = load_settings()  # built once: capture, feeds and scans judge with the same thresholds
    auth.install(app)  # every route below needs a caller, and every request is audited
    app.include_router(capture.router)
    app.include_router(chain.router)
    app.include_router(alerts.router)
    app.include_router(alerts.attachments_router)
    app.include_router(bulletins.router)
    app.include_router(screening.router)
    epcis.install(app)  # GS1's EPCIS 2.0 REST binding (docs/epcis-rest.md)
    web.install(app)  # the pages for officers and enterprises, under /web (docs/web.md)
    return app
