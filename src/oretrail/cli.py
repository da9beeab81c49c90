"""The `oretrail` command: one verb per command, the same `--db` and `--format` options everywhere."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.tree import Tree
from sqlalchemy import Engine

from oretrail.output import Format, dumps, emit

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="oretrail: full-chain export control of strategic minerals (registry, ledger, trace, alerts).",
)
load_app = typer.Typer(no_args_is_help=True, help="Load a feed (SPEC.md §1) into the database.")
app.add_typer(load_app, name="load")

out = Console()
err = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option("--db", envvar="ORETRAIL_DB", help="Database URL; default a SQLite file oretrail.db here."),
]
FormatOption = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]


def open_db(db: str | None) -> Engine:
    from oretrail.storage.engine import open_database

    return open_database(db)


def progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
        disable=not err.is_terminal and not _force_progress(),
    )


def _force_progress() -> bool:
    import os

    return os.environ.get("ORETRAIL_PROGRESS") == "1"


def fail(message: str, code: int = 1) -> None:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code)


# --- intake -------------------------------------------------------------------------------------------
@load_app.command("events")
def load_events(
    paths: Annotated[list[Path], typer.Argument(help="EPCIS 2.0 JSON/JSON-LD documents, or folders of them.")],
    db: DbOption = None,
) -> None:
    """Capture EPCIS documents; each document lands whole or not at all."""
    from oretrail.intake.errors import IntakeError
    from oretrail.pipeline import Capture, CaptureReport, alert_hook, document_paths, read_bounded

    engine = open_db(db)
    files = document_paths(paths)
    capture = Capture(engine, on_touched=alert_hook())
    total = CaptureReport()
    with progress() as bar:
        task = bar.add_task("events", total=len(files), detail="")
        for f in files:
            try:
                total.add(capture.document(read_bounded(f), str(f)))
            except IntakeError as exc:
                total.errors.append(exc)
                err.print(f"[red]rejected[/red] {exc}", highlight=False)
            bar.update(task, advance=1, detail=f"{total.new} new, {total.unchanged} unchanged")
    err.print(
        f"{total.documents} documents: {total.new} new events, {total.unchanged} unchanged, "
        f"{total.corrections} corrections, {total.alerts_new} new alerts, {len(total.errors)} rejected documents",
        highlight=False,
    )
    if total.errors:
        raise typer.Exit(1)


@load_app.command("registry")
def load_registry(file: Path, db: DbOption = None) -> None:
    """Enterprises and facilities (JSON Lines); re-importing updates, never duplicates."""
    from oretrail.intake.errors import IntakeError
    from oretrail.registry.store import load_registry as load

    engine = open_db(db)
    try:
        n = load(engine, file.read_bytes().splitlines(), str(file))
    except IntakeError as exc:
        fail(str(exc))
    err.print(f"registry: {n.new} new, {n.changed} changed, {n.unchanged} unchanged", highlight=False)


# --- ledger -------------------------------------------------------------------------------------------
@app.command()
def verify(
    db: DbOption = None,
    public_key: Annotated[str | None, typer.Option(help="Trusted Ed25519 public key (hex) of the platform.")] = None,
) -> None:
    """Walk the hash chain and the signed checkpoints; name the first record that is not as written."""
    from oretrail.ledger.verify import verify as run

    engine = open_db(db)
    with engine.connect() as conn:
        verdict = run(conn, public_key)
    if verdict.ok:
        out.print(f"[green]{verdict}[/green]", highlight=False)
    else:
        fail(str(verdict), code=2)


@app.command()
def rebuild(db: DbOption = None) -> None:
    """Drop every projection and replay the ledger; the result equals the incrementally kept state."""
    from oretrail.pipeline import rebuild_all

    engine = open_db(db)
    counts = rebuild_all(engine)
    err.print("rebuilt from the ledger: " + ", ".join(f"{v} {k}" for k, v in counts.items()), highlight=False)


# --- chain --------------------------------------------------------------------------------------------
@app.command()
def trace(
    lot: str,
    backward: Annotated[bool, typer.Option("--backward/--forward", help="To the mines, or to the exports.")] = True,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Trace a lot backward to the mines or forward to the exports, across every stage."""
    from oretrail.chain.trace import trace as run

    engine = open_db(db)
    with engine.connect() as conn:
        node = run(conn, lot, backward)
    if node.origin == "unknown" and not node.via and not node.exports:
        err.print(f"[yellow]lot {lot} is not created by any stored event[/yellow]", highlight=False)
    if fmt is Format.table:
        out.print(render_trace(node, backward))
    else:
        sys.stdout.write(dumps(node.as_dict(), indent=fmt is Format.json) + "\n")


def render_trace(node, backward: bool) -> Tree:  # type: ignore[no-untyped-def]
    def label(n) -> str:  # type: ignore[no-untyped-def]
        grade = f" grade {n.grade:.4g}" if n.grade is not None else ""
        kg = f" {n.kg:,.3f} kg" if n.kg is not None else ""
        mark = " [dim](see above)[/dim]" if n.repeated else ""
        origin = {"mining": "[green]mined[/green]", "unknown": "[red]origin unknown[/red]"}.get(
            n.origin, n.created_stage
        )
        where = f" at {n.location}" if n.location else ""
        return f"[bold]{n.lot}[/bold] {n.material or '?'}{grade}{kg} — {origin}{where}{mark}"

    def grow(tree: Tree, n) -> None:  # type: ignore[no-untyped-def]
        for x in n.exports:
            tree.add(
                f"[magenta]exported[/magenta] {x['kg']:,.3f} kg under declaration {x['declaration_no']} at {x['port']}"
            )
        for step in n.via:
            branch = tree.add(f"[cyan]{step['stage']}[/cyan] {step['event']} at {step['location']} ({step['time']})")
            for child in step["lots"]:
                grow(branch.add(label(child)), child)

    root = Tree(("⟵ backward " if backward else "⟶ forward ") + label(node))
    grow(root, node)
    return root


@app.command()
def summary(db: DbOption = None, fmt: FormatOption = Format.table) -> None:
    """What the database holds, stage by stage."""
    from oretrail.reports import summary_rows

    engine = open_db(db)
    with engine.connect() as conn:
        emit(summary_rows(conn), fmt, title="oretrail summary")


@app.command()
def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Start the HTTP API (OpenAPI documentation at /docs)."""
    import uvicorn

    from oretrail.api.app import create_app

    uvicorn.run(create_app(db), host=host, port=port)
