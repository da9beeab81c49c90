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

from oretrail.cli.common import (
    EXIT_REFUSED,
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
)
from oretrail.i18n.message import Message, said_of
from oretrail.output import Format, emit

WEBHOOK_SECRET = Message("secret.what.webhook", "a webhook's signing secret")
ONE_OF = Message("cli.notify.one_of", "give exactly one of --once or --follow")
NO_DESTINATION = Message("cli.notify.no_destination", "no destination")
DELIVERED = Message("cli.notify.delivered", "delivered: {delivered}")
UNDELIVERED = Message("cli.notify.undelivered", "undelivered: {left}")
NOT_PUBLISHED = Message("cli.notify.not_published", "outbox head {head}; no destination has published yet")
UNREADABLE_SECRET = Message("cli.notify.unreadable_secret", "{file}: cannot read a secret from it ({reason})")
SUBSCRIBED = Message("cli.notify.subscribed", "webhook {id}: {url} for {subjects}\nsecret: {secret}")
NO_SUBSCRIPTIONS = Message("cli.notify.no_subscriptions", "no webhook subscription")
NO_SUBSCRIPTION = Message("cli.notify.no_subscription", "no webhook subscription {id}")
REMOVED = Message("cli.notify.removed", "webhook {id} removed")

notify_app = typer.Typer(
    no_args_is_help=True,
    help=helped("notify", "Notifications: publish the outbox to NATS JetStream and webhooks; manage webhooks."),
)
app.add_typer(notify_app, name="notify")

NatsOption = Annotated[
    str | None,
    typer.Option(
        "--nats", help=option_help("notify.nats", "NATS server URL; else ORETRAIL_NATS, else nats://127.0.0.1:4222.")
    ),
]


@notify_app.callback()
def notify(db: DbOption = None) -> None:
    """Takes `--db` before the subcommand, as `oretrail` does."""


@notify_app.command(
    help=helped(
        "notify publish",
        "Follow the outbox: publish to NATS JetStream (stream ORETRAIL over oretrail.>, Nats-Msg-Id = outbox id) "
        "and deliver to webhook subscriptions, each destination at its own durable position, retrying with "
        "exponential backoff. Exits 1 if --once left something undelivered.",
    )
)
def publish(
    once: Annotated[
        bool, typer.Option("--once", help=option_help("notify.once", "Deliver what the outbox holds now, then exit."))
    ] = False,
    follow: Annotated[
        bool, typer.Option("--follow", help=option_help("notify.follow", "Keep following the outbox until stopped."))
    ] = False,
    nats_url: NatsOption = None,
    no_nats: Annotated[
        bool, typer.Option("--no-nats", help=option_help("notify.no_nats", "Deliver to webhooks only."))
    ] = False,
    stream: Annotated[
        str, typer.Option("--stream", help=option_help("notify.stream", "JetStream stream to publish into."))
    ] = "ORETRAIL",
    prefix: Annotated[
        str,
        typer.Option(
            "--prefix",
            help=option_help("notify.prefix", "Put every subject under this prefix (a staging server shared)."),
        ),
    ] = "",
    interval: Annotated[
        float,
        typer.Option("--interval", min=0.01, help=option_help("notify.interval", "Seconds between polls when idle.")),
    ] = 0.5,
    max_failures: Annotated[
        int,
        typer.Option(
            "--max-failures",
            min=1,
            help=option_help("notify.max_failures", "With --once: failures in a row before giving up."),
        ),
    ] = 5,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    from oretrail.notify.jetstream import DEFAULT_URL
    from oretrail.notify.publisher import Publisher

    if once == follow:
        fail(ONE_OF(), fmt=fmt)
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
    delivered = ", ".join(f"{r['destination']} {r['delivered']}" for r in rows) or NO_DESTINATION.render(lang())
    emit(rows, fmt, console=err, text=DELIVERED.render(lang(), delivered=delivered))
    if not outcome.complete and not follow:
        left = ", ".join(f"{n} {c}" for n, c in outcome.pending.items() if c)
        fail(UNDELIVERED(left=left), EXIT_REFUSED, fmt)


@notify_app.command(
    help=helped("notify status", "The outbox and how far each destination has delivered (NATS streams and webhooks).")
)
def status(db: DbOption = None, fmt: FormatOption = Format.table) -> None:
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
    emit(rows, fmt, text=None if rows else NOT_PUBLISHED.render(lang(), head=top))


@notify_app.command(
    help=helped(
        "notify subscribe", "Add a webhook subscription; prints its id and the signing secret (shown here, keep it)."
    )
)
def subscribe(
    url: Annotated[
        str,
        typer.Argument(help=option_help("notify.url", "Receiver's http(s) address; it gets one POST per message.")),
    ],
    subjects: Annotated[
        str,
        typer.Option(
            "--subjects",
            help=option_help("notify.subjects", "NATS-style filter, e.g. 'oretrail.alert.settled.CN-JX.>'."),
        ),
    ] = "oretrail.>",
    secret: Annotated[
        str | None,
        typer.Option(
            "--secret",
            envvar="ORETRAIL_WEBHOOK_SECRET",
            help=option_help(
                "notify.secret",
                "Signing secret (whsec_… or 16+ characters); made if left out. Prefer the environment "
                "variable or --secret-file: a command line is visible to every user of the machine.",
            ),
        ),
    ] = None,
    secret_file: Annotated[
        Path | None,
        typer.Option(
            "--secret-file",
            help=option_help("notify.secret_file", "Read the signing secret from this file (mode 0600, first line)."),
        ),
    ] = None,
    from_start: Annotated[
        bool,
        typer.Option("--from-start", help=option_help("notify.from_start", "Deliver the whole outbox, not only new.")),
    ] = False,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    from oretrail.notify.webhooks import WebhookError
    from oretrail.notify.webhooks import subscribe as add
    from oretrail.secretfiles import SecretFileError, read_secret

    if secret_file is not None:
        try:
            secret = read_secret(secret_file, WEBHOOK_SECRET()).decode().splitlines()[0].strip()
        except SecretFileError as exc:
            fail(exc.said.render(lang()), fmt=fmt)
        except (OSError, UnicodeDecodeError, IndexError) as exc:
            fail(UNREADABLE_SECRET(file=str(secret_file), reason=str(exc)), fmt=fmt)
    try:
        with open_db(db).begin() as conn:
            sub = add(conn, url, subjects, secret, from_start=from_start)
    except WebhookError as exc:
        fail(said_of(exc), fmt=fmt)
    emit(
        {"id": sub.id, "url": sub.url, "subjects": sub.subjects, "secret": sub.secret, "position": sub.position},
        fmt,
        text=SUBSCRIBED.render(lang(), id=sub.id, url=sub.url, subjects=sub.subjects, secret=sub.secret),
    )


@notify_app.command(
    help=helped(
        "notify subscriptions", "List webhook subscriptions (secrets left out) with their positions and last error."
    )
)
def subscriptions(db: DbOption = None, fmt: FormatOption = Format.table) -> None:
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
    emit(rows, fmt, text=None if rows else NO_SUBSCRIPTIONS.render(lang()))


@notify_app.command(
    help=helped("notify unsubscribe", "Remove a webhook subscription; what it had not delivered is not sent.")
)
def unsubscribe(
    sub_id: Annotated[
        int,
        typer.Argument(help=option_help("notify.sub_id", "Subscription id (see `oretrail notify subscriptions`).")),
    ],
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    from oretrail.notify.webhooks import unsubscribe as remove

    with open_db(db).begin() as conn:
        if not remove(conn, sub_id):
            not_found(NO_SUBSCRIPTION(id=sub_id), fmt)
    emit({"id": sub_id, "removed": True}, fmt, console=err, text=REMOVED.render(lang(), id=sub_id))
