"""Accounts: who may sign in, with which role, province, department and parties.

The first administrator is made from the CLI (`oretrail users add`), which works on the database directly;
everything else signs in through it. A role's needs (permissions.toml `needs`) are checked whenever an account
is made or granted, so no provincial officer exists without a province and no enterprise account without the
parties it acts for.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, insert, select, update

from oretrail.access.caller import Caller
from oretrail.access.passwords import hash_password
from oretrail.access.permissions import table
from oretrail.clock import utcnow
from oretrail.i18n.message import Message, said_of
from oretrail.ids import PARTY_PREFIX
from oretrail.registry.provinces import is_cn_province
from oretrail.rules.rule import DEPARTMENTS
from oretrail.storage.schema import refresh_tokens, users

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
FOREIGN_PARTY_PREFIX = "urn:oretrail:party:foreign:"


class UserError(ValueError):
    """An account cannot be made or changed as asked; the message names the account and the field."""


ROLE_UNKNOWN = Message("user.role_unknown", "{name}: role {role} is unknown; one of {roles}")
ROLE_NEEDS = Message("user.role_needs", "{name}: role {role} needs {missing:and}")
NOT_A_PROVINCE = Message(
    "user.not_a_province", "{name}: province {province} is not an ISO 3166-2 code of China (e.g. CN-JX)"
)
DEPARTMENT_UNKNOWN = Message("user.department_unknown", "{name}: department {department} is unknown; one of {known}")
NOT_A_PARTY = Message("user.not_a_party", "{name}: party {party} is not a party id ({prefix}<USCC>)")
BAD_NAME = Message(
    "user.bad_name", "{name}: a user name is 1-64 letters, digits and . _ @ - (starting with a letter or digit)"
)
EXISTS = Message("user.exists", "{name}: the account exists (use `oretrail users grant` to change it)")
BAD_PASSWORD = Message("user.bad_password", "{name}: {reason}")
NO_USER = Message("user.none", "no user {name}")


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: str
    province: str | None
    department: str | None
    parties: tuple[str, ...]
    api: bool
    created_at: datetime
    disabled_at: datetime | None
    password_hash: str | None

    def caller(self, via: str) -> Caller:
        return Caller(self.name, self.role, self.province, self.department, self.parties, via)

    def record(self) -> dict[str, Any]:
        """The account as a listing shows it: never the hash."""
        return {
            "name": self.name,
            "role": self.role,
            "province": self.province,
            "department": self.department,
            "parties": list(self.parties),
            "api": self.api,
            "created_at": self.created_at,
            "disabled_at": self.disabled_at,
        }


def _user(row: Any) -> User:
    return User(
        row.name,
        row.role,
        row.province,
        row.department,
        tuple(orjson.loads(row.parties)),
        bool(row.api),
        row.created_at,
        row.disabled_at,
        row.password_hash,
    )


def _check(name: str, role: str, province: str | None, department: str | None, parties: Sequence[str]) -> None:
    roles = table().roles
    if role not in roles:
        raise UserError(ROLE_UNKNOWN(name=name, role=repr(role), roles=", ".join(roles)))
    given = {"province": province, "department": department, "parties": parties}
    missing = [need for need in roles[role].needs if not given[need]]
    if missing:
        raise UserError(ROLE_NEEDS(name=name, role=role, missing=missing))
    if province is not None and not is_cn_province(province):
        raise UserError(NOT_A_PROVINCE(name=name, province=repr(province)))
    if department is not None and department not in DEPARTMENTS:
        raise UserError(DEPARTMENT_UNKNOWN(name=name, department=repr(department), known=", ".join(DEPARTMENTS)))
    for party in parties:
        if not party.startswith((PARTY_PREFIX, FOREIGN_PARTY_PREFIX, "urn:epc:id:pgln:")):
            raise UserError(NOT_A_PARTY(name=name, party=repr(party), prefix=PARTY_PREFIX))


def add_user(
    conn: Connection,
    name: str,
    role: str,
    *,
    password: str | None,
    province: str | None = None,
    department: str | None = None,
    parties: Sequence[str] = (),
    api: bool = False,
) -> User:
    if not NAME.match(name):
        raise UserError(BAD_NAME(name=repr(name)))
    if get_user(conn, name) is not None:
        raise UserError(EXISTS(name=name))
    _check(name, role, province, department, parties)
    try:
        hashed = hash_password(password) if password is not None else None
    except ValueError as exc:
        raise UserError(BAD_PASSWORD(name=name, reason=said_of(exc))) from None
    conn.execute(
        insert(users).values(
            name=name,
            password_hash=hashed,
            role=role,
            province=province,
            department=department,
            parties=orjson.dumps(list(parties)).decode(),
            api=api,
            created_at=utcnow(),
            disabled_at=None,
        )
    )
    user = get_user(conn, name)
    assert user is not None
    return user


def get_user(conn: Connection, name: str) -> User | None:
    row = conn.execute(select(users).where(users.c.name == name)).first()
    return _user(row) if row else None


def active_user(conn: Connection, name: str) -> User | None:
    """The account if it exists and is not disabled: the only ones that may act."""
    user = get_user(conn, name)
    return user if user is not None and user.disabled_at is None else None


def list_users(conn: Connection) -> list[User]:
    return [_user(r) for r in conn.execute(select(users).order_by(users.c.name))]


def _existing(conn: Connection, name: str) -> User:
    user = get_user(conn, name)
    if user is None:
        raise LookupError(NO_USER(name=name))
    return user


def disable_user(conn: Connection, name: str) -> User:
    """Disabled at once: every request re-reads the account, and its refresh tokens are revoked."""
    _existing(conn, name)
    now = utcnow()
    conn.execute(update(users).where(users.c.name == name, users.c.disabled_at.is_(None)).values(disabled_at=now))
    conn.execute(
        update(refresh_tokens)
        .where(refresh_tokens.c.user == name, refresh_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return _existing(conn, name)


def enable_user(conn: Connection, name: str) -> User:
    _existing(conn, name)
    conn.execute(update(users).where(users.c.name == name).values(disabled_at=None))
    return _existing(conn, name)


def grant(
    conn: Connection,
    name: str,
    *,
    role: str | None = None,
    province: str | None = None,
    department: str | None = None,
    parties: Sequence[str] | None = None,
    api: bool | None = None,
) -> User:
    """Change what an account may do; unspecified fields keep their value. A change of role drops the
    attributes the new role does not take unless they are given again."""
    user = _existing(conn, name)
    new_role = role or user.role
    keep = role is None or role == user.role
    new_province = province if province is not None else (user.province if keep else None)
    new_department = department if department is not None else (user.department if keep else None)
    new_parties = tuple(parties) if parties is not None else (user.parties if keep else ())
    _check(name, new_role, new_province, new_department, new_parties)
    conn.execute(
        update(users)
        .where(users.c.name == name)
        .values(
            role=new_role,
            province=new_province,
            department=new_department,
            parties=orjson.dumps(list(new_parties)).decode(),
            api=user.api if api is None else api,
        )
    )
    return _existing(conn, name)


def set_password(conn: Connection, name: str, password: str) -> None:
    _existing(conn, name)
    try:
        hashed = hash_password(password)
    except ValueError as exc:
        raise UserError(BAD_PASSWORD(name=name, reason=said_of(exc))) from None
    conn.execute(update(users).where(users.c.name == name).values(password_hash=hashed))
