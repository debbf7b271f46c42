"""The job queue as publishers see it: ``enqueue`` after commit, by task name.

Broker: ``CELERY_BROKER_URL`` (production: Redis, keys prefixed with ``CACHE_KEY_PREFIX``), or
the embedded queue, a SQLite file under ``var/`` (``studyhub.clients.embedded_queue``). The Celery
app is built lazily once per process; a function that only queues jobs never imports task code
(the worker's side, ``jobs/``, adds the task modules and the beat schedule to this same app).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studyhub.core.lazy import Lazy

if TYPE_CHECKING:
    from celery import Celery
    from sqlalchemy.orm import Session

    from studyhub.core.config import Settings

EMBEDDED_TRANSPORT = "studyhub.clients.embedded_queue:Transport"


def enqueue(session: Session, task_name: str, *args: Any, **options: Any) -> None:
    """Queue ``task_name(*args)`` once ``session`` commits (ids, not objects)."""
    from studyhub.core.db import on_commit

    on_commit(session, lambda: send(task_name, *args, **options))


def send(task_name: str, *args: Any, **options: Any) -> None:
    get_celery().send_task(task_name, args=list(args), **options)


def is_embedded(settings: Settings | None = None) -> bool:
    from studyhub.core.config import get_settings

    return not (settings or get_settings()).celery_broker_url


def build_config(settings: Settings) -> dict[str, Any]:
    conf: dict[str, Any] = {
        # Tasks take ids, are idempotent, and nobody waits for a result.
        "task_ignore_result": True,
        "task_serializer": "json",
        "accept_content": ["json"],
        # Acknowledged after running, so a worker that dies mid-task hands the job back.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
        "broker_connection_retry_on_startup": True,
        "broker_connection_timeout": min(2, settings.backend_timeout_seconds),
        # A request queues after its commit; with the broker down it must not hang: ~1 s, then
        # the after-commit hook logs the failure (jobs with an outbox are re-queued by a sweep).
        # A hung broker: three tries of a third of BACKEND_TIMEOUT_SECONDS each (socket timeouts below).
        "task_publish_retry_policy": {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5},
        "timezone": settings.time_zone,
        "enable_utc": True,
        "beat_schedule_filename": str(settings.var_dir / "celerybeat-schedule"),
    }
    if settings.celery_broker_url:
        conf["broker_url"] = settings.celery_broker_url
        if settings.celery_broker_url.startswith(("redis://", "rediss://", "unix://")):
            conf["broker_transport_options"] = {
                "global_keyprefix": settings.cache_key_prefix,
                # Longer than the longest retry countdown (10 min): a held ETA job is not redelivered.
                "visibility_timeout": 3600,
                "socket_timeout": settings.backend_timeout_seconds / 3,
                "socket_connect_timeout": settings.backend_timeout_seconds / 3,
            }
    else:
        from studyhub.clients.embedded_queue import queue_url

        conf["broker_url"] = queue_url(settings.var_dir)
        conf["broker_transport"] = EMBEDDED_TRANSPORT
        conf["broker_transport_options"] = {"connect_args": {"timeout": settings.backend_timeout_seconds}}
        # No fanout on a SQL table: no remote control, gossip or mingle.
        conf["worker_enable_remote_control"] = False
    return conf


def _build_app() -> Celery:
    from celery import Celery

    from studyhub.core.config import get_settings

    app = Celery("studyhub")
    app.conf.update(build_config(get_settings()))
    return app


def _close(app: Celery) -> None:
    try:
        app.close()
    except Exception:  # noqa: BLE001 - closing a pool to a broker that is gone
        pass


_app: Lazy[Celery] = Lazy(_build_app, close=_close)
get_celery = _app.get
#: Forget the app and its broker connections (tests switch stacks and prefixes).
reset = _app.reset


def purge() -> int:
    """Drop every queued job (tests: leftovers of earlier tests on a shared queue)."""
    return int(get_celery().control.purge())
