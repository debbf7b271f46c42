"""``studyhub worker`` and ``studyhub beat``: the job worker and the scheduler, on the configured
broker (``CELERY_BROKER_URL`` or the embedded queue). The same as ``celery -A jobs worker|beat``."""
from __future__ import annotations

import click

from studyhub.cli import main


@main.command()
@click.option("--concurrency", "-c", type=int, default=None, help="worker processes (default: CPU count)")
@click.option("--loglevel", "-l", default="INFO", show_default=True)
@click.option("--beat", "-B", is_flag=True, help="also run the scheduler in this worker")
def worker(concurrency: int | None, loglevel: str, beat: bool) -> None:
    """Run a job worker (celery -A jobs worker)."""
    from .celery_app import get_celery
    from .runtime import worker_args

    get_celery().worker_main(worker_args(concurrency=concurrency, loglevel=loglevel, beat=beat))


@main.command()
@click.option("--loglevel", "-l", default="INFO", show_default=True)
def beat(loglevel: str) -> None:
    """Run the scheduler: the jobs of routes.yaml `jobs:` (celery -A jobs beat)."""
    from .celery_app import get_celery
    from .runtime import beat_args

    get_celery().start(beat_args(loglevel=loglevel))
