"""The `oretrail` command: one verb per command, the same `--db` and `--format` options everywhere."""

from oretrail.cli import alerts, chain, feeds, notify, screen, sim
from oretrail.cli.common import app

__all__ = ["alerts", "app", "chain", "feeds", "notify", "screen", "sim"]
