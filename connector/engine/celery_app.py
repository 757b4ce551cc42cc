"""The Celery app, built from ``[engine]``: RabbitMQ as the broker, no result backend.

Settings, and why:

- ``task_acks_late`` + ``task_reject_on_worker_lost``: a message is acknowledged only when its task
  has finished. A worker killed mid-task (``kill -9``, OOM, a machine lost) never acknowledged
  it, so RabbitMQ hands it to another worker as soon as the dead one's connection drops. The task
  must then be safe to run twice, and each is (see :mod:`connector.engine.tasks`).
- ``worker_prefetch_multiplier = 1``: a worker process holds one message beyond the one it runs,
  no more; a slow sync does not sit on a pile of other connections' jobs.
- ``task_time_limit`` (``[engine] task_time_limit``, 30 min by default): the hard limit, enforced by
  the prefork pool (the child is killed and replaced; its message is rejected and redelivered,
  and the connection's lock is taken over because the child's pid is gone). A soft limit 30 s
  earlier raises inside the task first, so a run usually ends ``interrupted`` at a page boundary
  instead of being killed.
- JSON only, both ways: a task's arguments are a connection's name, never a pickled object.
- Queues by kind of work (``sync``, ``push``, ``reconcile``, ``notify``), so a machine can be given
  only some (``connector worker --queues``) and a flood of one kind cannot starve another.
- ``broker_heartbeat`` 30 s: a worker machine that vanishes (no FIN from its sockets) is noticed by
  RabbitMQ within about a minute, and its unacknowledged messages go back to the queue.

No result backend: the outcome of every task is a sync run in the database, which is where the
console, ``connector status`` and ``/metrics`` read it.
"""

from __future__ import annotations

import re
from typing import Any

from celery import Celery
from kombu import Exchange, Queue

from connector.config import Config, EngineConfig

#: The queues, by the kind of work each carries.
QUEUES = ("sync", "push", "reconcile", "notify")
#: Queue names on the broker: ``connector.sync`` ...
QUEUE_PREFIX = "connector."

#: Which queue each task goes to.
ROUTES = {
    "connector.import": "sync",
    "connector.targeted_sync": "sync",
    "connector.push": "push",
    "connector.reconcile": "reconcile",
    "connector.notify": "notify",
    "connector.overdue_sweep": "notify",
}


def queue_name(kind: str) -> str:
    return f"{QUEUE_PREFIX}{kind}"


def safe_broker_url(url: str) -> str:
    """The broker (or Redis) URL with any password replaced by ``***``, for error lines and logs.

    A plain pattern, not a URL parser: the URL may be the very thing that is malformed.
    """
    return re.sub(r"(://[^/\s:@]*:)([^@/\s]+)(@)", r"\1***\3", url)


def celery_settings(engine: EngineConfig) -> dict[str, Any]:
    limit = int(engine.task_time_limit.total_seconds())
    exchange = Exchange("connector", type="direct", durable=True)
    return {
        "broker_url": engine.broker_url,
        "broker_connection_retry_on_startup": True,
        "broker_connection_timeout": 5,
        "broker_heartbeat": 30,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_ignore_result": True,
        "result_backend": None,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_time_limit": limit,
        "task_soft_time_limit": max(1, limit - 30),
        "task_default_queue": queue_name("sync"),
        "task_default_exchange": "connector",
        "task_default_routing_key": "sync",
        "task_queues": [Queue(queue_name(q), exchange, routing_key=q, durable=True) for q in QUEUES],
        "task_routes": {name: {"queue": queue_name(q), "routing_key": q} for name, q in ROUTES.items()},
        "task_create_missing_queues": False,
        "worker_hijack_root_logger": False,
        "worker_redirect_stdouts": False,
        "worker_send_task_events": False,
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "broker_transport_options": {"confirm_publish": True},
        "timezone": "UTC",
        "enable_utc": True,
    }


def make_app(config: Config) -> Celery:
    """A Celery app for this config, with the connector's tasks registered on it."""
    from connector.engine import tasks  # the tasks name the app's settings; registered on it here

    app = Celery("connector", set_as_current=False)
    app.conf.update(celery_settings(config.engine))
    tasks.register(app, config)
    return app
