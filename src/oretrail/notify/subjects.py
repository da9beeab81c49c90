"""The subject scheme: what a message is about, readable from its subject alone (docs/notifications.md).

Subjects are NATS subjects (dot-separated tokens); a receiver filters with NATS wildcards (`*` one token,
`>` the rest), on JetStream consumers and on webhook subscriptions alike, so one filter language serves
both. Provinces are ISO 3166-2 codes (`CN-JX`, or `CN` for the central level), departments SPEC.md §4's.
"""

from __future__ import annotations

import re

from oretrail.i18n.message import Message

ROOT = "oretrail"

ALERT_SETTLED = "alert.settled"
ALERT_ESCALATED = "alert.escalated"
ALERT_SHARED = "alert.shared"
ALERT_HANDED_DOWN = "alert.handed_down"
BULLETIN_ISSUED = "bulletin.issued"
BULLETIN_REMINDED = "bulletin.reminded"
LEDGER_CHECKPOINT = "ledger.checkpoint"
KINDS = (
    ALERT_SETTLED,
    ALERT_ESCALATED,
    ALERT_SHARED,
    ALERT_HANDED_DOWN,
    BULLETIN_ISSUED,
    BULLETIN_REMINDED,
    LEDGER_CHECKPOINT,
)
CHECKPOINT = f"{ROOT}.checkpoint"
"""Every signed checkpoint and key hand-over of the ledger, for witnesses outside the platform."""

# A token carries no separator, no wildcard and no space; anything else NATS accepts is left alone.
_TOKEN = re.compile(r"[^.\s*>]+")


class SubjectError(ValueError):
    pass


def token(value: str, what: str) -> str:
    """`value` as one subject token: a province or department that would split or widen a subject is a bug
    upstream, so it is refused rather than mangled into a subject nobody subscribes to."""
    if not _TOKEN.fullmatch(value or ""):
        raise SubjectError(f"{what} {value!r} cannot be a subject token (no '.', '*', '>' or space)")
    return value


def alert_settled(province: str, department: str) -> str:
    """One per department the alert names: each department's office filters on its own token."""
    return f"{ROOT}.alert.settled.{token(province, 'province')}.{token(department, 'department')}"


def alert_escalated(province: str) -> str:
    """The province the alert moves up from; the centre listens to `oretrail.alert.escalated.>`."""
    return f"{ROOT}.alert.escalated.{token(province, 'province')}"


def alert_shared(department: str, province: str) -> str:
    """The department it is shared with first, so `oretrail.alert.shared.customs.>` is all of customs'."""
    return f"{ROOT}.alert.shared.{token(department, 'department')}.{token(province, 'province')}"


def alert_handed_down(province: str) -> str:
    """The province the centre gives the alert to: each province listens to its own token."""
    return f"{ROOT}.alert.handed_down.{token(province, 'province')}"


def bulletin_reminder(province: str, department: str) -> str:
    """A recipient that has not acknowledged a bulletin in force, reminded."""
    return f"{ROOT}.bulletin.reminder.{token(province, 'province')}.{token(department, 'department')}"


def bulletin(province: str, department: str) -> str:
    """One per recipient (province or `CN`, department) a bulletin is addressed to."""
    return f"{ROOT}.bulletin.{token(province, 'province')}.{token(department, 'department')}"


BAD_FILTER = Message("notify.bad_filter", "subject filter {pattern}: token {n} ({part}) is no token, '*' or final '>'")


def validate_filter(pattern: str) -> str:
    """A subject filter as NATS reads it: tokens, `*` for one token, `>` only as the last token."""
    parts = pattern.split(".")
    for i, part in enumerate(parts):
        if part == ">" and i == len(parts) - 1:
            continue
        if part != "*" and not _TOKEN.fullmatch(part):
            raise SubjectError(BAD_FILTER(pattern=repr(pattern), n=i + 1, part=repr(part)))
    return pattern


def matches(pattern: str, subject: str) -> bool:
    """Whether `subject` falls under the NATS-style filter `pattern`."""
    want, have = pattern.split("."), subject.split(".")
    for i, part in enumerate(want):
        if part == ">":
            return len(have) > i
        if i >= len(have) or (part != "*" and part != have[i]):
            return False
    return len(want) == len(have)
