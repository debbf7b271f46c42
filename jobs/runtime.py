"""Running jobs: the Celery worker and beat command lines, and the pair that ``studyhub serve``
starts beside the functions (subprocesses that stop when serve stops).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

log = logging.getLogger("studyhub.jobs")

_beat_lock = None  # held open for the life of this process: one scheduler per var dir


def worker_args(*, concurrency: int | None = None, loglevel: str = "INFO", beat: bool = False) -> list[str]:
    """``celery -A jobs`` arguments for a worker on the configured broker."""
    from .celery_app import is_embedded

    args = ["worker", "--loglevel", loglevel, "--hostname", f"studyhub-{os.getpid()}@%h"]
    if concurrency:
        args += ["--concurrency", str(concurrency)]
    if is_embedded():
        # A SQL table has no fanout: no gossip, mingle or heartbeats between workers.
        args += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    if beat:
        args += ["--beat", "--schedule", str(schedule_file())]
    return args


def beat_args(*, loglevel: str = "INFO") -> list[str]:
    return ["beat", "--loglevel", loglevel, "--schedule", str(schedule_file()), "--pidfile="]


def schedule_file() -> Path:
    from studyhub.core.config import get_settings

    return get_settings().var_dir / "celerybeat-schedule"


def _die_with_parent() -> None:
    """In the child: get SIGTERM when ``studyhub serve`` dies, even by SIGKILL (Linux)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _take_beat_lock(var_dir: Path) -> bool:
    global _beat_lock
    if _beat_lock is not None:
        return True
    import fcntl

    var_dir.mkdir(parents=True, exist_ok=True)
    handle = open(var_dir / "beat.lock", "w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return False
    _beat_lock = handle
    return True


def start_embedded_workers(
    *, concurrency: int = 2, loglevel: str = "INFO", quiet: bool = True
) -> list[subprocess.Popen]:
    """A worker and the beat scheduler as subprocesses of ``studyhub serve``.

    Without ``CELERY_BROKER_URL`` they consume the embedded queue (``var/queue.sqlite3``), so a
    job queued while serve was down runs when it comes back. Only one serve per var dir runs the
    scheduler (a lock file), so two local servers don't fire every scheduled job twice.
    ``quiet``: without Celery's start-up banners (``serve --verbose`` shows them).
    """
    from studyhub.core.config import get_settings

    settings = get_settings()
    env = dict(os.environ, STUDYHUB_VAR_DIR=str(settings.var_dir))
    celery = [sys.executable, "-m", "celery", "-A", "jobs", *(["--quiet"] if quiet else [])]
    commands = [celery + worker_args(concurrency=concurrency, loglevel=loglevel)]
    if _take_beat_lock(settings.var_dir):
        commands.append(celery + beat_args(loglevel=loglevel))
    else:
        log.info("another process runs the scheduler for %s; starting only a worker", settings.var_dir)
    processes = []
    for command in commands:
        # Their own session: Ctrl-C or a group-wide SIGTERM (timeout, systemd) reaches serve, which
        # stops them in order; signalled together, Celery's pool children died first and the worker
        # hung in its warm shutdown, orphaned.
        processes.append(subprocess.Popen(command, env=env, preexec_fn=_die_with_parent, start_new_session=True))
    where = "embedded queue" if not settings.celery_broker_url else "broker"
    log.info(
        "started %s on the %s (pids %s)",
        " and ".join(c[len(celery)] for c in commands),
        where,
        ", ".join(str(p.pid) for p in processes),
    )
    return processes


def stop_embedded_workers(processes: list[subprocess.Popen], *, timeout: float = 15.0) -> None:
    """SIGTERM (Celery's warm shutdown: running tasks finish), then SIGKILL what is left."""
    import time

    for proc in processes:
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + timeout
    for proc in processes:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("job process %d did not stop in %.0f s; killing it", proc.pid, timeout)
            proc.kill()
            proc.wait(timeout=5)
