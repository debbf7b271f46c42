"""The worker's side of the Celery app: the task modules and the beat schedule.

The app itself (broker, serialisation, acknowledgement) is the publishers' one,
``studyhub.clients.queue.get_celery``; a worker or the scheduler adds what only they need: every
module in ``jobs/tasks/`` and the schedule from routes.yaml ``jobs:``.
"""

from __future__ import annotations

import logging
import pkgutil
from datetime import timedelta
from typing import Any

from celery import Celery, signals

from studyhub.clients import queue

log = logging.getLogger("studyhub.jobs")


def task_modules() -> list[str]:
    """``jobs.tasks.<group>`` for every module in jobs/tasks/ (listed, not imported)."""
    from jobs import tasks

    return sorted(f"jobs.tasks.{m.name}" for m in pkgutil.iter_modules(tasks.__path__) if not m.name.startswith("_"))


def beat_schedule() -> dict[str, dict[str, Any]]:
    """routes.yaml ``jobs:`` entries ``{name, task, rate}`` as Celery's beat schedule."""
    from studyhub.core.routing import load_routing

    try:
        jobs = load_routing().jobs
    except FileNotFoundError:  # packaged without routes.yaml (a Lambda): no scheduler there
        return {}
    return {job.name: {"task": job.task, "schedule": timedelta(seconds=job.seconds)} for job in jobs}


def get_celery() -> Celery:
    """The app with the tasks and the schedule: what ``celery -A jobs worker|beat`` runs."""
    app = queue.get_celery()
    if not app.conf.get("beat_schedule"):
        app.conf.update(imports=task_modules(), beat_schedule=beat_schedule())
    return app


reset = queue.reset
purge = queue.purge
is_embedded = queue.is_embedded


# --- worker and beat process hooks -----------------------------------------------------------


@signals.worker_process_init.connect
def _after_fork(**_kwargs: Any) -> None:
    # Prefork children inherit the parent's pooled sockets: let each open its own.
    from studyhub.clients.embedded_queue import forget_engines_after_fork
    from studyhub.core.db import dispose_after_fork

    dispose_after_fork()
    forget_engines_after_fork()


@signals.worker_init.connect
@signals.beat_init.connect
def _setup_logging(**_kwargs: Any) -> None:
    from studyhub.core.logs import setup_logging

    setup_logging()
