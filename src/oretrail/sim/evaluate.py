"""How well the alerts in a database find planted violations: recall per rule, precision, misses, false alarms.

A label is found when an alert of the same rule (or one of its finer sub-rules) names the same subject.
Precision is judged over alerts of the rules the labels cover; alerts of finer signals that the label set
does not speak about (e.g. `mirror.share_jump`) are counted apart, neither right nor wrong.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

Subject = tuple[str, str]  # (kind, id)


@dataclass(frozen=True, slots=True)
class Label:
    rule: str
    subject: Subject
    note: str = ""


@dataclass
class RuleScore:
    rule: str
    labels: int = 0
    found: int = 0
    alerts: int = 0
    true_alerts: int = 0

    @property
    def recall(self) -> float | None:
        return self.found / self.labels if self.labels else None

    @property
    def precision(self) -> float | None:
        return self.true_alerts / self.alerts if self.alerts else None


@dataclass
class Evaluation:
    rules: dict[str, RuleScore] = field(default_factory=dict)
    misses: list[Label] = field(default_factory=list)
    false_alarms: list[dict[str, Any]] = field(default_factory=list)
    unjudged: dict[str, int] = field(default_factory=dict)  # alerts of rules no label speaks about

    @property
    def precision(self) -> float | None:
        alerts = sum(s.alerts for s in self.rules.values())
        return sum(s.true_alerts for s in self.rules.values()) / alerts if alerts else None

    @property
    def recall(self) -> float | None:
        labels = sum(s.labels for s in self.rules.values())
        return sum(s.found for s in self.rules.values()) / labels if labels else None


def read_labels(lines: Iterable[bytes | str]) -> list[Label]:
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        obj = orjson.loads(line)
        try:
            out.append(Label(obj["rule"], (obj["subject"]["kind"], obj["subject"]["id"]), obj.get("note", "")))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"labels line {n}: needs rule and subject.kind/subject.id ({exc})") from None
    return out


def base_rule(rule: str, known: set[str]) -> str | None:
    """The labelled rule an alert's rule belongs to: itself, or the nearest parent id that labels use."""
    parts = rule.split(".")
    while parts:
        name = ".".join(parts)
        if name in known:
            return name
        parts.pop()
    return None


def evaluate(labels: list[Label], alerts: Iterable[dict[str, Any]], rules: Iterable[str] = ()) -> Evaluation:
    """`rules`: every rule to report on (so a rule with no labels and no alerts still shows)."""
    known = {lb.rule for lb in labels} | set(rules)
    ev = Evaluation(rules={r: RuleScore(r) for r in sorted(known)})
    wanted: dict[tuple[str, Subject], Label] = {(lb.rule, lb.subject): lb for lb in labels}
    for lb in wanted.values():
        ev.rules[lb.rule].labels += 1
    hit: set[tuple[str, Subject]] = set()
    for a in alerts:
        rule = base_rule(a["rule"], known)
        if rule is None:
            ev.unjudged[a["rule"]] = ev.unjudged.get(a["rule"], 0) + 1
            continue
        subject = (a["subject"]["kind"], a["subject"]["id"])
        score = ev.rules[rule]
        score.alerts += 1
        if (rule, subject) in wanted:
            score.true_alerts += 1
            hit.add((rule, subject))
        else:
            ev.false_alarms.append(a)
    for key, lb in wanted.items():
        if key in hit:
            ev.rules[lb.rule].found += 1
        else:
            ev.misses.append(lb)
    return ev
