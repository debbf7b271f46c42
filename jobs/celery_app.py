"""The Celery app, built lazily once per process from settings.

Broker: ``CELERY_BROKER_URL`` (production: Redis, keys prefixed with ``CACHE_KEY_PREFIX``), or
the embedded queue, a SQLite file under ``var/`` (see ``jobs.embedded_queue``). Tasks: every
module in ``jobs/tasks/`` is imported by workers (not by publishers: a function that only queues
jobs never imports task code). Beat: the schedule is built from routes.yaml ``jobs:``.
"""
from __future__ import annotations

import logging
import pkgutil
import threading
from datetime import timedelta
from typing import Any

from celery import Celery, signals

log = logging.getLogger("studyhub.jobs")

EMBEDDED_TRANSPORT = "jobs.embedded_queue:Transport"

_lock = threading.Lock()
_app: Celery | None = None


def task_modules() -> list[str]:
    """``jobs.tasks.<group>`` for every module in jobs/tasks/ (listed, not imported)."""
    from . import tasks

    return sorted(f"jobs.tasks.{m.name}" for m in pkgutil.iter_modules(tasks.__path__) if not m.name.startswith("_"))


def beat_schedule() -> dict[str, dict[str, Any]]:
    """routes.yaml ``jobs:`` entries ``{name, task, rate}`` as Celery's beat schedule."""
    try:
        from local.routes import load_routing

        jobs = load_routing().jobs
    except (FileNotFoundError, ImportError):  # packaged without routes.yaml (a Lambda): no scheduler there
        return {}
    return {job.name: {"task": job.task, "schedule": timedelta(seconds=job.seconds)} for job in jobs}


def is_embedded(settings=None) -> bool:
    from studyhub.config import get_settings

    return not (settings or get_settings()).celery_broker_url


def build_config(settings) -> dict[str, Any]:
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
        "broker_connection_timeout": 2,
        # A request queues after its commit; with the broker down it must not hang: ~1 s, then
        # the after-commit hook logs the failure (jobs with an outbox are re-queued by a sweep).
        "task_publish_retry_policy": {"max_retries": 2, "interval_start": 0, "interval_step": 0.5,
                                      "interval_max": 0.5},
        "timezone": settings.time_zone,
        "enable_utc": True,
        "imports": task_modules(),
        "beat_schedule": beat_schedule(),
        "beat_schedule_filename": str(settings.var_dir / "celerybeat-schedule"),
    }
    if settings.celery_broker_url:
        conf["broker_url"] = settings.celery_broker_url
        if settings.celery_broker_url.startswith(("redis://", "rediss://", "unix://")):
            conf["broker_transport_options"] = {
                "global_keyprefix": settings.cache_key_prefix,
                # Longer than the longest retry countdown (10 min): a held ETA job is not redelivered.
                "visibility_timeout": 3600,
            }
    else:
        from .embedded_queue import queue_url

        conf["broker_url"] = queue_url(settings.var_dir)
        conf["broker_transport"] = EMBEDDED_TRANSPORT
        conf["broker_transport_options"] = {"connect_args": {"timeout": 30}}
        # No fanout on a SQL table: no remote control, gossip or mingle.
        conf["worker_enable_remote_control"] = False
    return conf


def get_celery() -> Celery:
    global _app
    if _app is None:
        with _lock:
            if _app is None:
                from studyhub.config import get_settings

                app = Celery("studyhub")
                app.conf.update(build_config(get_settings()))
                _app = app
    return _app


def reset() -> None:
    """Forget the app and its broker connections (tests switch stacks and prefixes)."""
    global _app
    with _lock:
        app, _app = _app, None
    if app is not None:
        try:
            app.close()
        except Exception:  # noqa: BLE001 - closing a pool to a broker that is gone
            pass


def purge() -> int:
    """Drop every queued job (tests: leftovers of earlier tests on a shared queue)."""
    return get_celery().control.purge()


# --- worker and beat process hooks -----------------------------------------------------------

@signals.worker_process_init.connect
def _after_fork(**_kwargs) -> None:
    # Prefork children inherit the parent's pooled sockets: let each open its own.
    from studyhub.db import dispose_after_fork

    from .embedded_queue import forget_engines_after_fork

    dispose_after_fork()
    forget_engines_after_fork()


@signals.worker_init.connect
@signals.beat_init.connect
def _setup_logging(**_kwargs) -> None:
    from studyhub.logs import setup_logging

    setup_logging()
