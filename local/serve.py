"""``studyhub serve``: migrate, load reference data, then serve every function behind one
front door with waitress (a production WSGI server: threads, no dev-server shortcuts)."""

from __future__ import annotations

import logging

log = logging.getLogger("studyhub.serve")


def prepare() -> None:
    """Create/migrate the database and load reference data (idempotent)."""
    from studyhub.core.db import session_scope
    from studyhub.domain.users.reference import seed_reference
    from studyhub.migrations import runner as migrate

    migrate.upgrade()
    with session_scope() as session:
        seed_reference(session)


def serve(
    host: str,
    port: int,
    *,
    threads: int = 16,
    functions: list[str] | None = None,
    prepare_db: bool = True,
    background: bool = True,
    sockets: list | None = None,
) -> None:
    """``sockets``: already listening sockets to serve on instead of ``host:port`` (the cluster
    binds its workers' ports itself, ``local/cluster.py``)."""
    import waitress

    from studyhub.core.config import get_settings
    from studyhub.core.logs import setup_logging

    from .frontdoor import FrontDoor

    setup_logging()
    _exit_on_sigterm()
    if prepare_db:
        prepare()
    app = FrontDoor(functions)
    helpers = start_background() if background else []
    settings = get_settings()
    log.info("serving %s on http://%s:%d/api", ", ".join(app.gateways), host, port)
    try:
        where = {"sockets": sockets} if sockets else {"host": host, "port": port}
        waitress.serve(
            app,
            **where,
            threads=threads,
            ident="studyhub",
            max_request_body_size=settings.max_body_bytes + 1024 * 1024,
            channel_timeout=60,
            connection_limit=1000,
            clear_untrusted_proxy_headers=True,
        )
    finally:
        if helpers:
            from jobs.runtime import stop_embedded_workers

            stop_embedded_workers(helpers)


def _exit_on_sigterm() -> None:
    """SIGTERM (systemd, docker stop, timeout) unwinds like Ctrl-C, so the jobs are stopped too."""
    import signal
    import sys
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))


def start_background() -> list:
    """The job worker and scheduler beside the functions (added by the job system)."""
    try:
        from jobs.runtime import start_embedded_workers
    except ImportError:
        return []
    return start_embedded_workers()
