"""Loading the rules' thresholds: the packaged defaults, overridden key by key by an operator's file.

Keeping every number in one TOML file means a reviewer reads the whole policy in one place, with the reason
for each default next to it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from oretrail.rules.base import Catalogue

DEFAULTS = Path(__file__).with_name("defaults.toml")


@dataclass(frozen=True)
class Config:
    transit_limit_days: float
    relative_tolerance: float
    absolute_tolerance_g: int
    overdraw_tolerance_g: int
    unit_value_factor: float
    statutory_line_usd: float
    critical_multiple: float
    max_evidence: int
    # Outside signals (issue 5): partner statistics and the watch list.
    mirror_tolerance_pct: float
    mirror_tolerance_kg: float
    mirror_lag_months: int
    mirror_cif_fob_max: float
    share_jump_ratio: float
    share_jump_trailing_months: int
    share_jump_min_history_months: int
    share_jump_min_points: float
    flow_min_kg: float
    screening_threshold: float
    # Settling (rules/rule.py): when a provisional finding reaches an officer.
    report_deadline_days: int
    feed_days: int
    # Supervision (issue 14): monthly reports, corrective actions, facility status (docs/supervision.md).
    report_due_day: int = 10
    report_tolerance_pct: float = 2.0
    report_tolerance_kg: float = 5.0
    action_days: int = 90
    green_months: int = 12
    yellow_months: int = 3
    red_min_months: int = 6
    blue_max_months: int = 36
    programme_start: date = date(2025, 1, 1)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if k not in base:
            raise ValueError(f"unknown configuration key {k!r}")
        out[k] = _merge(base[k], v) if isinstance(v, dict) and isinstance(base[k], dict) else v
    return out


def load_config(path: str | Path | None = None) -> Config:
    raw = tomllib.loads(DEFAULTS.read_text())
    if path is not None:
        raw = _merge(raw, tomllib.loads(Path(path).read_text()))
    cfg = Config(
        transit_limit_days=float(raw["transit"]["limit_days"]),
        relative_tolerance=float(raw["balance"]["relative_tolerance"]),
        absolute_tolerance_g=int(raw["balance"]["absolute_tolerance_g"]),
        overdraw_tolerance_g=int(raw["licence"]["overdraw_tolerance_g"]),
        unit_value_factor=float(raw["declaration"]["unit_value_factor"]),
        statutory_line_usd=float(raw["severity"]["statutory_line_usd"]),
        critical_multiple=float(raw["severity"]["critical_multiple"]),
        max_evidence=int(raw["evidence"]["max_items"]),
        mirror_tolerance_pct=float(raw["mirror"]["tolerance_pct"]),
        mirror_tolerance_kg=float(raw["mirror"]["tolerance_kg"]),
        mirror_lag_months=int(raw["mirror"]["lag_months"]),
        mirror_cif_fob_max=float(raw["mirror"]["cif_fob_max"]),
        share_jump_ratio=float(raw["mirror"]["share_jump_ratio"]),
        share_jump_trailing_months=int(raw["mirror"]["share_jump_trailing_months"]),
        share_jump_min_history_months=int(raw["mirror"]["share_jump_min_history_months"]),
        share_jump_min_points=float(raw["mirror"]["share_jump_min_points"]),
        flow_min_kg=float(raw["mirror"]["flow_min_kg"]),
        screening_threshold=float(raw["screening"]["threshold"]),
        report_deadline_days=int(raw["settling"]["report_deadline_days"]),
        feed_days=int(raw["settling"]["feed_days"]),
        report_due_day=int(raw["supervision"]["report_due_day"]),
        report_tolerance_pct=float(raw["supervision"]["report_tolerance_pct"]),
        report_tolerance_kg=float(raw["supervision"]["report_tolerance_kg"]),
        action_days=int(raw["supervision"]["action_days"]),
        green_months=int(raw["facility"]["green_months"]),
        yellow_months=int(raw["facility"]["yellow_months"]),
        red_min_months=int(raw["facility"]["red_min_months"]),
        blue_max_months=int(raw["facility"]["blue_max_months"]),
        programme_start=_day(raw["facility"]["programme_start"]),
    )
    if cfg.transit_limit_days <= 0 or cfg.relative_tolerance < 0 or cfg.absolute_tolerance_g < 0:
        raise ValueError("transit limit must be positive and tolerances non-negative")
    if cfg.unit_value_factor < 1 or cfg.critical_multiple < 1:
        raise ValueError("unit_value_factor and critical_multiple must be at least 1")
    if cfg.mirror_lag_months < 0 or cfg.mirror_cif_fob_max < 1 or cfg.share_jump_ratio <= 1:
        raise ValueError("mirror.lag_months must be >= 0, cif_fob_max >= 1 and share_jump_ratio > 1")
    if cfg.report_deadline_days < 0 or cfg.feed_days < 0:
        raise ValueError("settling.report_deadline_days and settling.feed_days must be >= 0")
    if not 1 <= cfg.report_due_day <= 28 or cfg.action_days <= 0:
        raise ValueError("supervision.report_due_day must lie in 1..28 and action_days be positive")
    if min(cfg.green_months, cfg.yellow_months, cfg.red_min_months, cfg.blue_max_months) <= 0:
        raise ValueError("facility durations must be positive")
    if not 0 < cfg.screening_threshold <= 1:
        raise ValueError("screening.threshold must lie in (0, 1]")
    return cfg


def _day(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


@dataclass(frozen=True)
class Settings:
    """What judging needs, built once at an entry point (a CLI command, an API request, a load) and passed
    down, so the thresholds applied when evidence lands are the ones the operator chose for the scan.

    `as_of` is the settling clock: None means the wall clock at the moment of settling; a replay or a
    benchmark that plays out a reporting calendar sets it."""

    config: Config
    catalogue: Catalogue
    as_of: datetime | None = None


def load_settings(path: str | Path | None = None, *, as_of: datetime | None = None) -> Settings:
    from oretrail.catalogue import load_catalogue  # late: the catalogue package reads a data file

    return Settings(load_config(path), load_catalogue(), as_of)
