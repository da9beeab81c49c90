"""Notifications (docs/notifications.md): an outbox written in the transaction of the change it announces,
and a publisher that follows it to NATS JetStream and to webhooks, each with a durable position.

The platform never talks to NATS or a webhook receiver while it captures, scans or serves: it only writes
outbox rows, so it works the same whether the message bus is up, down or absent. `oretrail notify publish`
is the one process that needs it.
"""
