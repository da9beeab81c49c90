"""The rules as docs/rules.md lists them, written from the declarations (`python -m oretrail.rules.table`
rewrites the block between its markers; a test fails when the two differ), so the docs cannot drift from
what the rules declare."""

from __future__ import annotations

import sys
from pathlib import Path

from oretrail.rules.rule import Queue, Severity
from oretrail.rules.runner import RULES

BEGIN, END = "<!-- rules:begin (written by python -m oretrail.rules.table) -->", "<!-- rules:end -->"


def markdown() -> str:
    rows = [
        "| rule | finds | 发现 | departments | settles | queue | thresholds |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in RULES:
        queue = "leads (low)" if r.queue is Queue.LEADS and r.severity is Severity.SIGNAL else r.queue.value
        thresholds = ", ".join(f"`{t}`" for t in r.thresholds) or "none"
        rows.append(
            f"| `{r.id}` | {r.title} | {r.said('title', 'zh')} | {', '.join(r.departments)} | {r.settling.value} | "
            f"{queue} | {thresholds} |"
        )
    return "\n".join([BEGIN, *rows, END])


def rewrite(doc: Path) -> bool:
    """Put the current table into `doc`; True when it changed."""
    text = doc.read_text()
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    new = head + markdown() + tail
    doc.write_text(new)
    return new != text


if __name__ == "__main__":
    changed = rewrite(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/rules.md"))
    print("docs updated" if changed else "docs already current")
