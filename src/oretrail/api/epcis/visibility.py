"""Who may call the binding, and which stored events, jobs, queries and subscriptions they see.

Every route of the binding takes one of two dependencies, answered by the permission table
(`access/permissions.toml`): `may_read` (permit read event: event queries, browse lists, named queries and
their subscriptions, capture-job reads, discovery) or `may_capture` (permit capture event: POST /capture and
POST /events, whose events are then checked one by one against the caller's facilities by
`access/capture.py`). Both keep the caller on the request for the route and for `event_filter`.

Every query of the binding (GET /events and its filtered views, the browse lists, named queries, webhook
and websocket deliveries) adds `event_filter` to its WHERE clause, so access by role and jurisdiction is
applied in one place, in the database, before paging: a page never comes back short because rows were
dropped after the query. The predicate is `access/scope.events_visible`, which reads the `events`
projection; the query index joins it by eventID. Every ledger record of kind event has its projection row
(an original and its errorDeclaration share one), so the binding shows exactly the events the rest of the
platform shows the caller, and a rule change in `scope.py` applies to both.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends
from sqlalchemy import ColumnElement, Connection, exists, false
from starlette.requests import HTTPConnection

from oretrail.access.caller import Caller
from oretrail.access.permissions import table
from oretrail.access.scope import events_visible, unconstrained
from oretrail.access.users import active_user
from oretrail.api.auth import permit
from oretrail.storage.schema import epcis_events, events


def _keeping(action: str) -> Any:
    check = permit(action, "event")

    # A default, not Annotated: annotations are strings here, and `check` is no module-level name to find.
    def dependency(connection: HTTPConnection, who: Caller = Depends(check)) -> Caller:
        connection.state.caller = who
        return who

    dependency.__name__ = f"epcis_may_{action}"
    return dependency


may_read = _keeping("read")
may_capture = _keeping("capture")


def caller_of(connection: HTTPConnection) -> Caller:
    """The caller a binding dependency put on the request. A route that forgot its dependency fails loudly
    rather than answering as if nobody were restricted."""
    who = getattr(connection.state, "caller", None)
    if not isinstance(who, Caller):
        raise RuntimeError(f"{connection.url.path}: a binding route without may_read or may_capture")
    return who


def sees_all(who: Caller) -> bool:
    """The caller reads every event (the central office): they also see everyone's capture jobs, named
    queries and subscriptions."""
    return unconstrained(who, "read", "event")


def visible_to(who: Caller | None) -> ColumnElement[bool] | None:
    """A condition over `epcis_events` keeping what `who` may read; None: no restriction; nobody: nothing."""
    if who is None:
        return false()
    alternatives = table().constraints(who, "read", "event")
    if alternatives is None:
        return None
    if not alternatives:
        return false()
    # Correlated on the projection's primary key: a page of the index probes one projection row per candidate
    # and stops at the page's end, instead of first listing every event the caller may see.
    return exists().where(events.c.event_id == epcis_events.c.event_id, events_visible(who))


def event_filter(connection: HTTPConnection) -> ColumnElement[bool] | None:
    """The events the request's caller may see, as a condition over `storage.schema.epcis_events` (and
    anything joined to it by `seq`); None: no restriction."""
    return visible_to(caller_of(connection))


def owner_filter(conn: Connection, owner: str | None) -> ColumnElement[bool] | None:
    """For deliveries the server makes by itself (webhooks, websocket streams): what the subscription's owner
    may see now. The account is read at every delivery, so a grant or a disabling applies at the next one;
    a disabled, removed or absent owner gets nothing."""
    user = active_user(conn, owner) if owner else None
    return visible_to(user.caller("subscription") if user is not None else None)


def owned(column: Any, who: Caller) -> ColumnElement[bool] | None:
    """Rows (capture jobs, named queries, subscriptions) the caller may see: their own; every row for one who
    sees every event. None: no restriction."""
    return None if sees_all(who) else column == who.user  # type: ignore[no-any-return]
