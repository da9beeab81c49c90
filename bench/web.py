"""How fast each page answers on a loaded national database: medians per page and reader.

    oretrail simulate data --scale 10 && oretrail load registry data/registry.jsonl --db sqlite:///s10.db && ...
    uv run python bench/web.py --db sqlite:///s10.db [--repeat 7]

Accounts (central, a provincial commerce officer of the busiest province, an enterprise compliance officer of
the enterprise with the most facilities) are added when missing, and the busiest province's inspection plan
for June 2025 is made when missing (capacity 20, seed 1; timed, as `POST /supervision/plans` would be);
readers are signed in with a session cookie minted by the token machinery, and every page is requested
`repeat` times in process (fastapi.testclient: the whole app, audit included, without the network). The
first answer of each page is printed apart ("cold"): the overview's national sums are made once per reader's
scope and process (web/flows.py)."""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

from sqlalchemy import func, select


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    os.environ.setdefault("ORETRAIL_SIGNING_KEY", args.db.removeprefix("sqlite:///") + ".signing.key")

    from fastapi.testclient import TestClient

    from oretrail.access.tokens import issue_access
    from oretrail.access.users import add_user, get_user
    from oretrail.api.app import create_app
    from oretrail.storage.schema import alerts, enterprises, exports, facilities, ledger

    started = time.perf_counter()
    app = create_app(args.db)
    eng = app.state.engine
    if app.state.web_warm is not None:  # the centre's overview figures, made as the server starts
        app.state.web_warm.join()
        print(f"warm-up of the centre's overview at start: {time.perf_counter() - started:.1f} s")
    with eng.begin() as conn:
        records = conn.execute(select(func.max(ledger.c.seq))).scalar_one()
        province = conn.execute(
            select(facilities.c.province).group_by(facilities.c.province).order_by(func.count().desc()).limit(1)
        ).scalar_one()
        party = conn.execute(
            select(facilities.c.owner).group_by(facilities.c.owner).order_by(func.count().desc()).limit(1)
        ).scalar_one()
        lot = conn.execute(select(exports.c.lot_id).limit(1)).scalar_one()
        alert = conn.execute(select(alerts.c.id).where(alerts.c.settled_at.is_not(None)).limit(1)).scalar_one()
        counts = {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in (enterprises, alerts)}
        readers = {
            "bench-central": ("central", None, None, ()),
            "bench-provincial": ("provincial", province, "commerce", ()),
            "bench-enterprise": ("enterprise", None, None, (party,)),
        }
        for name, (role, prov, dept, parties) in readers.items():
            if get_user(conn, name) is None:
                add_user(conn, name, role, password=None, province=prov, department=dept, parties=parties)
    from oretrail.storage.schema import inspection_plans
    from oretrail.supervision.plan import plan_inspections

    with eng.begin() as conn:
        june = inspection_plans.c.province == province, inspection_plans.c.month == "2025-06"
        planned = conn.execute(select(inspection_plans.c.id).where(*june)).first()
        if planned is None:
            t0 = time.perf_counter()
            s = app.state.settings
            plan = plan_inspections(conn, s.config, s.catalogue, province, "2025-06", 20, 1)
            print(f"plan of {province} for 2025-06 ({plan['candidates']} enterprises scored): "
                  f"{time.perf_counter() - t0:.1f} s")  # fmt: skip
    print(f"database: {records:,} ledger records, {counts['enterprises']:,} enterprises, {counts['alerts']:,} alerts")
    pages: dict[str, list[str]] = {
        "bench-central": [
            "/web/", "/web/alerts", "/web/alerts?severity=high&sort=rule", f"/web/alerts/{alert}", "/web/trace",
            f"/web/trace?lot={lot}", f"/web/trace?lot={lot}&direction=forward", "/web/enterprises",
            f"/web/enterprises/{party}", "/web/licences", "/web/licences?view=near_exhaustion&sort=share&dir=desc",
            f"/web/inspections?province={province}&month=2025-06",
            f"/web/inspections?province={province}&month=2025-06&actions=all&sort=due&dir=desc", "/web/bulletins",
        ],
        "bench-provincial": ["/web/", "/web/alerts", "/web/trace", "/web/licences", "/web/inspections?month=2025-06",
                             "/web/inspections?month=2025-06&actions=overdue", f"/web/enterprises/{party}"],
        "bench-enterprise": ["/web/", "/web/portal?month=2025-06", "/web/licences", f"/web/enterprises/{party}",
                             "/web/trace"],
    }  # fmt: skip
    client = TestClient(app)
    rows: list[tuple[str, str, float, float, float, int]] = []
    for name, paths in pages.items():
        role = readers[name][0]
        client.cookies.clear()
        client.cookies.set("ot_access", issue_access(app.state.token_key, name, role), path="/web")
        for path in paths:
            times: list[float] = []
            status = 0
            for _ in range(args.repeat + 1):
                t0 = time.perf_counter()
                r: Any = client.get(path, headers={"Accept": "text/html"})
                times.append(time.perf_counter() - t0)
                status = r.status_code
            cold, warm = times[0], times[1:]
            rows.append((name.removeprefix("bench-"), path[:70], cold, statistics.median(warm), max(warm), status))
    print(f"{'reader':<11} {'page':<72} {'cold ms':>8} {'median ms':>9} {'max ms':>8} status")
    for who, path, cold, med, worst, status in rows:
        print(f"{who:<11} {path:<72} {cold * 1000:8.0f} {med * 1000:9.0f} {worst * 1000:8.0f} {status}")
    medians = [r[3] for r in rows]
    print(f"pages: {len(rows)}; median of medians {statistics.median(medians) * 1000:.0f} ms; "
          f"slowest median {max(medians) * 1000:.0f} ms; over 1 s: {sum(m > 1 for m in medians)}")  # fmt: skip


if __name__ == "__main__":
    main()
