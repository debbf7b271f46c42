"""Jobs: the Celery app, its tasks (jobs/tasks/<group>.py) and the beat schedule.

Functions never import Celery at module top: they call ``enqueue(session, name, *ids)``, which
sends the task by name only after the request's transaction commits. The app and its broker are
in ``celery_app`` (Redis or the embedded queue of ``embedded_queue``); ``runtime`` and ``cli``
run the worker and the scheduler.
"""
from __future__ import annotations

from typing import Any


def enqueue(session, task_name: str, *args: Any, **options: Any) -> None:
    """Queue ``task_name(*args)`` once ``session`` commits (ids, not objects)."""
    from studyhub.db import on_commit

    on_commit(session, lambda: send(task_name, *args, **options))


def send(task_name: str, *args: Any, **options: Any) -> None:
    from .celery_app import get_celery

    get_celery().send_task(task_name, args=list(args), **options)


def reset() -> None:
    try:
        from .celery_app import reset as reset_app
    except ImportError:
        return
    reset_app()


def __getattr__(name: str):
    # `celery -A jobs worker` looks up `jobs.app`; build it only when asked for.
    if name in ("app", "celery"):
        from .celery_app import get_celery

        return get_celery()
    raise AttributeError(name)
