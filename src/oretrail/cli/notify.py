"""`oretrail notify …`: the publisher that follows the outbox, and webhook subscriptions (docs/notifications.md)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from oretrail.cli.common import EXIT_REFUSED, DbOption, FormatOption, app, err, fail, lang, not_found, open_db
from oretrail.i18n.message import Message
from oretrail.output import Format, emit

WEBHOOK_SECRET = Message("secret.what.webhook", "a webhook's signing secret")

notify_app = typer.Typer(
    no_args_is_help=True, help="Notifications: publish the outbox to NATS JetStream and webhooks; manage webhooks."
)
app.add_typer(notify_app, name="notify")

NatsOption = Annotated[
    str | None,
    typer.Option("--nats", help="NATS server URL; else ORETRAIL_NATS, else nats://127.0.0.1:4222."),
]


@notify_app.callback()
def notify(db: DbOption = None) -> None:
    """Notifications: publish the outbox to NATS JetStream and webhooks; manage webhooks."""


@notify_app.command()
def publish(
    once: Annotated[bool, typer.Option("--once", help="Deliver what the outbox holds now, then exit.")] = False,
    follow: Annotated[bool, typer.Option("--follow", help="Keep following the outbox until stopped.")] = False,
    nats_url: NatsOption = None,
    no_nats: Annotated[bool, typer.Option("--no-nats", help="Deliver to webhooks only.")] = False,
    stream: Annotated[str, typer.Option("--stream", help="JetStream stream to publish into.")] = "ORETRAIL",
    prefix: Annotated[
        str, typer.Option("--prefix", help="Put every subject under this prefix (a staging server shared).")
    ] = "",
    interval: Annotated[float, typer.Option("--interval", min=0.01, help="Seconds between polls when idle.")] = 0.5,
    max_failures: Annotated[
        int, typer.Option("--max-failures", min=1, help="With --once: failures in a row before giving up.")
    ] = 5,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Follow the outbox: publish to NATS JetStream (stream ORETRAIL over oretrail.>, Nats-Msg-Id = outbox
    id) and deliver to webhook subscriptions, each destination at its own durable position, retrying with
    exponential backoff. Exits 1 if --once left something undelivered."""
    from oretrail.notify.jetstream import DEFAULT_URL
    from oretrail.notify.publisher import Publisher

    if once == follow:
        fail("give exactly one of --once or --follow", fmt=fmt)
    # The publisher's own retries and recoveries on stderr; not the root logger (Alembic talks there).
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    notify_log = logging.getLogger("oretrail.notify")
    notify_log.addHandler(handler)
    notify_log.setLevel(logging.INFO)
    url = None if no_nats else (nats_url or os.environ.get("ORETRAIL_NATS") or DEFAULT_URL)
    pub = Publisher(open_db(db), url, stream, prefix, interval=interval, max_failures=None if follow else max_failures)

    async def main() -> Any:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        return await pub.run(follow=follow, stop=stop)

    outcome = asyncio.run(main())
    rows = [
        {"destination": name, **asdict(p), "pending": outcome.pending.get(name, 0)}
        for name, p in outcome.progress.items()
    ]
    for r in rows:
        r.pop("next_at")
    delivered = ", ".join(f"{r['destination']} {r['delivered']}" for r in rows) or "no destination"
    emit(rows, fmt, console=err, text=f"delivered: {delivered}")
    if not outcome.complete and not follow:
        left = ", ".join(f"{n} {c}" for n, c in outcome.pending.items() if c)
        fail(f"undelivered: {left}", EXIT_REFUSED, fmt)


@notify_app.command()
def status(db: DbOption = None, fmt: FormatOption = Format.table) -> None:
    """The outbox and how far each destination has delivered (NATS streams and webhooks)."""
    from sqlalchemy import select

    from oretrail.notify import outbox, webhooks
    from oretrail.storage.schema import cursors

    with open_db(db).connect() as conn:
        top = outbox.head(conn)
        rows: list[dict[str, Any]] = [
            {"destination": name, "position": seq, "pending": outbox.count_after(conn, seq), "last_error": None}
            for name, seq in conn.execute(select(cursors.c.name, cursors.c.seq).where(cursors.c.name.like("nats:%")))
        ]
        rows += [
            {
                "destination": f"webhook:{s.id} {s.url}",
                "position": s.position,
                "pending": outbox.count_after(conn, s.position),
                "last_error": s.last_error,
            }
            for s in webhooks.listed(conn)
        ]
    emit(rows, fmt, text=None if rows else f"outbox head {top}; no destination has published yet")


@notify_app.command()
def subscribe(
    url: Annotated[str, typer.Argument(help="Receiver's http(s) address; it gets one POST per message.")],
    subjects: Annotated[
        str, typer.Option("--subjects", help="NATS-style filter, e.g. 'oretrail.alert.settled.CN-JX.>'.")
    ] = "oretrail.>",
    secret: Annotated[
        str | None,
        typer.Option(
            "--secret",
            envvar="ORETRAIL_WEBHOOK_SECRET",
            help="Signing secret (whsec_… or 16+ characters); made if left out. Prefer the environment "
            "variable or --secret-file: a command line is visible to every user of the machine.",
        ),
    ] = None,
    secret_file: Annotated[
        Path | None,
        typer.Option("--secret-file", help="Read the signing secret from this file (mode 0600, first line)."),
    ] = None,
    from_start: Annotated[bool, typer.Option("--from-start", help="Deliver the whole outbox, not only new.")] = False,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Add a webhook subscription; prints its id and the signing secret (shown here, keep it)."""
    from oretrail.notify.webhooks import WebhookError
    from oretrail.notify.webhooks import subscribe as add
    from oretrail.secretfiles import SecretFileError, read_secret

    if secret_file is not None:
        try:
            secret = read_secret(secret_file, WEBHOOK_SECRET()).decode().splitlines()[0].strip()
        except SecretFileError as exc:
            fail(exc.said.render(lang()), fmt=fmt)
        except (OSError, UnicodeDecodeError, IndexError) as exc:
            fail(f"{secret_file}: cannot read a secret from it ({exc})", fmt=fmt)
    try:
        with open_db(db).begin() as conn:
            sub = add(conn, url, subjects, secret, from_start=from_start)
    except WebhookError as exc:
        fail(str(exc), fmt=fmt)
    emit(
        {"id": sub.id, "url": sub.url, "subjects": sub.subjects, "secret": sub.secret, "position": sub.position},
        fmt,
        text=f"webhook {sub.id}: {sub.url} for {sub.subjects}\nsecret: {sub.secret}",
    )


@notify_app.command()
def subscriptions(db: DbOption = None, fmt: FormatOption = Format.table) -> None:
    """List webhook subscriptions (secrets left out) with their positions and last error."""
    from oretrail.notify import outbox, webhooks

    with open_db(db).connect() as conn:
        rows = [
            {
                "id": s.id,
                "url": s.url,
                "subjects": s.subjects,
                "position": s.position,
                "pending": outbox.count_after(conn, s.position),
                "failures": s.failures,
                "last_error": s.last_error,
            }
            for s in webhooks.listed(conn)
        ]
    emit(rows, fmt, text=None if rows else "no webhook subscription")


@notify_app.command()
def unsubscribe(
    sub_id: Annotated[int, typer.Argument(help="Subscription id (see `oretrail notify subscriptions`).")],
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Remove a webhook subscription; what it had not delivered is not sent."""
    from oretrail.notify.webhooks import unsubscribe as remove

    with open_db(db).begin() as conn:
        if not remove(conn, sub_id):
            not_found(f"no webhook subscription {sub_id}", fmt)
    emit({"id": sub_id, "removed": True}, fmt, console=err, text=f"webhook {sub_id} removed")
