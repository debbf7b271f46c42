"""waitress's own loop (one thread reads and writes every socket, a pool of threads serves), for
where there is no epoll: ``studyhub serve`` runs it only there (local/wsgi_server.py picks).

- waitress stops accepting anyone once ``connection_limit`` connections are open, so a client
  address gets at most ``per_client_connections`` at once: connections beyond that are closed on
  accept.
- waitress writes "Task queue depth is N" whenever a request waits for a thread; it is kept only
  when the queue is as deep as the threads (``QueueDepthFilter``): at 32 clients on 16 threads it
  was a line for one request in three, thousands a minute of an ordinary load.
"""

from __future__ import annotations

import logging
from typing import Any

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import MultiSocketServer, TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher

from studyhub.core.logs import adopt

from .server_errors import JsonErrorTask

log = logging.getLogger("studyhub.serve")


class JsonErrorChannel(HTTPChannel):
    error_task_class = JsonErrorTask


class QueueDepthFilter(logging.Filter):
    """waitress's "Task queue depth is N" only when N reaches ``threshold`` (the thread count): a
    request waiting for a busy thread is ordinary, a queue as deep as the pool is news."""

    MESSAGE = "Task queue depth is %d"

    def __init__(self, threshold: int) -> None:
        super().__init__()
        self.threshold = threshold

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg != self.MESSAGE or not isinstance(record.args, tuple) or not record.args:
            return True
        depth = record.args[0]
        return not isinstance(depth, int) or depth >= self.threshold


class GuardedServer(TcpWSGIServer):
    """A waitress TCP server that caps the connections one client address holds at once."""

    channel_class = JsonErrorChannel
    per_client_connections: int | None = None

    def connections_from(self, host: str) -> int:
        # the map is shared by every listening socket of this server: the cap is per address overall
        return sum(
            1
            for channel in list(self._map.values())
            if isinstance(channel, HTTPChannel) and _host(channel.addr) == host
        )

    def handle_accept(self) -> None:
        try:
            accepted = self.accept()
            if accepted is None:
                return
            conn, addr = accepted
            self.set_socket_options(conn)
        except OSError:
            return  # the peer left before we got to it (waitress does the same)
        addr = self.fix_addr(addr)
        limit = self.per_client_connections
        if limit is not None and self.connections_from(_host(addr)) >= limit:
            log.warning("connection from %s refused: %d connections open (cap per client)", _host(addr), limit)
            conn.close()
            return
        self.channel_class(self, conn, addr, self.adj, map=self._map)


def _host(addr: Any) -> str:
    return str(addr[0]) if isinstance(addr, tuple) and addr else str(addr)


def create_loop_server(
    app: Any, adj: Adjustments, per_client_connections: int | None
) -> GuardedServer | MultiSocketServer:
    """Like ``waitress.create_server`` (TCP only), with the guarded server."""
    adopt("waitress", QueueDepthFilter(adj.threads))
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adj.threads)
    socket_map: dict[int, Any] = {}
    servers: list[GuardedServer] = []

    def add(sock: Any, sockinfo: Any, bind: bool) -> None:
        server = GuardedServer(
            app, socket_map, True, sock, dispatcher=dispatcher, adj=adj, bind_socket=bind, sockinfo=sockinfo
        )
        server.per_client_connections = per_client_connections
        servers.append(server)

    if adj.sockets:
        for sock in adj.sockets:
            add(sock, (sock.family, sock.type, sock.proto, sock.getsockname()), False)
    else:
        for sockinfo in adj.listen:
            add(None, sockinfo, True)
    if len(servers) == 1:
        return servers[0]
    listening = [(server.effective_host, server.effective_port) for server in servers]
    return MultiSocketServer(socket_map, adj, listening, dispatcher, servers[-1].log_info)
