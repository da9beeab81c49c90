"""The HTTP API (OpenAPI at /docs): the same operations as the CLI, for other systems and the dashboard."""

from __future__ import annotations

from fastapi import FastAPI

from oretrail.api import alerts, capture, chain, screening


def create_app(db: str | None = None) -> FastAPI:
    from oretrail.pipeline import Capture, alert_hook
    from oretrail.storage.engine import open_database

    app = FastAPI(
        title="oretrail",
        version="0.1.0",
        description="Full-chain export control of strategic minerals: capture, trace, alerts and their workflow.",
    )
    app.state.engine = open_database(db)
    app.state.capture = Capture(app.state.engine, on_touched=alert_hook())
    app.include_router(capture.router)
    app.include_router(chain.router)
    app.include_router(alerts.router)
    app.include_router(screening.router)
    return app
