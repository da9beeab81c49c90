"""docs/access.md shows the permission table as the data says it: the rows are generated from
access/permissions.toml here and must equal the ones in the document."""

from __future__ import annotations

from pathlib import Path

from oretrail.access.permissions import ACTIONS, Permission, table

DOC = Path(__file__).resolve().parents[1] / "docs" / "access.md"


def _grant(p: Permission) -> str:
    kinds = "all" if "*" in p.kinds else ", ".join(sorted(p.kinds))
    where = " and ".join(f"{a} {'/'.join(v)}" for a, v in p.constraint.items())
    who = f" ({'/'.join(sorted(p.departments))} officers)" if p.departments else ""
    return kinds + (f" where {where}" if where else "") + who


def rows() -> list[str]:
    t = table()
    out = []
    for role in t.roles.values():
        cells = []
        for action in ACTIONS:
            grants = [_grant(p) for p in t.permissions if p.role == role.name and action in p.actions]
            cells.append("; ".join(grants) or "–")
        needs = ", ".join(role.needs) or "–"
        out.append(f"| {role.name} | {role.title} | {needs} | " + " | ".join(cells) + " |")
    return out


def test_the_roles_table_in_the_docs_is_the_permission_data() -> None:
    text = DOC.read_text(encoding="utf-8")
    block = text.split("<!-- roles:begin -->\n", 1)[1].split("<!-- roles:end -->", 1)[0].strip().splitlines()
    assert block[2:] == rows(), "regenerate docs/access.md's table: python -m tests.test_access_docs"


if __name__ == "__main__":  # prints the rows to paste between the markers
    print("\n".join(rows()))
