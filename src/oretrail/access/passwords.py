"""Password hashing: argon2id through argon2-cffi, with its RFC 9106 parameters.

A hash is the PHC string argon2 writes, so stronger parameters later need no migration: `needs_rehash`
tells when a successful sign-in should store a new one.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from oretrail.i18n.message import Message

MIN_LENGTH = 10
TOO_SHORT = Message("password.too_short", "a password needs at least {min} characters")


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


@cache
def _dummy() -> str:
    """A hash to verify against when the account does not exist, so the answer takes as long either way and
    the time taken does not tell which accounts exist."""
    return _hasher().hash("not a password of anyone")


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise ValueError(TOO_SHORT(min=MIN_LENGTH))
    return _hasher().hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True when `password` matches `stored`; an account without a password (key only) never matches."""
    try:
        return _hasher().verify(stored or _dummy(), password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher().check_needs_rehash(stored)
