"""Commands over the ledger and the chain: verify, rebuild, trace, summary, and the HTTP server."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text
from rich.tree import Tree

from oretrail.chain.trace import NOT_CREATED
from oretrail.cli.common import (
    EXIT_TAMPERED,
    ConfigOption,
    DbOption,
    FormatOption,
    app,
    err,
    fail,
    helped,
    lang,
    not_found,
    open_db,
    option_help,
    out,
)
from oretrail.i18n.message import Message
from oretrail.i18n.words import stage
from oretrail.output import Format, emit

NO_LOT = Message("cli.no_lot", "no lot {lot}: no stored event names it")
REBUILT = Message("cli.rebuilt", "rebuilt from the ledger: {counts:list}")
GRADE = Message("trace.grade", " grade {grade}")
MINED = Message("trace.mined", "mined")
ORIGIN_UNKNOWN = Message("trace.origin_unknown", "origin unknown")
SEE_ABOVE = Message("trace.see_above", "see above")
AT = Message("trace.at", " at {location}")
EXPORTED = Message("trace.exported", "exported")
EXPORT = Message("trace.export", "{kg} kg under declaration {declaration} at {port}")
STEP = Message("trace.step", "{event} at {location} ({time})")
BACKWARD = Message("trace.backward", "⟵ backward ")
FORWARD = Message("trace.forward", "⟶ forward ")


# --- ledger -------------------------------------------------------------------------------------------
@app.command(
    help=helped(
        "verify",
        "Walk the hash chain and the signed checkpoints; name the first record that is not as written (exit 2).",
    )
)
def verify(
    db: DbOption = None,
    public_key: Annotated[
        str | None,
        typer.Option(help=option_help("verify.public_key", "Trusted Ed25519 public key (hex) of the platform.")),
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    from oretrail.ledger.verify import verify as run

    engine = open_db(db)
    with engine.connect() as conn:
        verdict = run(conn, public_key)
    if fmt is not Format.table:
        emit(verdict, fmt)
        if not verdict.ok:
            raise typer.Exit(EXIT_TAMPERED)
    elif verdict.ok:
        out.print(Text(verdict.said().render(lang()), style="green"))
    else:
        fail(verdict.said(), EXIT_TAMPERED)


@app.command()
def rebuild(db: DbOption = None, config: ConfigOption = None, fmt: FormatOption = Format.table) -> None:
    """Drop every projection and replay the ledger; the result equals the incrementally kept state. Then every
    rule judges the rebuilt state."""
    from oretrail.feeds import rebuild_all
    from oretrail.rules.config import load_settings

    engine = open_db(db)
    counts = rebuild_all(engine, load_settings(config))
    said = REBUILT(counts=[f"{v} {k}" for k, v in counts.items()])
    emit(counts, fmt, console=err, text=said.render(lang()))


# --- chain --------------------------------------------------------------------------------------------
@app.command(help=helped("trace", "Trace a lot backward to the mines or forward to the exports, across every stage."))
def trace(
    lot: str,
    backward: Annotated[
        bool,
        typer.Option("--backward/--forward", help=option_help("trace.backward", "To the mines, or to the exports.")),
    ] = True,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    from sqlalchemy import select

    from oretrail.chain.trace import trace as run
    from oretrail.storage.schema import event_lots, lots

    engine = open_db(db)
    with engine.connect() as conn:
        if not any(
            conn.execute(select(t.c.lot_id).where(t.c.lot_id == lot).limit(1)).first() for t in (lots, event_lots)
        ):
            not_found(NO_LOT(lot=lot), fmt)
        node = run(conn, lot, backward)
    if node.origin == "unknown" and not node.via and not node.exports:
        err.print(Text(NOT_CREATED.render(lang(), lot=lot), style="yellow"))
    emit(node.as_dict(), fmt, text=render_trace(node, backward, lang()))


def render_trace(node, backward: bool, language: str = "en") -> Tree:  # type: ignore[no-untyped-def]
    def label(n) -> str:  # type: ignore[no-untyped-def]
        grade = GRADE.render(language, grade=f"{n.grade:.4g}") if n.grade is not None else ""
        kg = f" {n.kg:,.3f} kg" if n.kg is not None else ""
        mark = f" [dim]({SEE_ABOVE.render(language)})[/dim]" if n.repeated else ""
        origin = {
            "mining": f"[green]{MINED.render(language)}[/green]",
            "unknown": f"[red]{ORIGIN_UNKNOWN.render(language)}[/red]",
        }.get(n.origin, stage(n.created_stage, language))
        where = AT.render(language, location=n.location) if n.location else ""
        return f"[bold]{n.lot}[/bold] {n.material or '?'}{grade}{kg} — {origin}{where}{mark}"

    def grow(tree: Tree, n) -> None:  # type: ignore[no-untyped-def]
        for x in n.exports:
            said = EXPORT.render(language, kg=f"{x['kg']:,.3f}", declaration=x["declaration_no"], port=x["port"])
            tree.add(f"[magenta]{EXPORTED.render(language)}[/magenta] {said}")
        for step in n.via:
            said = STEP.render(language, event=step["event"], location=step["location"], time=step["time"])
            branch = tree.add(f"[cyan]{stage(step['stage'], language)}[/cyan] {said}")
            for child in step["lots"]:
                grow(branch.add(label(child)), child)

    root = Tree((BACKWARD if backward else FORWARD).render(language) + label(node))
    grow(root, node)
    return root


@app.command(help=helped("summary", "What the database holds, stage by stage."))
def summary(db: DbOption = None, fmt: FormatOption = Format.table) -> None:
    from oretrail.reports import summary_rows, summary_words

    engine = open_db(db)
    with engine.connect() as conn:
        rows = summary_rows(conn)
    if fmt is Format.table:
        rows = [{**r, "what": summary_words(r["what"], lang())} for r in rows]
    emit(rows, fmt, title="oretrail summary")


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
