"""How serious a finding is: the value at stake, and whether the material is licence-controlled.

Policy (docs/rules.md §Severity):
- value at stake = the larger of the declared value and the quantity at stake priced at the catalogue's lower
  reference unit value (the lower bound, so an alert is never inflated by an optimistic price);
- licence-controlled: `critical` from `critical_multiple` × the statutory line, `high` from the line,
  `medium` below it or when the value cannot be told;
- not licence-controlled (an ore, an uncontrolled code): `medium` from the line, `low` below it.
The statutory line is the turnover from which the Export Control Law (art. 34) fines by multiples of it.
Statistical signals (a destination's share jumping, a country without known processing capacity) point
analysts at a trade flow; they prove no violation by themselves, so they are always `low`.
"""

from __future__ import annotations

from oretrail.rules.base import Catalogue, Finding
from oretrail.rules.config import Config
from oretrail.rules.rule import Severity
from oretrail.rules.runner import rule_of

LEVELS = ("low", "medium", "high", "critical")


def value_at_stake(finding: Finding, catalogue: Catalogue) -> float | None:
    material = catalogue.materials.get(finding.material or "")
    priced = finding.stake_g / 1000 * float(material.unit_value_min) if material and material.unit_value_min else None
    values = [v for v in (priced, finding.value_usd) if v is not None]
    return max(values) if values else None


def severity(finding: Finding, catalogue: Catalogue, config: Config) -> str:
    declared = rule_of(finding.rule)
    if declared is not None and declared.severity is Severity.SIGNAL:
        return "low"
    value = value_at_stake(finding, catalogue)
    line = config.statutory_line_usd
    if not finding.controlled:
        return "medium" if value is not None and value >= line else "low"
    if value is None or value < line:
        return "medium"
    return "critical" if value >= line * config.critical_multiple else "high"
