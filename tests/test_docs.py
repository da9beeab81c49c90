"""The README stays true: it opens with the two set-up commands, and every CLI command is documented."""

from __future__ import annotations

from pathlib import Path

import typer.main

from oretrail.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _commands(group: typer.Typer, prefix: str = "") -> set[str]:
    click_group = typer.main.get_group(group)
    names: set[str] = set()
    for name, cmd in click_group.commands.items():
        sub = getattr(cmd, "commands", None)
        if sub:
            names.update(f"{prefix}{name} {s}" for s in sub)
        else:
            names.add(prefix + name)
    return names


def test_readme_opens_with_the_two_commands() -> None:
    block = README.split("```sh\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert block == [
        "python3 -m pip install uv && python3 -m uv run oretrail demo",
        "python3 -m pip install uv && python3 -m uv run pytest",
    ]
    ci = (ROOT / ".ci" / "run").read_text()
    assert block[1] in ci


def test_every_command_is_in_the_readme() -> None:
    commands = _commands(app)
    assert {"demo", "load events", "trace", "verify", "scan", "alerts", "explain"} <= commands
    missing = sorted(c for c in commands if f"oretrail {c}" not in README)
    assert not missing, f"undocumented commands: {missing}"
