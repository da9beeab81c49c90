"""The API tests' accounts and small world (tests/api/conftest.py), for the supervision routes."""

from tests.api.conftest import api, world

__all__ = ["api", "world"]
