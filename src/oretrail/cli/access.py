"""Accounts, API keys and the audit log from the command line.

The CLI works on the database directly, which is how the first administrator comes to exist: whoever may
open the database may make accounts. Each change is written to the audit log in the same transaction, with
the operating-system user as the actor (`cli:<login>`).
"""

from __future__ import annotations

import getpass
import sys
from datetime import datetime
from typing import Annotated

import typer

from oretrail.cli.common import (
    EXIT_TAMPERED,
    DbOption,
    FormatOption,
    app,
    err,
    fail,
    helped,
    lang,
    not_found,
    open_db,
    option_help,
)
from oretrail.i18n.message import Message, said_of
from oretrail.i18n.words import term
from oretrail.output import Format, emit

users_app = typer.Typer(
    no_args_is_help=True, help=helped("users", "Accounts: who may sign in, with which role and scope.")
)
keys_app = typer.Typer(
    no_args_is_help=True, help=helped("keys", "API keys for machine feeds: issued once, stored hashed.")
)
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")

RoleOption = Annotated[
    str, typer.Option("--role", help=option_help("users.role", "A role of access/permissions.toml (docs/access.md)."))
]
ProvinceOption = Annotated[
    str | None, typer.Option("--province", help=option_help("users.province", "ISO 3166-2 code, e.g. CN-JX."))
]
DepartmentOption = Annotated[
    str | None, typer.Option("--department", help=option_help("users.department", "A department of SPEC.md §4."))
]
PartyOption = Annotated[
    list[str] | None,
    typer.Option(
        "--party",
        help=option_help("users.party", "A party id the account acts for (repeatable; enterprises)."),
    ),
]

NEEDS_PASSWORD = Message(
    "cli.users.needs_password",
    "{name}: give the password with --password-stdin (or --no-password for a key-only account)",
)
PASSWORD_FOR = Message("cli.users.password_for", "Password for {name}")
ADDED = Message("cli.users.added", "added {name} ({scope})")
ENABLED = Message("cli.users.enabled", "enabled {name}")
DISABLED = Message("cli.users.disabled", "disabled {name}")
GRANTED = Message("cli.users.granted", "{name}: {scope}")
ISSUED = Message("cli.keys.issued", "{key}\n(key {key_id} for {user}, expires {expires}; shown once: store it now)")
REVOKED = Message("cli.keys.revoked", "revoked {key_id}")
NO_OUTCOME = Message("cli.audit.no_outcome", "no outcome {outcome}; one of {known}")
AUDIT_INTACT = Message("cli.audit.intact", "audit log intact: {entries} entries, head {head}")
AUDIT_TAMPERED = Message("cli.audit.tampered", "audit log TAMPERED: {problem}")


def _actor() -> str:
    try:
        return "cli:" + getpass.getuser()
    except (KeyError, OSError):
        return "cli:unknown"


def _audit(conn: object, action: str, kind: str, obj: str, detail: str) -> None:
    from oretrail.access.audit import Entry, append_in

    append_in(conn, Entry(_actor(), None, action, kind, obj, "allowed", None, "cli", detail))  # type: ignore[arg-type]


def _password(stdin: bool, none: bool, name: str) -> str | None:
    if none:
        return None
    if stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        fail(NEEDS_PASSWORD(name=name))
    return str(typer.prompt(PASSWORD_FOR.render(lang(), name=name), hide_input=True, confirmation_prompt=True))


@users_app.command(
    "add",
    help=helped(
        "users add", "Make an account. The first administrator is made this way (`--role central` or `--role admin`)."
    ),
)
def users_add(
    name: Annotated[str, typer.Argument(help=option_help("users.name", "The user name to sign in with."))],
    role: RoleOption,
    province: ProvinceOption = None,
    department: DepartmentOption = None,
    party: PartyOption = None,
    api: Annotated[
        bool, typer.Option("--api", help=option_help("users.api", "An API account: may sign in with HTTP Basic."))
    ] = False,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help=option_help("users.password_stdin", "Read the password from stdin.")),
    ] = False,
    no_password: Annotated[
        bool,
        typer.Option(
            "--no-password",
            help=option_help("users.no_password", "No password: the account signs in with API keys only."),
        ),
    ] = False,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    from oretrail.access.users import UserError, add_user

    password = _password(password_stdin, no_password, name)
    try:
        with open_db(db).begin() as conn:
            user = add_user(
                conn,
                name,
                role,
                password=password,
                province=province,
                department=department,
                parties=party or (),
                api=api,
            )
            _audit(conn, "users.add", "user", name, f"role {role}")
    except UserError as exc:
        fail(said_of(exc), fmt=fmt)
    emit(user.record(), fmt, text=ADDED.render(lang(), name=name, scope=user.caller("cli").scope()))


@users_app.command("list", help=helped("users list", "Every account with its role and scope (never a password hash)."))
def users_list(db: DbOption = None, fmt: FormatOption = Format.table) -> None:
    from oretrail.access.users import list_users

    with open_db(db).connect() as conn:
        rows = [u.record() for u in list_users(conn)]
    if fmt is Format.table:
        rows = [{**r, "parties": ", ".join(r["parties"])} for r in rows]
    emit(rows, fmt, title="users")


@users_app.command(
    "disable",
    help=helped(
        "users disable",
        "Disable an account at once: its tokens, keys and refresh tokens stop working on the next request.",
    ),
)
def users_disable(
    name: Annotated[str, typer.Argument(help=option_help("users.disable.name", "The account to disable."))],
    enable: Annotated[
        bool, typer.Option("--enable", help=option_help("users.enable", "Enable it again instead."))
    ] = False,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    from oretrail.access.users import disable_user, enable_user

    try:
        with open_db(db).begin() as conn:
            user = enable_user(conn, name) if enable else disable_user(conn, name)
            _audit(conn, "users.enable" if enable else "users.disable", "user", name, "")
    except LookupError as exc:
        not_found(said_of(exc), fmt)
    emit(user.record(), fmt, text=(ENABLED if enable else DISABLED).render(lang(), name=name))


@users_app.command(
    "grant",
    help=helped("users grant", "Change an account's role or scope (and, with --password-stdin, its password)."),
)
def users_grant(
    name: Annotated[str, typer.Argument(help=option_help("users.grant.name", "The account to change."))],
    role: Annotated[str | None, typer.Option("--role", help=option_help("users.grant.role", "A new role."))] = None,
    province: ProvinceOption = None,
    department: DepartmentOption = None,
    party: PartyOption = None,
    api: Annotated[
        bool | None,
        typer.Option("--api/--no-api", help=option_help("users.grant.api", "May sign in with HTTP Basic.")),
    ] = None,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help=option_help("users.grant.password_stdin", "Also set a new password, read from stdin."),
        ),
    ] = False,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    from oretrail.access.users import UserError, grant, set_password

    try:
        with open_db(db).begin() as conn:
            user = grant(conn, name, role=role, province=province, department=department, parties=party, api=api)
            if password_stdin:
                set_password(conn, name, sys.stdin.readline().rstrip("\r\n"))
            _audit(conn, "users.grant", "user", name, user.caller("cli").describe())
    except LookupError as exc:
        not_found(said_of(exc), fmt)
    except UserError as exc:
        fail(said_of(exc), fmt=fmt)
    emit(user.record(), fmt, text=GRANTED.render(lang(), name=name, scope=user.caller("cli").scope()))


@keys_app.command(
    "issue", help=helped("keys issue", "Issue an API key. It is shown once, here; only its hash is stored.")
)
def keys_issue(
    user: Annotated[str, typer.Argument(help=option_help("keys.user", "The account the key signs in as."))],
    label: Annotated[
        str, typer.Option("--label", help=option_help("keys.label", "What the key is for, e.g. 'Jiangxi ERP'."))
    ] = "",
    days: Annotated[
        int, typer.Option("--days", help=option_help("keys.days", "Days until it expires (at most 366)."))
    ] = 90,
    replaces: Annotated[
        str | None,
        typer.Option("--replaces", help=option_help("keys.replaces", "Rotate: the key id this one replaces.")),
    ] = None,
    grace_hours: Annotated[
        float,
        typer.Option(
            "--grace-hours", help=option_help("keys.grace_hours", "With --replaces: hours the old key keeps working.")
        ),
    ] = 0.0,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    from oretrail.access.keys import issue_key

    try:
        with open_db(db).begin() as conn:
            issued = issue_key(conn, user, label or user, days=days, replaces=replaces, grace_hours=grace_hours)
            _audit(
                conn, "keys.issue", "key", issued.key_id, f"for {user}" + (f", replaces {replaces}" if replaces else "")
            )
    except LookupError as exc:
        not_found(said_of(exc), fmt)
    except ValueError as exc:
        fail(said_of(exc), fmt=fmt)
    record = {"key_id": issued.key_id, "user": issued.user, "expires_at": issued.expires_at, "key": issued.key}
    said = ISSUED(key=issued.key, key_id=issued.key_id, user=user, expires=f"{issued.expires_at:%Y-%m-%d}")
    emit(record, fmt, text=said.render(lang()))


@keys_app.command(
    "list", help=helped("keys list", "Keys with their status (active, expired, revoked); never the secret.")
)
def keys_list(
    user: Annotated[
        str | None, typer.Option("--user", help=option_help("keys.list.user", "Only this account's keys."))
    ] = None,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    from oretrail.access.keys import list_keys

    with open_db(db).connect() as conn:
        rows = list_keys(conn, user)
    if fmt is Format.table:
        rows = [{**r, "status": term(r["status"], lang())} for r in rows]
    emit(rows, fmt, title="keys")


@keys_app.command("revoke", help=helped("keys revoke", "Revoke a key at once."))
def keys_revoke(
    key_id: Annotated[
        str, typer.Argument(help=option_help("keys.key_id", "The key id (the part after otk_, before the next _)."))
    ],
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    from oretrail.access.keys import revoke_key

    try:
        with open_db(db).begin() as conn:
            revoke_key(conn, key_id)
            _audit(conn, "keys.revoke", "key", key_id, "")
    except LookupError as exc:
        not_found(said_of(exc), fmt)
    emit({"key_id": key_id, "status": "revoked"}, fmt, text=REVOKED.render(lang(), key_id=key_id))


@app.command(
    help=helped(
        "audit", "The audit log of every read and write of protected data, filtered; or, with --verify, its chain."
    )
)
def audit(
    user: Annotated[
        str | None, typer.Option("--user", help=option_help("audit.user", "Only entries of this user."))
    ] = None,
    action: Annotated[
        str | None,
        typer.Option(
            "--action",
            help=option_help("audit.action", "read, capture, act, signin, refresh, users, keys (or a finer one)."),
        ),
    ] = None,
    since: Annotated[
        datetime | None,
        typer.Option(
            "--since",
            help=option_help("audit.since", "From this UTC time on (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)."),
        ),
    ] = None,
    outcome: Annotated[
        str | None,
        typer.Option(
            "--outcome",
            help=option_help("audit.outcome", "allowed, denied, unauthenticated, refused, throttled or failed."),
        ),
    ] = None,
    verify: Annotated[
        bool,
        typer.Option("--verify", help=option_help("audit.verify", "Walk the hash chain instead; exit 2 if broken.")),
    ] = False,
    limit: Annotated[
        int | None, typer.Option("--limit", help=option_help("audit.limit", "At most this many entries."))
    ] = None,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    from oretrail.access.audit import OUTCOMES, entries
    from oretrail.access.audit import verify as verify_chain

    if outcome and outcome not in OUTCOMES:
        not_found(NO_OUTCOME(outcome=outcome, known=", ".join(OUTCOMES)), fmt)
    with open_db(db).connect() as conn:
        if verify:
            verdict = verify_chain(conn)
            record = {
                "ok": verdict.ok,
                "entries": verdict.entries,
                "head": verdict.head,
                "first_bad_seq": verdict.first_bad_seq,
                "problem": verdict.problem,
            }
            said = (
                AUDIT_INTACT(entries=f"{verdict.entries:,}", head=verdict.head)
                if verdict.ok
                else AUDIT_TAMPERED(problem=verdict.problem)
            )
            words = said.render(lang())
            emit(record, fmt, text=words, console=None if verdict.ok else err)
            if not verdict.ok:
                raise typer.Exit(EXIT_TAMPERED)
            return
        rows = list(entries(conn, user=user, action=action, outcome=outcome, since=since, limit=limit))
    emit(rows, fmt, title="audit")
