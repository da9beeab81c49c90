"""The supervision policy (policy.toml) read once: score weights, planning's random share, channel lanes."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any


@cache
def policy(path: str | None = None) -> dict[str, Any]:
    """The packaged policy, or an operator's file in its place (same shape, checked here)."""
    text = Path(path).read_text() if path else files("oretrail.supervision").joinpath("policy.toml").read_text()
    raw = tomllib.loads(text)
    weights = raw["score"]["weights"]
    if abs(sum(weights.values()) - 100) > 1e-9:
        raise ValueError(f"policy score.weights must add up to 100, not {sum(weights.values())}")
    if not 0 <= raw["plan"]["random_share"] <= 1:
        raise ValueError("policy plan.random_share must lie in 0..1")
    ch = raw["channels"]
    for lane in ("red", "yellow", "blue"):
        if not 0 <= ch["random"][lane] <= ch["expected"][lane] <= 1:
            raise ValueError(f"policy channels: 0 <= random.{lane} <= expected.{lane} <= 1")
    return raw
