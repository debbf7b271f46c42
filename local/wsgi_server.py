"""The HTTP server of ``studyhub serve``, as it faces clients: idle connections closed, a cap per
client address, and the errors the server answers itself in the contract's JSON.

- ``channel_timeout``: a connection with no request in flight is closed after 30 s of silence
  (looked for every 2 s).
- ``connection_limit`` (1,000): beyond it no connection is accepted until one closes, so one
  client holding 1,000 idle sockets would lock every other client out: a client address gets at
  most ``PER_CLIENT_CONNECTIONS`` (100) at once, connections beyond that are closed on accept.
  Behind Nginx every connection comes from Nginx, so the cluster's workers don't cap
  (``per_client_connections=None``); Nginx has its own limits.
- Requests refused before the application sees them (malformed request line or headers: 400,
  headers too large: 431, body too large: 413, unknown transfer coding: 501) answer
  ``{"detail", "code"}`` with ``X-Content-Type-Options: nosniff`` (local/server_errors.py).
- Records the server's parts write (an application error caught, an answer longer than its
  ``Content-Length``) go through StudyHub's log handlers (``core.logs.adopt``): formatted,
  scrubbed and in ``LOG_FILE``.

Two engines, both on waitress's request parser and WSGI task: the epoll server
(local/epoll_server.py: a request is read, served and answered on one thread; the default where
there is epoll, that is on Linux) and waitress's own loop (local/waitress_loop.py: elsewhere).
"""

from __future__ import annotations

import select
import socket
from typing import TYPE_CHECKING, Any, Literal

from waitress.adjustments import Adjustments

from studyhub.core.logs import adopt

if TYPE_CHECKING:  # epoll_server needs epoll: imported only when that engine runs
    from .epoll_server import ConnectionShare

IDLE_TIMEOUT_SECONDS = 30
CONNECTION_LIMIT = 1000
PER_CLIENT_CONNECTIONS = 100
IDLE_CHECK_SECONDS = 2  # how often idle connections are looked for (waitress: 30, so up to 60 s idle)

Engine = Literal["epoll", "waitress"]


def default_engine() -> Engine:
    return "epoll" if hasattr(select, "epoll") else "waitress"


def create_server(
    app: Any,
    *,
    per_client_connections: int | None = PER_CLIENT_CONNECTIONS,
    engine: Engine | None = None,
    share: ConnectionShare | None = None,
    **options: Any,
) -> Any:
    """A server with ``run()`` and ``close()`` on ``sockets`` (already listening) or ``host`` and
    ``port``. ``options`` are waitress's adjustments (``threads``, ``max_request_body_size``,
    ``ident``...), with these defaults: ``channel_timeout`` 30 s, checked every 2 s, and
    ``connection_limit`` 1,000. ``engine``: ``default_engine()`` unless said. ``share``: the
    ``epoll_server.ConnectionShare`` of the processes sharing the listening socket, if any."""
    options.setdefault("channel_timeout", IDLE_TIMEOUT_SECONDS)
    options.setdefault("connection_limit", CONNECTION_LIMIT)
    options.setdefault("cleanup_interval", IDLE_CHECK_SECONDS)
    adj = Adjustments(**options)
    if (engine or default_engine()) == "waitress":
        from .waitress_loop import create_loop_server

        return create_loop_server(app, adj, per_client_connections)
    from .epoll_server import EpollServer

    adopt("waitress")  # what its task logs (an answer longer than its Content-Length...)
    sockets = list(adj.sockets) if adj.sockets else listening_sockets(adj.listen, adj.backlog)
    return EpollServer(app, adj, sockets, per_client_connections=per_client_connections, share=share)


def listening_sockets(addresses: list[tuple[Any, ...]], backlog: int) -> list[socket.socket]:
    """A socket listening on each of ``addresses`` (waitress's ``Adjustments.listen``: every
    address the host resolves to); none left open if one fails."""
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, address in addresses:
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            sock.listen(backlog)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets
