"""Commands over the ledger and the chain: verify, rebuild, trace, summary, and the HTTP server."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text
from rich.tree import Tree

from oretrail.cli.common import (
    EXIT_TAMPERED,
    ConfigOption,
    DbOption,
    FormatOption,
    app,
    err,
    fail,
    not_found,
    open_db,
    out,
)
from oretrail.output import Format, emit


# --- ledger -------------------------------------------------------------------------------------------
@app.command()
def verify(
    db: DbOption = None,
    public_key: Annotated[str | None, typer.Option(help="Trusted Ed25519 public key (hex) of the platform.")] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Walk the hash chain and the signed checkpoints; name the first record that is not as written (exit 2)."""
    from oretrail.ledger.verify import verify as run

    engine = open_db(db)
    with engine.connect() as conn:
        verdict = run(conn, public_key)
    if fmt is not Format.table:
        emit(verdict, fmt)
        if not verdict.ok:
            raise typer.Exit(EXIT_TAMPERED)
    elif verdict.ok:
        out.print(Text(str(verdict), style="green"))
    else:
        fail(str(verdict), EXIT_TAMPERED)


@app.command()
def rebuild(db: DbOption = None, config: ConfigOption = None, fmt: FormatOption = Format.table) -> None:
    """Drop every projection and replay the ledger; the result equals the incrementally kept state. Then every
    rule judges the rebuilt state."""
    from oretrail.feeds import rebuild_all
    from oretrail.rules.config import load_settings

    engine = open_db(db)
    counts = rebuild_all(engine, load_settings(config))
    emit(counts, fmt, console=err, text="rebuilt from the ledger: " + ", ".join(f"{v} {k}" for k, v in counts.items()))


# --- chain --------------------------------------------------------------------------------------------
@app.command()
def trace(
    lot: str,
    backward: Annotated[bool, typer.Option("--backward/--forward", help="To the mines, or to the exports.")] = True,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Trace a lot backward to the mines or forward to the exports, across every stage."""
    from sqlalchemy import select

    from oretrail.chain.trace import trace as run
    from oretrail.storage.schema import event_lots, lots

    engine = open_db(db)
    with engine.connect() as conn:
        if not any(
            conn.execute(select(t.c.lot_id).where(t.c.lot_id == lot).limit(1)).first() for t in (lots, event_lots)
        ):
            not_found(f"no lot {lot}: no stored event names it", fmt)
        node = run(conn, lot, backward)
    if node.origin == "unknown" and not node.via and not node.exports:
        err.print(Text(f"lot {lot} is not created by any stored event", style="yellow"))
    emit(node.as_dict(), fmt, text=render_trace(node, backward))


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
    from oretrail.ledger.checkpoints import SigningKeyError

    try:
        api = create_app(db)
    except SigningKeyError as exc:
        fail(str(exc))
    uvicorn.run(api, host=host, port=port)
