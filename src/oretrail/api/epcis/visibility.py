"""The seam for access control: which stored events the caller may see.

Every query of the binding (GET /events and its filtered views, the browse lists, named queries, webhook
and websocket deliveries) adds this predicate to its WHERE clause, so access by role and jurisdiction is
applied in one place, in the database, before paging (a page never comes back short because rows were
dropped after the query). Identity and permissions are built separately (issue 13 §2–3); until they land
every caller sees every event and this returns None.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement
from starlette.requests import HTTPConnection


def event_filter(request: HTTPConnection | None) -> ColumnElement[bool] | None:
    """A condition over `storage.schema.epcis_events` (and anything joined to it by `seq`) that keeps the
    events `request`'s caller may see; None: no restriction. `request` is None for deliveries made by the
    server itself (webhooks), which will carry the subscriber's identity once subscriptions have owners."""
    del request
    return None
