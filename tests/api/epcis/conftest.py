"""A server of the binding over a fresh SQLite database per test, driven in-process.

The app's lifespan (which starts the webhook deliverer) is not entered: tests that deliver drive the
deliverer themselves, so nothing runs behind their back. Every route of the binding needs a caller: `client`
is signed in as the central office, which sees and may capture everything (`signed_in_as` for others)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from oretrail.access.tokens import issue_access
from oretrail.access.users import add_user, get_user
from oretrail.api.app import create_app
from oretrail.storage.engine import make_engine, migrate


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test: migrating costs more than the test itself."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


@pytest.fixture
def new_app(tmp_path: Path, migrated_db: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], FastAPI]]:
    """Apps over fresh copies of the migrated database (`new_app(name)`), disposed afterwards."""
    monkeypatch.setenv("ORETRAIL_SIGNING_KEY", str(tmp_path / "key.pem"))
    apps: list[FastAPI] = []

    def make(name: str = "epcis") -> FastAPI:
        path = tmp_path / f"{name}.db"
        if not path.exists():
            shutil.copy(migrated_db, path)
        app = create_app(f"sqlite:///{path}")
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.state.engine.dispose()


@pytest.fixture
def app(new_app: Callable[[str], FastAPI]) -> FastAPI:
    return new_app("epcis")


def signed_in_as(client: TestClient, name: str = "central", role: str = "central", **scope: Any) -> TestClient:
    """`client` with the access token of account `name` (made with `role` and `scope` unless it exists, as
    on a database that outlived a restart)."""
    app: Any = client.app
    with app.state.engine.begin() as conn:
        user = get_user(conn, name) or add_user(conn, name, role, password=None, **scope)
    client.headers["Authorization"] = f"Bearer {issue_access(app.state.token_key, user.name, user.role)}"
    return client


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return signed_in_as(TestClient(app))


def capture(client: TestClient, doc: Any, behaviour: str | None = None, **headers: str) -> dict[str, Any]:
    """POST /capture and return the finished job (the test client runs the job before it answers)."""
    if behaviour is not None:
        headers["GS1-Capture-Error-Behaviour"] = behaviour
    r = client.post("/capture", json=doc, headers=headers)
    assert r.status_code == 202, r.text
    job = client.get("/" + r.headers["location"].lstrip("/"))
    assert job.status_code == 200, job.text
    return job.json()  # type: ignore[no-any-return]


def event_ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [e["eventID"] for e in response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]
