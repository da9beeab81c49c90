"""Every table of the platform, in one place, so migrations and queries agree.

Tables that are small-rowed and always reached by their key are WITHOUT ROWID on SQLite (one B-tree, not
a row tree plus a key index: half the random page writes per row at capture; migration 0003).

Quantities are integer grams and contained element integer milligrams: sums are then exact and identical
on every engine, whatever the order of addition. Times are naive UTC datetimes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL wants BIGINT for a ledger that grows.
Seq = BigInteger().with_variant(Integer(), "sqlite")

URI = String(512)


def _present(column: Column[Any]) -> dict[str, Any]:
    """A partial index over a column's non-NULL values, for columns that most rows leave empty and that are
    only ever looked up by value: rows without a value then cost the index nothing (migration 0003)."""
    return {"sqlite_where": column.is_not(None), "postgresql_where": column.is_not(None)}


# --- ledger: the single source of truth -------------------------------------------------------------
ledger = Table(
    "ledger",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # event | enterprise | facility | licence | declaration
    Column("key", URI, nullable=False),  # eventID, party id, location id, licence_no, declaration_no
    Column("digest", String(64), nullable=False),  # SHA-256 of the canonical body
    Column("body", Text, nullable=False),  # canonical JSON (RFC 8785) of the record as received
    Column("recorded_at", DateTime, nullable=False),
    Column("hash", String(64), nullable=False),  # SHA-256(previous hash ‖ canonical record)
)
# No (kind, key) index: the newest record of a key is the one its projection row names by `seq` (see
# `LedgerWriter.latest_digests`); an index led by random eventIDs cost a random page write per record.

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),  # ledger head at signing
    Column("head_hash", String(64), nullable=False),
    Column("signed_at", DateTime, nullable=False),
    Column("public_key", String(64), nullable=False),  # Ed25519 raw public key, hex
    Column("signature", String(128), nullable=False),  # hex
    Column("key_id", String(64)),  # SHA-256 of the raw public key; NULL on rows signed before migration 0017
    Column("prev_seq", BigInteger),  # the checkpoint before this one (0 for the first); NULL before 0017
)

# Every key that has signed the ledger, in order (migration 0017): the first as registered, each later one
# with its hand-over, the previous key's signature over the new public key (ledger/keys.py).
signing_keys = Table(
    "signing_keys",
    metadata,
    Column("key_id", String(64), primary_key=True),
    Column("public_key", String(64), nullable=False),
    Column("since_seq", BigInteger, nullable=False),  # the ledger head when it took over; it signs after it
    Column("created_at", DateTime, nullable=False),
    Column("previous", String(64)),
    Column("handover", String(128)),
)

# Where each follower of the ledger (projections, alert process) has read up to.
cursors = Table(
    "cursors",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("seq", BigInteger, nullable=False),
)

# --- registry ----------------------------------------------------------------------------------------
enterprises = Table(
    "enterprises",
    metadata,
    Column("party_id", URI, primary_key=True),
    Column("uscc", String(18), nullable=False),
    Column("name", String(512), nullable=False),
    Column("province", String(8), nullable=False),
    Column("stages", Text, nullable=False),  # JSON list
    Column("registered", Date),
    Column("seq", BigInteger, nullable=False),
)
Index("ix_enterprises_uscc", enterprises.c.uscc)

facilities = Table(
    "facilities",
    metadata,
    Column("location_id", URI, primary_key=True),
    Column("owner", URI, nullable=False),
    Column("type", String(16), nullable=False),
    Column("province", String(8), nullable=False),
    Column("capacity_kg_per_year", Float),
    Column("seq", BigInteger, nullable=False),
)
Index("ix_facilities_owner", facilities.c.owner)

# --- chain projections (rebuildable from the ledger) -------------------------------------------------
events = Table(
    "events",
    metadata,
    Column("event_id", URI, primary_key=True),
    Column("seq", BigInteger, nullable=False),  # ledger record of the (latest) capture
    Column("event_type", String(32), nullable=False),
    Column("action", String(8)),
    Column("biz_step", String(128)),
    Column("stage", String(16)),
    Column("event_time", DateTime, nullable=False),
    Column("biz_location", URI),
    Column("read_point", URI),
    Column("waybill", URI),
    Column("declaration_no", String(64)),
    Column("source_party", URI),
    Column("dest_party", URI),
    Column("dest_location", URI),
    Column("retracted", Boolean, nullable=False, default=False),
    # Ledger record of the event itself (without errorDeclaration); NULL while only a declaration is on record.
    Column("original_seq", BigInteger),
    # JSON {"reading": ..., "departures": [[field, reason], ...]}: how an event off the stage profile was read,
    # and where it departs from it (rule intake.off_profile); NULL for an event that follows the profile.
    Column("off_profile", Text),
)
Index("ix_events_waybill", events.c.waybill, **_present(events.c.waybill))
Index("ix_events_declaration", events.c.declaration_no, **_present(events.c.declaration_no))
Index("ix_events_time", events.c.event_time)
# The events at an enterprise's facilities, newest first (the dossier's flows and timeline; migration 0019).
Index("ix_events_location", events.c.biz_location, events.c.event_time)
# Capture asks whether each incoming event was retracted; few are, so the index holds only those (migration 0018).
Index("ix_events_retracted", events.c.event_id, sqlite_where=events.c.retracted, postgresql_where=events.c.retracted)

lots = Table(
    "lots",
    metadata,
    Column("lot_id", URI, primary_key=True),
    Column("material", String(64)),
    Column("element", String(8)),
    Column("grade", Float),
    Column("mass_g", BigInteger, nullable=False),  # created quantity
    Column("element_mg", BigInteger),  # contained controlled element at creation
    Column("created_event", URI, nullable=False),
    Column("created_stage", String(16)),
    Column("created_location", URI),
    Column("created_at", DateTime, nullable=False),
    sqlite_with_rowid=False,
)
# The lots list, newest first (web/trace.py, migration 0021): read in creation order it stops after a page of
# visible lots. The place a lot was made is in the index (and, on SQLite, the lot id that ends every entry)
# so the visibility predicate is decided from the index, and only the listed lots visit the table.
Index("ix_lots_made", lots.c.created_at, lots.c.created_location)

# What each event did to each lot: the atoms every other projection and rule is summed from.
# role: created | input | output | observed | shipped | received | sold | exported
# Keyed by the ledger sequence number of the event's capture (equal to `events.seq` while the event is live,
# and its rows are removed when it is retracted): captures append at the end of this B-tree, where a key
# led by the random eventID would write one random page per row (migration 0004). By event: join on seq.
# A row also says where the event took the lot from and put it to, and whose it was on each side: the
# signed movements that `positions` sums (a draw of `grams` from `from_place`, an addition at `to_place`;
# NULL where the role has no such side). Kept here, not in a table of their own, they cost capture no
# extra rows (migration 0005).
event_lots = Table(
    "event_lots",
    metadata,
    Column("seq", BigInteger, primary_key=True),
    Column("lot_id", URI, primary_key=True),
    Column("role", String(16), primary_key=True),
    Column("event_id", URI, nullable=False),
    Column("grams", BigInteger, nullable=False),
    Column("event_time", DateTime, nullable=False),
    Column("from_place", URI),
    Column("from_owner", URI),  # '' when the holder is unknown
    Column("to_place", URI),
    Column("to_owner", URI),
    sqlite_with_rowid=False,
)
Index("ix_event_lots_lot", event_lots.c.lot_id)
# A facility's monthly flows (rules/monthly_flows.py, migration 0019): what is put at a place (made, put out,
# received) and what is drawn from it (put in, shipped) by place and time, and exports by the exporter and
# time. Partial, so the rows of other roles (sales, and the waybill sides of shipments, which would land at
# random leaves) cost capture nothing; carrying the grams, and the lot and role (on SQLite the primary key
# that ends every index entry of this table, on PostgreSQL included), each answers its read from the index.
PUT_ROLES = ("created", "output", "received")
DRAW_ROLES = ("input", "shipped")


def _of_roles(*roles: str) -> dict[str, Any]:
    where = event_lots.c.role.in_(roles) if len(roles) > 1 else event_lots.c.role == roles[0]
    return {"sqlite_where": where, "postgresql_where": where, "postgresql_include": ["lot_id", "role"]}


_el = event_lots.c
Index("ix_event_lots_put", _el.to_place, _el.event_time, _el.grams, **_of_roles(*PUT_ROLES))
Index("ix_event_lots_draw", _el.from_place, _el.event_time, _el.grams, **_of_roles(*DRAW_ROLES))
Index("ix_event_lots_exported", _el.from_owner, _el.event_time, _el.grams, **_of_roles("exported"))

positions = Table(
    "positions",
    metadata,
    Column("lot_id", URI, primary_key=True),
    Column("place", URI, primary_key=True),
    Column("owner", URI, primary_key=True),
    Column("grams", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

shipments = Table(
    "shipments",
    metadata,
    Column("waybill", URI, primary_key=True),
    Column("origin", URI),
    Column("dest_location", URI),  # declared destination
    Column("dest_party", URI),
    Column("dispatch_event", URI),
    Column("dispatched_at", DateTime),
    Column("grams", BigInteger),
    Column("receipt_event", URI),
    Column("received_at", DateTime),
    Column("received_location", URI),
)

# Keyed by the output lot, which the transformation just made (new lots sort after their maker's earlier ones,
# so captures write near a few ends of the B-tree); that key also serves backward traces (migration 0004).
genealogy = Table(
    "genealogy",
    metadata,
    Column("output_lot", URI, primary_key=True),
    Column("input_lot", URI, primary_key=True),
    Column("event_id", URI, primary_key=True),
    sqlite_with_rowid=False,
)
Index("ix_genealogy_input", genealogy.c.input_lot)

exports = Table(
    "exports",
    metadata,
    Column("event_id", URI, primary_key=True),
    Column("lot_id", URI, primary_key=True),
    Column("declaration_no", String(64), nullable=False),
    Column("port", URI),
    Column("grams", BigInteger, nullable=False),
    Column("event_time", DateTime, nullable=False),
    sqlite_with_rowid=False,
)
Index("ix_exports_declaration", exports.c.declaration_no)

# --- licences and customs ----------------------------------------------------------------------------
licences = Table(
    "licences",
    metadata,
    Column("licence_no", String(64), primary_key=True),
    Column("exporter", URI, nullable=False),
    Column("material", String(64), nullable=False),
    Column("hs_code", String(10), nullable=False),
    Column("quantity_g", BigInteger, nullable=False),
    Column("destination", String(2), nullable=False),
    Column("consignee", String(512), nullable=False),
    Column("end_user", String(512)),
    Column("end_use", Text),
    Column("port", String(8)),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=False),
    Column("status", String(16), nullable=False),
    Column("seq", BigInteger, nullable=False),
)

declarations = Table(
    "declarations",
    metadata,
    Column("declaration_no", String(64), primary_key=True),
    Column("date", Date, nullable=False),
    Column("exporter", URI, nullable=False),
    Column("hs_code", String(10), nullable=False),
    Column("description", Text),
    Column("net_g", BigInteger, nullable=False),
    Column("value_usd", Float, nullable=False),
    Column("destination", String(2), nullable=False),
    Column("consignee", String(512), nullable=False),
    Column("port", String(8)),
    Column("licence_no", String(64)),
    Column("seq", BigInteger, nullable=False),
)
Index("ix_declarations_licence", declarations.c.licence_no)
# An exporter's declarations over a year (the risk score, the dossier; migration 0019).
Index("ix_declarations_exporter", declarations.c.exporter, declarations.c.date)

# --- outside signals ---------------------------------------------------------------------------------
mirror = Table(
    "mirror",
    metadata,
    Column("reporter", String(2), primary_key=True),
    Column("partner", String(2), primary_key=True),
    Column("flow", String(2), primary_key=True),
    Column("cmd", String(6), primary_key=True),
    Column("period", String(6), primary_key=True),
    Column("net_kg", Float, nullable=False),
    Column("value_usd", Float, nullable=False),
)

watchlist = Table(
    "watchlist",
    metadata,
    Column("entity_id", String(256), primary_key=True),
    Column("schema", String(32), nullable=False),
    Column("caption", String(512), nullable=False),
    Column("names", Text, nullable=False),  # JSON list of names, aliases and previous names
    Column("weak_names", Text, nullable=False),  # JSON list of weak aliases and abbreviations (exact match only)
    Column("countries", Text, nullable=False),  # JSON list
    Column("body", Text, nullable=False),
    Column("version", String(64), nullable=False),
)

# --- warning bulletins (bulletins/): issued by a department to chosen departments and provinces -------
bulletins = Table(
    "bulletins",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("issued_at", DateTime, nullable=False),
    Column("issuer", String(128), nullable=False),  # the officer
    Column("department", String(32), nullable=False),  # the issuing department
    Column("province", String(8), nullable=False),  # the issuing level: CN (the centre) or a province
    Column("severity", String(8), nullable=False),
    Column("title", Text, nullable=False),  # JSON {"zh": ..., "en": ...}: what, in the words of the issuer
    Column("body", Text, nullable=False),  # JSON {"zh": ..., "en": ...}: why, and what recipients should do
    Column("names", Text, nullable=False),  # JSON list of {"name", "country"}: consignees it names
    Column("hs_codes", Text, nullable=False),  # JSON list
    Column("enterprises", Text, nullable=False),  # JSON list of party ids
    Column("valid_until", Date, nullable=False),
)
bulletin_recipients = Table(
    "bulletin_recipients",
    metadata,
    Column("bulletin_id", String(40), primary_key=True),
    Column("department", String(32), primary_key=True),
    Column("province", String(8), primary_key=True),  # CN: the department at the centre
    Column("acknowledged_at", DateTime),
    Column("acknowledged_by", String(128)),
    Column("reminded_at", DateTime),
    Column("reminders", Integer, nullable=False),
)

# --- supervision of enterprises (issue 14; migration 0015, docs/supervision.md) ---------------------------
# Monthly reports (feed `reports`) and supervision records (feed `supervision`: reviews, inspections, closures
# of corrective actions, trainings) are ledger records; these tables are their projections, rebuilt from the
# ledger. Risk scores, inspection plans and customs channels are computed and kept with their reasons.
monthly_reports = Table(
    "monthly_reports",
    metadata,
    Column("enterprise", URI, primary_key=True),
    Column("period", String(6), primary_key=True),  # YYYYMM (Beijing time)
    Column("filed_at", DateTime, nullable=False),  # naive UTC
    Column("lines", Text, nullable=False),  # JSON list of {material, produced_g, received_g, ...}
    Column("seq", BigInteger, nullable=False),
)
reviews = Table(
    "reviews",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("enterprise", URI, nullable=False),
    Column("reviewer", String(128), nullable=False),
    Column("date", Date, nullable=False),
    Column("template_version", String(16), nullable=False),
    Column("elements", Text, nullable=False),  # JSON {element: {level, findings, evidence}}
    Column("score", Float, nullable=False),
    Column("seq", BigInteger, nullable=False),
)
Index("ix_reviews_enterprise", reviews.c.enterprise, reviews.c.date)
inspections = Table(
    "inspections",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("enterprise", URI, nullable=False),
    Column("facility", URI),
    Column("province", String(8), nullable=False),
    Column("inspector", String(128), nullable=False),
    Column("date", Date, nullable=False),
    Column("basis", String(16), nullable=False),  # risk | random | follow_up | complaint
    Column("plan", String(64)),  # the inspection plan that picked it
    Column("items", Text, nullable=False),  # JSON list of {item, result, note}
    Column("alerts", Text, nullable=False),  # JSON list of alert ids it looked into
    Column("facility_status", String(8)),  # green | yellow | red set by this inspection
    Column("seq", BigInteger, nullable=False),
)
Index("ix_inspections_enterprise", inspections.c.enterprise, inspections.c.date)
corrective_actions = Table(
    "corrective_actions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("inspection_id", String(64), nullable=False),
    Column("enterprise", URI, nullable=False),
    Column("facility", URI),
    Column("item", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("opened_on", Date, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("seq", BigInteger, nullable=False),
)
Index("ix_corrective_actions_enterprise", corrective_actions.c.enterprise)
action_closures = Table(
    "action_closures",
    metadata,
    Column("action_id", String(64), primary_key=True),
    Column("closed_on", Date, nullable=False),
    Column("by", String(128), nullable=False),
    Column("evidence", Text, nullable=False),  # JSON list of document references
    Column("seq", BigInteger, nullable=False),
)
trainings = Table(
    "trainings",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("date", Date, nullable=False),
    Column("province", String(8), nullable=False),  # CN: held by the centre
    Column("topic", String(32), nullable=False),
    Column("title", Text, nullable=False),  # JSON {"zh": ..., "en": ...}
    Column("guidance", Text, nullable=False),  # JSON list of guidance document ids taught
    Column("seq", BigInteger, nullable=False),
)
training_attendance = Table(
    "training_attendance",
    metadata,
    Column("training_id", String(64), primary_key=True),
    Column("enterprise", URI, primary_key=True),
    Column("attendees", Integer, nullable=False),
)
Index("ix_training_attendance_enterprise", training_attendance.c.enterprise)
# A facility's status as inspections set it; lapses are computed from this history (rules/facility_status.py).
facility_statuses = Table(
    "facility_statuses",
    metadata,
    Column("facility", URI, primary_key=True),
    Column("since", Date, primary_key=True),
    Column("inspection_id", String(64), primary_key=True),
    Column("status", String(8), nullable=False),
)
risk_scores = Table(
    "risk_scores",
    metadata,
    Column("enterprise", URI, primary_key=True),
    Column("as_of", Date, primary_key=True),
    Column("score", Float, nullable=False),
    Column("components", Text, nullable=False),  # JSON list of {component, value, weight, points, basis}
    Column("policy_version", String(16), nullable=False),
    Column("computed_at", DateTime, nullable=False),
)
inspection_plans = Table(
    "inspection_plans",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("province", String(8), nullable=False),
    Column("month", String(7), nullable=False),  # YYYY-MM
    Column("capacity", Integer, nullable=False),
    Column("seed", Integer, nullable=False),
    Column("random_share", Float, nullable=False),
    Column("picks", Text, nullable=False),  # JSON list of {enterprise, basis, score, reasons}
    Column("created_at", DateTime, nullable=False),
)
customs_channels = Table(
    "customs_channels",
    metadata,
    Column("declaration_no", String(64), primary_key=True),
    Column("channel", String(8), nullable=False),  # red | yellow | blue | green
    Column("selection", String(8), nullable=False),  # risk | random | top_up | none
    Column("risk", Float, nullable=False),
    Column("reasons", Text, nullable=False),  # JSON list of message keys with parameters
    Column("seed", Integer, nullable=False),
    Column("assigned_at", DateTime, nullable=False),
)

# --- alerts and their workflow -----------------------------------------------------------------------
alerts = Table(
    "alerts",
    metadata,
    Column("id", String(64), primary_key=True),  # deterministic: rule + subject + finding key
    Column("rule", String(64), nullable=False),
    Column("severity", String(8), nullable=False),
    Column("raised_at", DateTime, nullable=False),
    Column("subject_kind", String(16), nullable=False),
    Column("subject_id", URI, nullable=False),
    Column("jurisdiction", String(8), nullable=False),
    Column("party", URI),  # the enterprise concerned, when one is: for risk ranking and supervision
    Column("departments", Text, nullable=False),  # JSON list
    Column("evidence", Text, nullable=False),  # JSON list
    # What was found, as a message key and its JSON parameters, rendered in the reader's language (i18n/).
    Column("message_key", String(96), nullable=False),
    Column("message_params", Text, nullable=False),
    Column("details", Text),  # JSON object: figures behind the message, for `explain`
    Column("settles_at", DateTime),  # provisional until then (rules/rule.py Settling); NULL: at the next settling
    Column("settled_at", DateTime),  # when it reached the officers' queue; NULL while provisional
    Column("withdrawn_at", DateTime),  # set while the newest system entry of its log is a withdrawal
    # The fold of its decision log (alerts/workflow.py), kept here for queues and access filters.
    Column("status", String(16), nullable=False),  # new | assigned | investigating | actioned | dismissed
    Column("level", String(8), nullable=False),  # province | central: where it is worked
    Column("handed_to", String(8)),  # the province the centre handed it down to
    Column("shared_with", Text, nullable=False),  # JSON list of departments it was shared with
    Column("acknowledged_at", DateTime),  # the first officer's action; NULL: nobody has acted yet
)
Index("ix_alerts_rule_subject", alerts.c.rule, alerts.c.subject_id)
Index("ix_alerts_jurisdiction", alerts.c.jurisdiction)
Index("ix_alerts_party", alerts.c.party)
Index("ix_alerts_level_status", alerts.c.level, alerts.c.status)

alert_actions = Table(
    "alert_actions",
    metadata,
    Column("id", Seq, primary_key=True, autoincrement=True),
    Column("alert_id", String(64), nullable=False),
    Column("action", String(16), nullable=False),  # alerts/workflow.py ACTIONS, and the system's own
    Column("actor", String(128), nullable=False),
    Column("department", String(32)),
    Column("note", Text),
    Column("at", DateTime, nullable=False),
    Column("province", String(8)),  # hand_down: to which province
    Column("attachment", String(64)),  # attach: the content hash in `attachments`
)
Index("ix_alert_actions_alert", alert_actions.c.alert_id)

# Files officers attach to alerts (photos, inspection reports), stored once by content hash.
attachments = Table(
    "attachments",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("media_type", String(128), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("stored_at", DateTime, nullable=False),
)

# --- added for the rule engine (issue 3): a capture-time run looks subjects up by these ---------------
# Who received a transfer (party.unregistered, scope widening), which exports carried a lot
# (trace.no_provenance, declaration.misclassified), and which shipments are still open (transit.not_received).
Index("ix_events_dest_party", events.c.dest_party, **_present(events.c.dest_party))
Index("ix_exports_lot", exports.c.lot_id)
Index("ix_shipments_open", shipments.c.received_at, shipments.c.dispatched_at)
# One kind of movement for the full scan's rules (migration 0020), partial and appended to by capture:
# transformations' inputs and outputs, covering what balance.transformation reads, and what was made or
# shipped by time (supervision.suspended_facility). A rule's statement names the roles as the index does,
# written into the SQL, so SQLite can tell the index applies.
TRANSFORMED_ROLES = ("input", "output")
MADE_OR_SHIPPED_ROLES = ("created", "output", "shipped")
_transformed = event_lots.c.role.in_(TRANSFORMED_ROLES)
_made_or_shipped = event_lots.c.role.in_(MADE_OR_SHIPPED_ROLES)
Index(
    "ix_event_lots_transformed",
    event_lots.c.seq,
    event_lots.c.event_id,
    event_lots.c.grams,
    sqlite_where=_transformed,
    postgresql_where=_transformed,
    postgresql_include=["lot_id", "role"],
)
Index(
    "ix_event_lots_made_time",
    event_lots.c.event_time,
    sqlite_where=_made_or_shipped,
    postgresql_where=_made_or_shipped,
)

# --- identity, access and audit (issue 13; migration 0010) -------------------------------------------
# Who may sign in and as what. Role, province, department and parties are read on every request, so a grant
# or a disabling takes effect at once, whatever tokens are still out.
users = Table(
    "users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("password_hash", String(255)),  # argon2id (PHC string); NULL for an account that signs in by key only
    Column("role", String(32), nullable=False),
    Column("province", String(8)),
    Column("department", String(32)),
    Column("parties", Text, nullable=False),  # JSON list of party ids an enterprise account acts for
    Column("api", Boolean, nullable=False),  # an API account: may sign in with HTTP Basic
    Column("created_at", DateTime, nullable=False),
    Column("disabled_at", DateTime),
)

# Keys are `otk_<key_id>_<secret>`; only a SHA-256 of the secret is kept (the secret is 256 random bits, so a
# slow hash buys nothing and would cost every request).
api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("user", String(64), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("label", String(128), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Column("revoked_at", DateTime),
    Column("replaces", String(32)),  # the key this one rotated out
)
Index("ix_api_keys_user", api_keys.c.user)

# Refresh tokens, kept as SHA-256 digests; each is used once and replaced by the next of its family, and a
# used one presented again revokes the whole family (someone else holds a copy).
refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user", String(64), nullable=False),
    Column("family", String(32), nullable=False),
    Column("issued_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Column("used_at", DateTime),
    Column("revoked_at", DateTime),
)
Index("ix_refresh_tokens_family", refresh_tokens.c.family)

# Failed sign-ins, counted per account and per client address over a sliding window (access/throttle.py).
signin_failures = Table(
    "signin_failures",
    metadata,
    Column("id", Seq, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False),
    Column("client", String(64), nullable=False),
    Column("at", DateTime, nullable=False),
)
Index("ix_signin_failures_user", signin_failures.c.username, signin_failures.c.at)
Index("ix_signin_failures_client", signin_failures.c.client, signin_failures.c.at)

# Every read and write of protected data, denials included: append-only and hash-chained like the ledger
# (`hash` = SHA-256(previous hash ‖ canonical header of the entry); access/audit.py).
audit = Table(
    "audit",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", DateTime, nullable=False),
    Column("actor", String(64)),  # user name; NULL when no identity was given or it did not hold
    Column("role", String(32)),
    Column("action", String(32), nullable=False),  # read | capture | act | signin | refresh | users.add | ...
    Column("kind", String(32), nullable=False),  # object kind (access/permissions.toml), or user / key
    Column("object", String(512), nullable=False),  # the object's id, or the query asked
    Column("outcome", String(16), nullable=False),  # allowed | denied | unauthenticated | refused | throttled | failed
    Column("status", Integer),  # HTTP status, NULL from the CLI
    Column("client", String(64), nullable=False),  # client address, or `cli`
    Column("detail", Text, nullable=False),  # method and path, or the reason of a denial
    Column("digest", String(64), nullable=False),  # SHA-256 of the canonical entry
    Column("hash", String(64), nullable=False),
)
Index("ix_audit_actor", audit.c.actor, audit.c.seq)
Index("ix_audit_at", audit.c.at)

# Uploads through the enterprise portal (web/portal.py, migration 0016): the uploader, the document, and the
# report of what became of it (JSON: counts and per-event outcomes, or the refusal naming record and field).
web_uploads = Table(
    "web_uploads",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("user", String(64), nullable=False),
    Column("feed", String(16), nullable=False),
    Column("document", String(512), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("at", DateTime, nullable=False),
    Column("outcome", String(16), nullable=False),  # stored | refused | denied
    Column("report", Text, nullable=False),
)
Index("ix_web_uploads_user_at", web_uploads.c.user, web_uploads.c.at)


# --- EPCIS 2.0 REST binding (issue 13 §1): query index, capture jobs, named queries, subscriptions -----
# The query index follows the ledger (cursor `epcis_index`): one row per ledger record of kind event, the
# original and its errorDeclaration alike, with the fields the binding's fixed-name parameters filter on.
# Times are naive UTC; vocabulary values are folded to their CBV short names, as intake folds them.
epcis_events = Table(
    "epcis_events",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),  # the ledger record
    Column("event_id", URI, nullable=False),
    Column("event_type", String(128), nullable=False),
    Column("action", String(8)),
    Column("event_time", DateTime, nullable=False),
    Column("record_time", DateTime, nullable=False),
    Column("biz_step", URI),
    Column("disposition", URI),
    Column("read_point", URI),
    Column("biz_location", URI),
    Column("transformation_id", URI),
    Column("error_time", DateTime),  # errorDeclaration.declarationTime; NULL: no errorDeclaration
    Column("error_reason", URI),
)
Index("ix_epcis_events_event_id", epcis_events.c.event_id)
Index("ix_epcis_events_time", epcis_events.c.event_time)
# EQ_bizLocation with eventTime order, and recordTime order (keyset on record_time, seq): migration 0018.
Index(
    "ix_epcis_events_location",
    epcis_events.c.biz_location,
    epcis_events.c.event_time,
    **_present(epcis_events.c.biz_location),
)
Index("ix_epcis_events_record_time", epcis_events.c.record_time, epcis_events.c.seq)

# Every multi-valued field an EPCIS query matches on: kind is epc | parent | input_epc | output_epc |
# class | input_class | output_class | pd_set | pd_unset | corrective | sensor:<attribute>;
# `quantity` is set for the class kinds that carry one.
epcis_values = Table(
    "epcis_values",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("n", Integer, primary_key=True, autoincrement=False),  # position among the record's values
    Column("kind", String(32), nullable=False),
    Column("value", Text, nullable=False),
    Column("quantity", Float),
)
Index("ix_epcis_values_lookup", epcis_values.c.kind, epcis_values.c.value)

# POST /capture and POST /capture/{feed} jobs; they outlive the process that ran them.
capture_jobs = Table(
    "capture_jobs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("feed", String(16), nullable=False),
    Column("document", String(512), nullable=False),  # name given by X-Document-Name, or the job's own
    Column("created_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("running", Boolean, nullable=False),
    Column("success", Boolean, nullable=False),
    Column("error_behaviour", String(8), nullable=False),  # rollback | proceed
    Column("errors", Text, nullable=False),  # JSON list of RFC 7807 problems
    Column("report", Text),  # JSON: what the capture did (counts, per-event outcomes)
    Column("owner", String(64)),  # the user who started it (users.name); NULL: made before identity
)
Index("ix_capture_jobs_created", capture_jobs.c.created_at)
Index("ix_capture_jobs_owner", capture_jobs.c.owner, capture_jobs.c.created_at)

epcis_queries = Table(
    "epcis_queries",
    metadata,
    Column("name", String(256), primary_key=True),
    Column("query", Text, nullable=False),  # JSON object of EPCIS query parameters
    Column("created_at", DateTime, nullable=False),
    Column("owner", String(64)),  # the user who created it; NULL: made before identity
)

# A subscription's position is the last ledger seq its receiver acknowledged (2xx): nothing after it is
# skipped, nothing up to it is sent again.
epcis_subscriptions = Table(
    "epcis_subscriptions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("query_name", String(256), nullable=False),
    Column("dest", Text, nullable=False),
    Column("secret", Text),  # signatureToken, the HMAC key of GS1-Signature
    Column("stream", Boolean, nullable=False),
    Column("schedule", Text),  # JSON {second, minute, hour, dayOfMonth, month, dayOfWeek}
    Column("report_if_empty", Boolean, nullable=False),
    Column("initial_record_time", DateTime),
    Column("position", BigInteger, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("last_notified_at", DateTime),
    Column("last_run_at", DateTime),
    Column("last_error", Text),
    # The user who subscribed: deliveries carry only what they may see now; NULL (made before identity): nothing.
    Column("owner", String(64)),
)
Index("ix_epcis_subscriptions_query", epcis_subscriptions.c.query_name)

# --- notifications (issue 13 §6, docs/notifications.md; migration 0011) --------------------------------------
# Written in the transaction of the change it announces; `seq` is the order publishers follow. On PostgreSQL
# writers take an advisory lock first (notify/outbox.py), so rows commit in `seq` order and a follower that
# has read up to N never sees a smaller seq appear later. AUTOINCREMENT on SQLite: a seq is never reused.
outbox = Table(
    "outbox",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False),  # the message id (Nats-Msg-Id, webhook-id): a UUID
    Column("kind", String(32), nullable=False),  # alert.settled | alert.escalated | alert.shared | bulletin.issued
    Column("subject", String(255), nullable=False),
    Column("payload", Text, nullable=False),  # JSON
    Column("created_at", DateTime, nullable=False),
    sqlite_autoincrement=True,
)

# Systems that do not speak NATS: each subscription follows the outbox with a position of its own, advanced
# only when its receiver answers 2xx. The publisher's position for JetStream is a row of `cursors`.
webhooks = Table(
    "webhooks",
    metadata,
    Column("id", Seq, primary_key=True, autoincrement=True),
    Column("url", String(2048), nullable=False),
    Column("subjects", String(255), nullable=False),  # NATS-style filter: `*` one token, `>` the rest
    Column("secret", String(255), nullable=False),  # HMAC-SHA256 key (Standard Webhooks `whsec_…`)
    Column("position", BigInteger, nullable=False),  # outbox seq delivered (or passed over) up to
    Column("created_at", DateTime, nullable=False),
    Column("disabled_at", DateTime),
    Column("failures", Integer, nullable=False),  # consecutive failed attempts, for `oretrail notify status`
    Column("last_error", Text),
    sqlite_autoincrement=True,
)
