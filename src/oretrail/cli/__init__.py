"""The `oretrail` command: one verb per command, the same `--db` and `--format` options everywhere."""

from oretrail.cli import access, alerts, bulletins, chain, export, feeds, i18n, notify, screen, sim, supervision
from oretrail.cli.common import app

__all__ = [
    "access",
    "alerts",
    "app",
    "bulletins",
    "chain",
    "export",
    "feeds",
    "i18n",
    "notify",
    "screen",
    "sim",
    "supervision",
]
