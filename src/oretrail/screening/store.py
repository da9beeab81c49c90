"""The watch list in the database: each load replaces the list as a whole and is a new version.

OpenSanctions and the departments publish whole lists, not changes, so a load is a replacement. The
screening index is built once per version and per process (building 50,000 entities takes seconds; a
capture-time screen of one licence must not).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, delete, func, insert, select

from oretrail.clock import utcnow
from oretrail.errors import IntakeError
from oretrail.i18n.message import Message
from oretrail.ledger.canonical import canonical
from oretrail.screening.entities import WatchlistEntity, read_entities
from oretrail.screening.matcher import DEFAULT_THRESHOLD, Hit, WatchlistIndex
from oretrail.storage.schema import bulletins, watchlist

EMPTY_LIST = Message(
    "intake.watchlist.empty",
    "the file holds no entity: loading it would remove all {count} listed entities; "
    "a list is replaced by a list, never by nothing",
)


@dataclass(frozen=True, slots=True)
class WatchlistLoad:
    entities: int
    version: str
    added: int
    removed: int


def list_version(entities: Iterable[WatchlistEntity]) -> str:
    """A digest of the list's content: the same list loaded twice is the same version."""
    h = hashlib.sha256()
    for e in sorted(entities, key=lambda e: e.id):
        h.update(canonical(e.body))
    return h.hexdigest()[:16]


def load_watchlist(engine: Engine, lines: Iterable[bytes | str], name: str) -> WatchlistLoad:
    entities = list(read_entities(lines, document=name))
    with engine.begin() as conn:
        before = set(conn.execute(select(watchlist.c.entity_id)).scalars())
        if not entities and before:
            # A truncated download or a wrong path must not lift every listing at once: screening would go
            # silent without anyone deciding so.
            raise IntakeError(name, None, None, EMPTY_LIST(count=f"{len(before):,}"), unit="line")
        version = store_entities(conn, entities)
    after = {e.id for e in entities}
    return WatchlistLoad(len(entities), version, len(after - before), len(before - after))


def store_entities(conn: Connection, entities: list[WatchlistEntity]) -> str:
    """Replace the stored list with `entities` in the caller's transaction; returns the new version."""
    rows = watchlist_rows(entities)
    conn.execute(delete(watchlist))
    if rows:
        conn.execute(insert(watchlist), rows)
    return list_version(entities)


def watchlist_rows(entities: list[WatchlistEntity]) -> list[dict[str, str]]:
    """The table rows of a list, each carrying the list's version (its content digest)."""
    version = list_version(entities)
    return [
        {
            "entity_id": e.id,
            "schema": e.schema,
            "caption": e.caption,
            "names": orjson.dumps(list(e.names)).decode(),
            "weak_names": orjson.dumps(list(e.weak_names)).decode(),
            "countries": orjson.dumps(list(e.countries)).decode(),
            "body": orjson.dumps(e.body).decode(),
            "version": version,
        }
        for e in entities
    ]


BULLETIN_PREFIX = "bulletin:"  # entity ids of consignees named by a warning bulletin in force


def current_version(conn: Connection) -> str | None:
    """The version screened against: the loaded list's, plus the bulletins in force that name consignees
    (a bulletin adds its names at once, and drops them when it lapses)."""
    listed = conn.execute(select(func.max(watchlist.c.version))).scalar_one()
    named = bulletin_entities(conn)
    if not named:
        return listed
    return f"{listed or 'none'}+{list_version(named)}"


def bulletin_entities(conn: Connection) -> list[WatchlistEntity]:
    """Consignees named by bulletins in force today, as entities of the screening list."""
    rows = conn.execute(
        select(bulletins.c.id, bulletins.c.names)
        .where(bulletins.c.valid_until >= utcnow().date(), bulletins.c.names != "[]")
        .order_by(bulletins.c.id)
    )
    out = []
    for bulletin_id, names in rows:
        for n, named in enumerate(orjson.loads(names), 1):
            countries = (named["country"].lower(),) if named.get("country") else ()
            body: dict[str, Any] = {"id": f"{BULLETIN_PREFIX}{bulletin_id}:{n}", "schema": "LegalEntity",
                    "properties": {"name": [named["name"]], "country": list(countries)}}  # fmt: skip
            out.append(WatchlistEntity(body["id"], "LegalEntity", named["name"], (named["name"],), (), countries, body))
    return out


def stored_entities(conn: Connection) -> list[WatchlistEntity]:
    return bulletin_entities(conn) + [
        WatchlistEntity(
            id=r.entity_id,
            schema=r.schema,
            caption=r.caption,
            names=tuple(orjson.loads(r.names)),
            weak_names=tuple(orjson.loads(r.weak_names)),
            countries=tuple(orjson.loads(r.countries)),
            body=orjson.loads(r.body),
        )
        for r in conn.execute(select(watchlist).order_by(watchlist.c.entity_id))
    ]


_INDEX: dict[tuple[str, float], WatchlistIndex] = {}


def watchlist_index(conn: Connection, threshold: float = DEFAULT_THRESHOLD) -> WatchlistIndex | None:
    """The index of the stored list version, built once per process; None when no list is loaded."""
    version = current_version(conn)
    if version is None:
        return None
    key = (version, threshold)
    if key not in _INDEX:
        _INDEX.clear()
        _INDEX[key] = WatchlistIndex(stored_entities(conn), threshold=threshold)
    return _INDEX[key]


NO_WATCHLIST = Message("screening.no_watchlist", "no watch list is loaded: run `oretrail load watchlist FILE` first")
NOTHING_TO_SCREEN_AT = Message("screening.nothing_to_screen_at", "{field}: {name!r} has no letter or digit to screen")


class NoWatchlist(LookupError):
    """Raised (with `NO_WATCHLIST`) when names are screened ad hoc before any watch list has been loaded."""


def screen_names(conn: Connection, names: Iterable[str], threshold: float) -> tuple[str, list[Hit]]:
    """Screen names ad hoc against the stored list, as an officer checks a consignee before granting a
    licence; returns the list version screened against and the hits, each name in the order given."""
    version = current_version(conn)
    index = watchlist_index(conn, threshold)
    if index is None or version is None:
        raise NoWatchlist(NO_WATCHLIST())
    return version, index.screen_all(names)
