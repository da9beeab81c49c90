"""The alert tests read figures from the real catalogue and the packaged defaults, like the rule tests."""

from tests.rules.conftest import cat, cfg

__all__ = ["cat", "cfg"]
