"""``studyhub serve``: migrate, load reference data, then serve every function behind one
front door with its HTTP server (local/wsgi_server.py: threads over epoll, waitress's parser)."""

from __future__ import annotations

import logging
import sys
from typing import Any

from .wsgi_server import PER_CLIENT_CONNECTIONS, create_server

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
    processes: int = 1,
    threads: int = 16,
    functions: list[str] | None = None,
    prepare_db: bool = True,
    background: bool = True,
    sockets: list | None = None,
    per_client_connections: int | None = PER_CLIENT_CONNECTIONS,
    show_banner: bool = False,
    verbose: bool = False,
) -> int:
    """``processes``: server processes on the one port (``local/prefork.py``), each with ``threads``
    threads and as many database connections. ``sockets``: already listening sockets to serve on
    instead of ``host:port`` (the cluster binds its workers' ports itself, ``local/cluster.py``).
    ``per_client_connections``: the most connections one client address holds at once, over all the
    processes (None behind Nginx: every connection is Nginx's). ``show_banner``: print where the API and its
    docs are and how to start; ``verbose``: keep Celery's own start-up banners. The exit status."""
    from studyhub.core import db
    from studyhub.core.config import get_settings
    from studyhub.core.logs import setup_logging

    from .frontdoor import FrontDoor

    setup_logging()
    db.size_pool(threads)
    _exit_on_sigterm()
    listening = sockets
    per_client_connections = _share(per_client_connections, processes)
    if processes > 1 and not sockets:
        from .prefork import bind

        listening = bind(host, port)  # before the database: a port taken fails at once
    if prepare_db:
        prepare()
    app = FrontDoor(functions)
    settings = get_settings()

    share = connection_share(processes) if processes > 1 and not sockets else None

    def run_server(index: int = 0) -> None:
        where = {"sockets": listening} if listening else {"host": host, "port": port}
        server = create_server(
            app,
            **where,
            share=share.at(index) if share else None,
            per_client_connections=per_client_connections,
            threads=threads,
            ident="studyhub",
            max_request_body_size=settings.max_body_bytes + 1024 * 1024,
            # X-Forwarded-For reaches the app, which believes it only from TRUSTED_PROXIES
            # (http/client_address.py); waitress would drop it from every peer, Nginx's included.
            clear_untrusted_proxy_headers=False,
        )
        server.run()  # idle connections closed after 30 s, 1,000 at most (local/wsgi_server.py)

    shape = f"{processes} processes x {threads} threads" if processes > 1 else f"{threads} threads"
    log.info("serving %s on http://%s:%d/api (%s)", ", ".join(app.gateways), host, port, shape)
    helpers: list = []
    try:
        if processes > 1:
            from studyhub.core.lazy import import_declared

            from .prefork import Supervisor, forget_clients, share_log_file

            import_declared()  # route modules load once here, shared by every child, not once per child
            forget_clients()  # the parent serves nothing: the children open their own connections
            share_log_file()
            supervisor = Supervisor(processes, run_server)
            helpers = start_background(quiet=not verbose) if background else []
            if show_banner:
                _print_banner(host, port, app)
            return supervisor.run()
        helpers = start_background(quiet=not verbose) if background else []
        if show_banner:
            _print_banner(host, port, app)
        run_server()
        return 0
    finally:
        if helpers:
            from jobs.runtime import stop_embedded_workers

            stop_embedded_workers(helpers)
        for sock in listening or []:
            if sockets is None:
                sock.close()


def connection_share(processes: int) -> Any:
    """What balances connections over the processes sharing one socket (epoll engine only)."""
    from .wsgi_server import default_engine

    if default_engine() != "epoll":
        return None
    from .epoll_server import ConnectionShare

    return ConnectionShare(processes)


def _share(cap: int | None, processes: int) -> int | None:
    """Each process counts only its own connections: a share each keeps one client's total at the cap."""
    return None if cap is None else -(-cap // max(1, processes))


def _print_banner(host: str, port: int, app: Any) -> None:
    sys.stdout.write(banner(host, port, [gateway.name for gateway in app.gateways.values()]))
    sys.stdout.flush()


def _exit_on_sigterm() -> None:
    """SIGTERM (systemd, docker stop, timeout) unwinds like Ctrl-C, so the jobs are stopped too."""
    import signal
    import sys
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))


def start_background(*, quiet: bool = True) -> list:
    """The job worker and scheduler beside the functions (added by the job system)."""
    try:
        from jobs.runtime import start_embedded_workers
    except ImportError:
        return []
    return start_embedded_workers(quiet=quiet)


def banner(host: str, port: int, functions: list[str]) -> str:
    """What a developer needs first: where the API and its docs are, and how to get a user."""
    shown = f"[{host}]" if ":" in host else host
    if host in ("0.0.0.0", "::"):  # listening everywhere: this machine's own address answers
        shown = "127.0.0.1"
    base = f"http://{shown}:{port}/api"
    return (
        f"\nStudyHub is serving {', '.join(functions)}\n"
        f"  Console      http://{shown}:{port}/   (log in with the demo data below)\n"
        f"  API          {base}/\n"
        f"  Docs         {base}/docs   (OpenAPI: {base}/openapi.json)\n"
        "  First user   studyhub createsuperuser --username admin --password 'a long password'\n"
        "  Demo data    studyhub seed --demo   (logins admin, teacher1, student1; password studyhub-demo)\n"
        "  Stop         Ctrl-C\n\n"
    )
