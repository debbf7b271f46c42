"""Jobs: thin Celery tasks over ``studyhub.domain.<group>`` (``jobs/tasks/``), the worker's app
and the beat schedule (``celery_app``), and the runtime that starts them beside ``serve``.

Publishers never import this package: they call ``studyhub.clients.queue.enqueue``, which sends
the task by name after the request's transaction commits.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    # `celery -A jobs worker` looks up `jobs.app`; build it only when asked for.
    if name in ("app", "celery"):
        from jobs.celery_app import get_celery

        return get_celery()
    raise AttributeError(name)
