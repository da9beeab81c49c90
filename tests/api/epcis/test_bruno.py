"""The FasTnT EPCIS 2.0 request collection (another server's project, ../shared/epcis/rest/fasttnt-bruno), run
with its own CLI against our server, after changing only its environment file.

The server is first given one capture (the binding's own example document), as a server in use would have:
the collection lists capture jobs and browses events it never sends itself. Every request must pass except
those the collection gets wrong against the binding; each is named here with its reason, as in
docs/epcis-rest.md, and the test fails if any other request fails or if a listed one starts passing."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import urllib.request
from pathlib import Path

from sqlalchemy import select

from oretrail.storage.engine import make_engine
from oretrail.storage.schema import audit
from tests.api.epcis.server import api_account, basic, serve

COLLECTION = Path("epcis/rest/fasttnt-bruno")
BRUNO = ["npx", "--yes", "@usebruno/cli@4.1.0"]
EXCEPTIONS = {
    "Capture/Get Capture Job Details.bru": "a capture ID of FasTnT's own database, never created here: 404",
    "Capture/Capture Request Async.bru": "expects a body member `Id`; the binding's 202 has no body schema "
    "(we answer the CaptureJob, whose id is `captureID`)",
    "Capture/Capture Event Sync.bru": "expects 202 from POST /events, where the binding answers 201; and its "
    "source 'MISSING: GS1 GLN of PossessingParty' is not a URI, so the event is refused with 400",
    "Events/Get Individual Event.bru": "the eventID is mis-encoded (`CBV2=0` for `CBV2.0`) and never captured",
    "Events/List events for a Query.bru": "the query MyQuery is never created (the collection creates "
    "UniqueQueryName): 404",
    "Queries/Retrieve Query Definition.bru": "path /epcis/queries/{name} is not a path of the binding",
    "Queries/Subscribe to query.bru": "sends DELETE to a subscription URL and expects 201; subscribing is POST "
    "/queries/{name}/subscriptions",
    "Queries/Unsubscribe.bru": "expects 201 from DELETE of a subscription it never made (the binding: 204, "
    "or 404 for an unknown one)",
    "Top-Level/Get EventType SubResources List.bru": "reads `members`; the binding's collections have `member`",
    "Top-Level/Get EPCs SubResources List.bru": "reads `members`; the binding's collections have `member`",
    "Top-Level/Get BizStep SubResources List.bru": "reads `members`; the binding's collections have `member`",
    "Top-Level/Get BizLocation SubResources List.bru": "reads `members`; the binding's collections have `member`",
    "Top-Level/Get ReadPoint SubResources List.bru": "reads `members`; the binding's collections have `member`",
    "Top-Level/Get Dispositions SubResources List.bru": "reads `members`; the binding's collections have `member`",
    "Experiences.bru": "calls an outside web site (dev-neolith.euwest01.umbraco.io), no EPCIS server",
}

# Local.bru with the address and the credentials changed: the collection signs in with HTTP Basic, here as an
# API account of the central office (its requests capture at places no enterprise owns, and read everything).
ENVIRONMENT = (
    "vars {{\n  baseUrl: {base}/\n  nextPageToken: \n  perPage: 15\n  username: {user}\n  password: {password}\n}}\n"
)


def _writable_copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    for path in [dst, *dst.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    return dst


def test_bruno_collection(shared_dir: Path, tmp_path: Path) -> None:
    binding = json.loads((shared_dir / "epcis/rest/openapi.json").read_text())
    example = binding["paths"]["/capture"]["post"]["requestBody"]["content"]["application/json"]["example"]
    collection = _writable_copy(shared_dir / COLLECTION, tmp_path / "collection")
    with serve(tmp_path) as base:
        user, password = api_account(tmp_path)
        (collection / "environments" / "Local.bru").write_text(
            ENVIRONMENT.format(base=base, user=user, password=password)
        )
        headers = {"Content-Type": "application/json", **basic(user, password)}
        seed = urllib.request.Request(base + "/capture", data=json.dumps(example).encode(), method="POST",
                                      headers=headers)  # fmt: skip
        with urllib.request.urlopen(seed, timeout=30) as r:
            assert r.status == 202
        report = tmp_path / "bruno.json"
        done = subprocess.run(
            [*BRUNO, "run", "--env", "Local", "-r", "--reporter-json", str(report)],
            cwd=collection, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
    assert report.exists(), done.stdout[-4000:] + done.stderr[-4000:]
    data = json.loads(report.read_text())
    results = (data[0] if isinstance(data, list) else data)["results"]
    assert len(results) == 39
    failed = set()
    for r in results:
        checks = r.get("assertionResults", []) + r.get("testResults", [])
        if r.get("error") or any(c.get("status") != "pass" for c in checks):
            failed.add(r["test"]["filename"])
    assert failed == set(EXCEPTIONS), done.stdout[-6000:]
    # The collection signed in with Basic as the API account: its requests to our server are that account's
    # in the audit log, none of them refused for want of an identity (a path that is no route of ours is not
    # found before anyone is asked who they are: "Retrieve Query Definition").
    engine = make_engine(f"sqlite:///{tmp_path / 'server.db'}")
    with engine.connect() as conn:
        outcomes = [o for (o,) in conn.execute(select(audit.c.outcome).where(audit.c.actor == user))]
        anonymous = list(conn.execute(select(audit.c.detail).where(audit.c.actor.is_(None), audit.c.status != 404)))
    engine.dispose()
    assert len(outcomes) >= 38 and anonymous == [] and "unauthenticated" not in outcomes, (outcomes, anonymous)
