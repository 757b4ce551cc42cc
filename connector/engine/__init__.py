"""What runs the jobs: the embedded daemon on one machine, or Celery workers on many.

- :mod:`connector.engine.celery_app`: the Celery app built from ``[engine]`` (RabbitMQ broker, late
  acknowledgement, prefetch 1, a hard time limit, retries with backoff for transient errors).
- :mod:`connector.engine.tasks`: import, push, reconcile, targeted sync, notify and the overdue
  sweep, each a thin, idempotent call into :mod:`connector.actions`.
- :mod:`connector.engine.scheduler`: ``connector scheduler``, which enqueues the periodic jobs per
  connection and the webhook-hinted syncs; one leader at a time (a lease in Redis).
- :mod:`connector.engine.ledgers`: the adapters' rate limiter: shared in Redis for a cluster,
  per process for the embedded daemon.
- :mod:`connector.engine.budget`: API calls used per connection against the daily allowance
  (``connector status``, ``/metrics``).

Both engines rely on the same two guarantees from :mod:`connector.sync`: one job at a time per
connection (the lease in ``connections.lock_*``, see :mod:`connector.sync.runs`) and one send
per outbox entry (the conditional claim in :mod:`connector.sync.push`).
"""
