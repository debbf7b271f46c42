"""waitress as ``studyhub serve`` runs it: idle connections closed, a cap per client address, and
the errors waitress answers itself in the contract's JSON.

- ``channel_timeout``: a connection with no request in flight is closed after 30 s of silence.
- waitress stops accepting anyone once ``connection_limit`` (1,000) connections are open, so one
  client holding 1,000 idle sockets would lock every other client out: a client address gets at
  most ``PER_CLIENT_CONNECTIONS`` (100) at once, connections beyond that are closed on accept.
  Behind Nginx every connection comes from Nginx, so the cluster's workers don't cap
  (``per_client_connections=None``); Nginx has its own limits.
- waitress's own records (an application error it caught, a thread that would not stop) go
  through StudyHub's log handlers (``core.logs.adopt``): formatted, scrubbed and in ``LOG_FILE``,
  not bare on stderr. Its "Task queue depth is N" warning, written whenever a request waits for a
  thread, is kept only when the queue is as deep as the threads (``QueueDepthFilter``): at 32
  clients on 16 threads it was a line for one request in three, thousands a minute of an ordinary load.
- Requests waitress refuses before the application sees them (malformed request line or
  headers: 400, headers too large: 431, body too large: 413, unknown transfer coding: 501)
  answer ``{"detail", "code"}`` with ``X-Content-Type-Options: nosniff`` instead of plain text.
"""

from __future__ import annotations

import logging
import uuid
from http import HTTPStatus
from typing import Any

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import MultiSocketServer, TcpWSGIServer
from waitress.task import ErrorTask, ThreadedTaskDispatcher

from studyhub.core.errors import Invalid, PayloadTooLarge, StudyHubError
from studyhub.core.logs import adopt
from studyhub.http.responses import dumps

log = logging.getLogger("studyhub.serve")

IDLE_TIMEOUT_SECONDS = 30
CONNECTION_LIMIT = 1000
PER_CLIENT_CONNECTIONS = 100
IDLE_CHECK_SECONDS = 2  # how often idle connections are looked for (waitress: 30, so up to 60 s idle)


def contract_error(status: int) -> StudyHubError:
    """The contract's error for a status waitress answers itself."""
    if status == 413:
        return PayloadTooLarge()
    if status == 431:
        return Invalid("请求头过大", code="headers_too_large")
    if status == 501:
        return StudyHubError("不支持的传输编码", code="not_implemented")
    if 400 <= status < 500:
        return Invalid("请求格式错误", code="bad_request")
    return StudyHubError()


class JsonErrorTask(ErrorTask):
    """waitress's error answer (plain text) in the contract's JSON."""

    def execute(self) -> None:
        status = int(self.request.error.code)
        error = contract_error(status)
        body = dumps(error.body()).encode()
        self.status = f"{status} {HTTPStatus(status).phrase}"
        self.response_headers.extend(
            [
                ("Content-Type", "application/json; charset=utf-8"),
                ("X-Content-Type-Options", "nosniff"),
                ("X-Request-Id", uuid.uuid4().hex),
            ]
        )
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


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
    per_client_connections: int | None = PER_CLIENT_CONNECTIONS

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


def create_server(
    app: Any, *, per_client_connections: int | None = PER_CLIENT_CONNECTIONS, **options: Any
) -> GuardedServer | MultiSocketServer:
    """Like ``waitress.create_server`` (TCP only), with the guarded server and these defaults:
    ``channel_timeout`` 30 s (checked every 2 s) and ``connection_limit`` 1,000."""
    options.setdefault("channel_timeout", IDLE_TIMEOUT_SECONDS)
    options.setdefault("connection_limit", CONNECTION_LIMIT)
    options.setdefault("cleanup_interval", IDLE_CHECK_SECONDS)
    adj = Adjustments(**options)
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
