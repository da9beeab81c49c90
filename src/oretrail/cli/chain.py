"""Commands over the ledger and the chain: verify, rebuild, trace, summary, and the HTTP server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.text import Text
from rich.tree import Tree

from oretrail.chain.trace import NOT_CREATED, TraceTooWide
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
from oretrail.i18n.message import Message, said_of
from oretrail.i18n.words import stage, term
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
NO_COPY = Message("verify.no_copy", "{path}: no such checkpoint file")
FORWARD = Message("trace.forward", "⟶ forward ")
KEY_MADE = Message(
    "cli.signing.made", "signing key {key_id} made at {path}\npublic key (give it to the auditors): {public_key}"
)
KEY_FILES = Message("cli.signing.files", "key file: {key}\ncheckpoint file: {checkpoints}")
SIGNING_KEYS = Message("table.signing_keys", "signing keys")
NO_KEY_YET = Message("cli.signing.none", "no signing key recorded yet")
HANDED_OVER = Message(
    "cli.signing.handed_over", "key {previous} handed over to {key_id} after record {seq}\nnew public key: {public_key}"
)


# --- ledger -------------------------------------------------------------------------------------------
@app.command(
    help=helped(
        "verify",
        "Walk the hash chain, the signed checkpoints and the chain of keys, and the checkpoints of a copy kept "
        "outside the database; name the first record, checkpoint or line that is not as written (exit 2).",
    )
)
def verify(
    db: DbOption = None,
    public_key: Annotated[
        str | None,
        typer.Option(
            help=option_help(
                "verify.public_key", "Trusted Ed25519 public key (hex) of the platform: its first key, or any later."
            )
        ),
    ] = None,
    checkpoints: Annotated[
        Path | None,
        typer.Option(
            "--checkpoints",
            help=option_help("verify.checkpoints", "A copy of the checkpoint file to check the ledger against."),
        ),
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    from oretrail.ledger.verify import verify as run

    if checkpoints is not None and not checkpoints.is_file():
        fail(NO_COPY(path=str(checkpoints)), fmt=fmt)
    engine = open_db(db)
    with engine.connect() as conn:
        verdict = run(conn, public_key, checkpoints)
    said = verdict.message(lang())
    if fmt is not Format.table:
        emit(verdict.as_dict(lang()), fmt)
        if not verdict.ok:
            raise typer.Exit(EXIT_TAMPERED)
    elif verdict.ok:
        out.print(Text(said, style="green"))
    else:
        fail(said, EXIT_TAMPERED)


signing_app = typer.Typer(
    no_args_is_help=True,
    help=helped("signing", "The ledger's signing key: make the first, show the chain of keys, hand over."),
)
app.add_typer(signing_app, name="signing")


def _key_failure(exc: Exception, fmt: Format) -> NoReturn:
    said = getattr(exc, "said", None)
    fail(said.render(lang()) if said is not None else str(exc), fmt=fmt)


@signing_app.command(
    "init",
    help=helped(
        "signing init",
        "Make the ledger's first signing key (mode 0600) and record its identity; refused if one is recorded.",
    ),
)
def signing_init(db: DbOption = None, fmt: FormatOption = Format.table) -> None:
    from oretrail.ledger.keys import SigningKeyError, key_path
    from oretrail.ledger.notary import init_key

    engine = open_db(db)
    try:
        rec = init_key(engine)
    except SigningKeyError as exc:
        _key_failure(exc, fmt)
    path = key_path(database=engine.url)
    emit(
        {"key_file": str(path), "key_id": rec.key_id, "public_key": rec.public_key},
        fmt,
        text=KEY_MADE.render(lang(), key_id=rec.key_id, path=str(path), public_key=rec.public_key),
    )


@signing_app.command(
    "show",
    help=helped(
        "signing show",
        "The chain of keys the database records (first key, then each hand-over), and where the files are.",
    ),
)
def signing_show(db: DbOption = None, fmt: FormatOption = Format.table) -> None:
    from oretrail.ledger.keys import key_path, recorded
    from oretrail.ledger.witness import witness_path

    engine = open_db(db)
    with engine.connect() as conn:
        chain = recorded(conn)
    rows = [
        {
            "key_id": k.key_id,
            "public_key": k.public_key,
            "signs_after_record": k.since_seq,
            "since": k.created_at.isoformat(),
            "handed_over_by": k.previous,
        }
        for k in chain
    ]
    files = KEY_FILES(key=str(key_path(database=engine.url)), checkpoints=str(witness_path(None, engine.url)))
    err.print(Text(files.render(lang())))
    emit(rows, fmt, title=SIGNING_KEYS, text=None if rows else NO_KEY_YET.render(lang()))


@signing_app.command(
    "rotate",
    help=helped(
        "signing rotate",
        "Hand over to a new key: the old key seals the head and signs the new public key; the new key replaces "
        "the old in the key file and signs from then on. `verify` follows the hand-over.",
    ),
)
def signing_rotate(db: DbOption = None, fmt: FormatOption = Format.table) -> None:
    from oretrail.ledger.keys import SigningKeyError
    from oretrail.ledger.notary import rotate

    engine = open_db(db)
    try:
        rec = rotate(engine)
    except SigningKeyError as exc:
        _key_failure(exc, fmt)
    emit(
        {"key_id": rec.key_id, "public_key": rec.public_key, "previous": rec.previous, "since_seq": rec.since_seq},
        fmt,
        text=HANDED_OVER.render(
            lang(), previous=rec.previous, key_id=rec.key_id, seq=rec.since_seq, public_key=rec.public_key
        ),
    )


@app.command(
    help=helped(
        "rebuild",
        "Drop every projection and replay the ledger; the result equals the incrementally kept state. Then every "
        "rule judges the rebuilt state.",
    )
)
def rebuild(db: DbOption = None, config: ConfigOption = None, fmt: FormatOption = Format.table) -> None:
    from oretrail.feeds import rebuild_all
    from oretrail.rules.config import load_settings

    engine = open_db(db)
    counts = rebuild_all(engine, load_settings(config))
    said = REBUILT(counts=[f"{v} {term(k, lang())}" for k, v in counts.items()])
    emit(counts, fmt, console=err, text=said.render(lang()))


# --- chain --------------------------------------------------------------------------------------------
@app.command(help=helped("trace", "Trace a lot backward to the mines or forward to the exports, across every stage."))
def trace(
    lot: Annotated[str, typer.Argument(help=option_help("trace.lot", "The lot's id."))],
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
        try:
            node = run(conn, lot, backward)
        except TraceTooWide as exc:
            fail(said_of(exc), fmt=fmt)
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


@app.command(help=helped("serve", "Start the HTTP API (OpenAPI documentation at /docs)."))
def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help=option_help("serve.host", "Address to listen on."))] = "127.0.0.1",
    port: Annotated[int, typer.Option(help=option_help("serve.port", "Port to listen on."))] = 8000,
) -> None:
    import uvicorn

    from oretrail.api.app import create_app
    from oretrail.ledger.keys import SigningKeyError
    from oretrail.secretfiles import SecretFileError

    try:
        api = create_app(db)
    except (SigningKeyError, SecretFileError) as exc:
        fail(exc.said.render(lang()))
    uvicorn.run(api, host=host, port=port)
