"""The HTTP server of ``studyhub serve``: waitress's request parser and WSGI task, driven by
worker threads that share one epoll set, so a request is read, served and answered by the thread
that saw it arrive.

Why not waitress's own loop: it reads and writes on one thread and serves on others, so each
request crosses threads twice (a task queue, then a wake-up pipe back to the loop), with the GIL
changing hands each time. Measured on the topics list at 32 clients that was 0.25-0.35 ms of CPU
a request over uWSGI's threads, which serve a connection start to end on one thread. Here every
worker waits in ``epoll_wait`` on the same set, every socket is armed one-shot, so a ready socket
wakes exactly one worker, which owns it until it arms it again: no hand-off on the hot path, and
an idle keep-alive connection holds no thread (uWSGI's threads are pinned to theirs).

What the server guarantees, as waitress did under ``studyhub serve``:

- waitress's parser reads every request (``HTTPRequestParser``: its limits on the request line,
  headers and body, chunked bodies, ``Expect: 100-continue``), and waitress's task writes every
  answer (``WSGITask``: the WSGI environ, ``start_response`` checks, keep-alive and
  ``Connection: close``, chunked answers). What the parser refuses (malformed request line or
  headers: 400, headers too large: 431, body too large: 413, unknown transfer coding: 501)
  answers the contract's ``{"detail", "code"}``, then the connection is closed.
- reads and writes never block a worker: a request that arrives in pieces waits, parsed so far,
  for the rest; an answer the client doesn't read waits in memory (a file answer in its file)
  while the socket is full. A slow client costs a socket, never a thread.
- a connection not being served that has read and sent nothing for ``channel_timeout`` (30 s):
  idle keep-alive, a request stuck half-sent, an answer its client stopped reading, is closed
  (looked for every ``cleanup_interval``, 2 s); a client address holds at most
  ``per_client_connections`` (100) at once (more are closed on accept); beyond
  ``connection_limit`` (1,000) open connections the server stops accepting until one closes.
- an application error the task could not answer is logged and answered 500 in the contract's
  JSON when nothing was sent yet, else the connection is closed.
- the processes of ``serve --processes N`` share one listening socket and take an even share of
  the connections (``ConnectionShare``).

Linux only (epoll); elsewhere ``studyhub serve`` runs waitress's own loop with the same
guarantees (local/waitress_loop.py). tests/e2e/test_http_server.py runs both.
"""

from __future__ import annotations

import copy
import errno
import logging
import os
import select
import socket
import threading
import time
from collections import Counter
from typing import Any

from waitress.adjustments import Adjustments
from waitress.buffers import ReadOnlyFileBasedBuffer
from waitress.parser import HTTPRequestParser
from waitress.task import WSGITask
from waitress.utilities import InternalServerError

from .server_errors import JsonErrorTask

log = logging.getLogger("studyhub.serve")

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
JOIN_BELOW = 64 * 1024  # answers up to this size go out in one send (header and body together)
RECV_BYTES = 64 * 1024  # waitress reads 8 KiB at a time: an upload would take eight times the wake-ups
FILE_CHUNK = 256 * 1024  # read from a file answer per send (waitress's send_bytes is 1)

READ = select.EPOLLIN | select.EPOLLONESHOT
WRITE = select.EPOLLOUT | select.EPOLLONESHOT


class ClientGone(Exception):
    """The client closed its connection while its answer was being written."""


class Connection:
    """One client connection; the "channel" waitress's tasks write to. Owned by one worker at a
    time (``busy``), or by nobody while it waits in the epoll set."""

    def __init__(self, server: EpollServer, sock: socket.socket, addr: Any) -> None:
        self.server = server
        self.adj = server.adj
        self.sock = sock
        self.fd = sock.fileno()
        self.addr = addr
        self.host = _host(addr)
        self.lock = threading.Lock()
        self.busy = False
        self.connected = True
        self.request: HTTPRequestParser | None = None  # the request being read
        self.pending = b""  # bytes read past the last request (pipelining)
        self.outbufs: list[Any] = []  # bytes, memoryviews, file buffers, in order
        self.close_after_flush = False
        self.closed = False
        self.sent_continue = False
        self.last_activity = time.monotonic()

    # --- what waitress's tasks call ---

    def write_soon(self, data: Any) -> int:
        if not self.connected:
            raise ClientGone
        if isinstance(data, ReadOnlyFileBasedBuffer) or data:
            self.outbufs.append(data)
            return len(data)
        return 0

    def check_client_disconnected(self) -> bool:
        return not self.connected


class ConnectionShare:
    """How many connections each process of ``serve --processes N`` holds, in memory they all see
    (made before the fork). The processes share one listening socket, and whichever wakes first
    takes a new connection: measured, 32 connections opened at once split 26/6 or 5/27, leaving
    one process (one GIL) most of the work. A process holding more than ``SLACK`` over the least
    loaded one leaves a new connection to the others for up to ``DEFER_SECONDS``, then takes it
    (the others may be too busy to)."""

    SLACK = 2
    DEFER_SECONDS = 0.005

    def __init__(self, processes: int) -> None:
        import ctypes
        import multiprocessing

        self.counts = multiprocessing.RawArray(ctypes.c_int, processes)
        self.index = 0
        self.deferred_since = 0.0

    def at(self, index: int) -> ConnectionShare:
        """The share as process ``index`` sees it (made in the child, after the fork)."""
        view = copy.copy(self)
        view.index, view.deferred_since = index, 0.0
        view.counts[index] = 0  # a restarted process starts with none
        return view

    def add(self, delta: int) -> None:
        self.counts[self.index] += delta  # one writer per slot: the process's table lock

    def defer(self) -> bool:
        """Whether to leave the connection waiting to be accepted to another process, for now."""
        counts = self.counts
        mine = counts[self.index]
        others = min(counts[i] for i in range(len(counts)) if i != self.index)
        now = time.monotonic()
        if mine <= others + self.SLACK:
            self.deferred_since = 0.0
            return False
        if not self.deferred_since:
            self.deferred_since = now
        if now - self.deferred_since < self.DEFER_SECONDS:
            return True
        self.deferred_since = 0.0
        return False


class EpollServer:
    """Listening sockets and worker threads over one epoll set (see the module's docstring)."""

    def __init__(
        self,
        app: Any,
        adj: Adjustments,
        sockets: list[socket.socket],
        *,
        per_client_connections: int | None,
        share: ConnectionShare | None = None,
    ) -> None:
        self.application = app
        self.share = share
        self.adj = adj
        self.per_client_connections = per_client_connections
        self.listeners = {sock.fileno(): sock for sock in sockets}
        for sock in sockets:
            sock.setblocking(False)
        first = sockets[0].getsockname()
        self.effective_host, self.effective_port = first[0], first[1]
        self.server_name = _server_name(self.effective_host)
        self.epoll = select.epoll()
        self.connections: dict[int, Connection] = {}
        self.per_host: Counter[str] = Counter()
        self.table_lock = threading.Lock()
        self.accepting = True
        self.closed = False
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        for fd in self.listeners:
            self.epoll.register(fd, select.EPOLLIN | select.EPOLLONESHOT)
        # written once by close(): level-triggered and never read, so it wakes every worker
        self.wake_read, self.wake_write = os.pipe()
        self.epoll.register(self.wake_read, select.EPOLLIN)

    # --- running ---

    def run(self) -> None:
        """Serve until SystemExit/KeyboardInterrupt in the calling thread (or ``close()``)."""
        for index in range(self.adj.threads):
            thread = threading.Thread(target=self._work, name=f"studyhub-http-{index}", daemon=True)
            thread.start()
            self.threads.append(thread)
        try:
            while not self.stopping.wait(self.adj.cleanup_interval):
                self._close_idle(time.monotonic())
        except (SystemExit, KeyboardInterrupt):
            pass
        finally:
            self.close()

    def close(self) -> None:
        """Stop the workers (each finishes the request in hand), then close every socket."""
        with self.table_lock:
            if self.closed:
                return
            self.closed = True
        self.stopping.set()
        os.write(self.wake_write, b"x")
        for thread in self.threads:
            if thread is not threading.current_thread():
                thread.join(timeout=self.adj.channel_timeout)
        self.threads = []
        with self.table_lock:
            connections = list(self.connections.values())
        for conn in connections:
            self._close(conn)
        for sock in self.listeners.values():
            try:
                self.epoll.unregister(sock.fileno())
            except (OSError, ValueError):
                pass
        self.epoll.close()
        os.close(self.wake_read)
        os.close(self.wake_write)

    def _work(self) -> None:
        poll, wake = self.epoll.poll, self.wake_read
        while not self.stopping.is_set():
            try:
                events = poll(-1, 1)
            except InterruptedError:
                continue
            except (OSError, ValueError):
                return  # the set was closed: stopping
            for fd, mask in events:
                if fd == wake:
                    return
                try:
                    if fd in self.listeners:
                        self._accept(self.listeners[fd])
                    else:
                        self._ready(fd, mask)
                except Exception:  # noqa: BLE001 - a worker must survive anything one connection does
                    log.exception("unexpected error in the HTTP server")

    # --- connections ---

    def _accept(self, listener: socket.socket) -> None:
        try:
            # One at a time: the processes of `serve --processes N` share the listening socket,
            # and a worker that took a burst of connections would leave its process all the work
            # (measured: 32 connections opened at once went mostly to one process).
            if self.share is not None and self.share.defer():
                time.sleep(0.001)  # then the listener is armed again: taken by now, or ours soon
                return
            try:
                sock, addr = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:
                if error.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    log.warning("accept failed: %s", error)
                    time.sleep(0.1)  # the listener stays ready: don't spin on it
                return  # else the peer left before we got to it
            self._admit(sock, addr)
        finally:
            with self.table_lock:
                if self.accepting and not self.stopping.is_set():
                    self._arm(listener.fileno(), select.EPOLLIN | select.EPOLLONESHOT)

    def _admit(self, sock: socket.socket, addr: Any) -> None:
        host = _host(addr)
        with self.table_lock:
            limit = self.per_client_connections
            if limit is not None and self.per_host[host] >= limit:
                refused = True
            else:
                refused = False
                sock.setblocking(False)
                for level, name, value in self.adj.socket_options:
                    sock.setsockopt(level, name, value)
                conn = Connection(self, sock, addr)
                self.connections[conn.fd] = conn
                self.per_host[host] += 1
                if self.share is not None:
                    self.share.add(1)
                if len(self.connections) >= self.adj.connection_limit:
                    self.accepting = False  # the listeners stay disarmed until one closes
                self.epoll.register(conn.fd, READ)
        if refused:
            log.warning("connection from %s refused: %d connections open (cap per client)", host, limit)
            sock.close()

    def _ready(self, fd: int, mask: int) -> None:
        conn = self.connections.get(fd)
        if conn is None:
            return
        with conn.lock:
            if conn.busy or not conn.connected:
                return  # a late event for a socket another worker holds or closed
            conn.busy = True
        keep = False
        try:
            if conn.outbufs:
                keep = not self._flush(conn) or self._serve_pending(conn)
            else:
                keep = self._read(conn)
        except ClientGone:
            keep = False
        except Exception:  # noqa: BLE001
            log.exception("unexpected error on a connection from %s", conn.host)
            keep = False
        if not keep:
            self._close(conn)

    def _read(self, conn: Connection) -> bool:
        """Read what is there; serve each request completed. True to keep the connection."""
        try:
            data = conn.sock.recv(RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return self._release(conn, READ)
        except OSError:
            return False
        if not data:
            return False  # the client closed its side
        conn.last_activity = time.monotonic()
        conn.pending += data
        return self._serve_pending(conn)

    def _serve_pending(self, conn: Connection) -> bool:
        """Serve, in order, each request complete in what was read; then wait for more (armed to
        read), or for the socket to take the rest of an answer (armed to write)."""
        while not conn.close_after_flush:
            request = self._parse(conn)
            if request is None:
                if conn.outbufs and not self._flush(conn):  # a 100 Continue
                    return True
                return self._release(conn, READ)
            if self._serve(conn, request):
                conn.close_after_flush, conn.pending = True, b""
            if not self._flush(conn):
                return True
        return False

    def _parse(self, conn: Connection) -> HTTPRequestParser | None:
        """The next request complete in what was read (parsed as far as it goes), or None."""
        while conn.pending:
            if conn.request is None:
                conn.request = HTTPRequestParser(self.adj)
            request = conn.request
            used = request.received(conn.pending)
            conn.pending = conn.pending[used:]
            if request.expect_continue and request.headers_finished and not conn.sent_continue:
                conn.sent_continue = True
                conn.outbufs.append(CONTINUE)
            if request.completed:
                conn.request, conn.sent_continue = None, False
                if not request.empty:
                    return request
            elif not used:
                break
        return None

    def _serve(self, conn: Connection, request: HTTPRequestParser) -> bool:
        """Run the request's task into ``conn.outbufs``. True when the connection must close after."""
        task = (JsonErrorTask if request.error else WSGITask)(conn, request)
        try:
            task.service()
        except ClientGone:
            task.close_on_finish = True
        except Exception:  # noqa: BLE001 - waitress did the same: log, answer 500 if nothing went out
            log.exception("error while serving %s", request.path)  # the formatter escapes it
            if task.wrote_header:
                task.close_on_finish = True
            else:
                conn.outbufs.clear()
                failed = HTTPRequestParser(self.adj)
                failed.error = InternalServerError("")
                failed.version = request.version
                task = JsonErrorTask(conn, failed)
                task.service()
        finally:
            request.close()
        return bool(task.close_on_finish)

    def _flush(self, conn: Connection) -> bool:
        """Send what is waiting without blocking. True when all went out; False when the socket is
        full: then it waits in the set, armed to write, and the worker lets it go. ``ClientGone``
        when the client has left."""
        outbufs = conn.outbufs
        sock = conn.sock
        try:
            while outbufs:
                if len(outbufs) > 1 and not isinstance(outbufs[0], ReadOnlyFileBasedBuffer):
                    joined = _join_head(outbufs)
                    if joined is not None:
                        outbufs[: joined[0]] = [joined[1]]
                head = outbufs[0]
                if isinstance(head, ReadOnlyFileBasedBuffer):
                    chunk = head.get(FILE_CHUNK)
                    if not chunk:
                        outbufs.pop(0).close()
                        continue
                    sent = sock.send(chunk)
                    head.skip(sent, True)
                    conn.last_activity = time.monotonic()
                    if sent < len(chunk):
                        return self._wait_to_write(conn)
                    continue
                sent = sock.send(head)
                conn.last_activity = time.monotonic()
                if sent < len(head):
                    outbufs[0] = memoryview(head)[sent:]
                    return self._wait_to_write(conn)
                outbufs.pop(0)
        except (BlockingIOError, InterruptedError):
            return self._wait_to_write(conn)
        except OSError as error:
            raise ClientGone from error
        return True

    def _wait_to_write(self, conn: Connection) -> bool:
        self._release(conn, WRITE)
        return False

    def _release(self, conn: Connection, mask: int) -> bool:
        """Let the connection wait in the epoll set for ``mask``. True (the connection stays)."""
        with conn.lock:
            conn.busy = False
            if conn.connected:
                self._arm(conn.fd, mask)
        return True

    def _arm(self, fd: int, mask: int) -> None:
        try:
            self.epoll.modify(fd, mask)
        except (OSError, ValueError):
            pass  # closed meanwhile

    def _close(self, conn: Connection) -> None:
        with conn.lock:
            if conn.closed:
                return
            conn.closed = True
            conn.connected = False
        with self.table_lock:
            self._forget(conn)
            try:
                self.epoll.unregister(conn.fd)
            except (OSError, ValueError):
                pass
            conn.sock.close()  # under the table lock: the fd can't be reused before it is forgotten
            if not self.accepting and len(self.connections) < self.adj.connection_limit and not self.stopping.is_set():
                self.accepting = True
                for fd in self.listeners:
                    self._arm(fd, select.EPOLLIN | select.EPOLLONESHOT)
        for buffer in conn.outbufs:
            if isinstance(buffer, ReadOnlyFileBasedBuffer):
                buffer.close()
        conn.outbufs.clear()
        if conn.request is not None:
            conn.request.close()

    def _forget(self, conn: Connection) -> None:
        """Out of the table and the counts (the table lock held)."""
        if self.connections.get(conn.fd) is not conn:
            return
        del self.connections[conn.fd]
        self.per_host[conn.host] -= 1
        if not self.per_host[conn.host]:
            del self.per_host[conn.host]
        if self.share is not None:
            self.share.add(-1)

    def _close_idle(self, now: float) -> None:
        """Close connections with nothing in flight and no activity for ``channel_timeout``."""
        cutoff = now - self.adj.channel_timeout
        with self.table_lock:
            idle = [conn for conn in self.connections.values() if conn.last_activity < cutoff]
        for conn in idle:
            with conn.lock:
                if conn.busy or conn.last_activity >= cutoff:
                    continue
                conn.busy = True  # no worker takes it from here
            self._close(conn)


def _join_head(outbufs: list[Any]) -> tuple[int, bytes] | None:
    """The leading run of byte chunks joined (up to ``JOIN_BELOW``), so a small answer is one send."""
    total, count = 0, 0
    for item in outbufs:
        if isinstance(item, ReadOnlyFileBasedBuffer):
            break
        total += len(item)
        count += 1
        if total > JOIN_BELOW:
            break
    if count < 2:
        return None
    return count, b"".join(bytes(item) for item in outbufs[:count])


def _host(addr: Any) -> str:
    return str(addr[0]) if isinstance(addr, tuple) and addr else str(addr)


def _server_name(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):
        try:
            return socket.gethostname()
        except OSError:
            return "localhost"
    return f"[{host}]" if ":" in host else host
