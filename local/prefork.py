"""``studyhub serve`` on several processes without Nginx: one listening socket, N forked servers.

The GIL holds one process near one core whatever its threads, so ``studyhub serve`` forks as
many servers as there are cores (``--processes``). The parent does everything once, before the
fork: migrate, import every function (the children share those pages; ``gc.freeze()`` keeps
their collector from walking, and so copying, them), bind HOST:PORT. Each child runs the HTTP server on
the inherited socket (local/wsgi_server.py); a child holding more connections than the others
leaves a new one to them for a moment (``ConnectionShare``, local/epoll_server.py). The parent serves nothing and opens no connection of its own.

The parent supervises: a child that dies is forked again (connections wait in the socket's
backlog meanwhile); one that keeps dying stops everything with exit status 1. SIGTERM/SIGINT
(Ctrl-C) stop every child, then the job worker and beat, which the parent starts once. Every
process appends to the one log file, under a lock so that one rotation is one rotation.
"""

from __future__ import annotations

import fcntl
import gc
import logging
import logging.handlers
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("studyhub.serve")

RESTART_LIMIT = 5  # child restarts ...
RESTART_WINDOW = 60.0  # ... within this many seconds, then the server gives up
STOP_TIMEOUT = 10.0
BACKLOG = 1024


class BindError(RuntimeError):
    """HOST:PORT can't be listened on; said in one line."""


def bind(host: str, port: int) -> list[socket.socket]:
    """The listening sockets for HOST:PORT (as waitress would bind them: every address the name
    resolves to), before anything else starts, so a port taken fails at once."""
    from waitress.adjustments import Adjustments

    from .wsgi_server import listening_sockets

    try:
        sockets = listening_sockets(Adjustments(host=host, port=port).listen, BACKLOG)
    except OSError as error:
        raise BindError(f"can't listen on {host}:{port}: {error.strerror or error}") from None
    for sock in sockets:
        sock.setblocking(False)
    return sockets


def forget_clients() -> None:
    """The parent's database, cache, queue... clients: closed before the fork, so no child shares
    a socket with another (each opens its own on first use)."""
    from studyhub.clients import alipay, cache, mail, queue, search, storage
    from studyhub.core import db

    for client in (db, cache, storage, search, queue, mail, alipay):
        client.reset()


class SharedRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Several processes appending to one rotating file: an ``flock`` around each record, and a
    process whose file was rotated away by another reopens the new one instead of rotating again."""

    def __init__(self, filename: str, **options: Any) -> None:
        super().__init__(filename, **options)
        self._lock_path = filename + ".lock"
        self._lock_pid = -1
        self._lock_file: Any = None

    def _interprocess_lock(self) -> Any:
        if self._lock_pid != os.getpid():  # an flock is per open file: each process opens its own
            self._lock_file = open(self._lock_path, "a")  # noqa: SIM115 - held for the process's life
            self._lock_pid = os.getpid()
        return self._lock_file

    def emit(self, record: logging.LogRecord) -> None:
        lock = self._interprocess_lock()
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if self.stream is not None:
                try:
                    current = os.stat(self.baseFilename).st_ino
                except FileNotFoundError:
                    current = None
                if current != os.fstat(self.stream.fileno()).st_ino:
                    self.stream.close()
                    self.stream = self._open()
            super().emit(record)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def share_log_file() -> None:
    """Swap the rotating file handler ``setup_logging`` made for the shared one."""
    root = logging.getLogger("studyhub")
    for handler in list(root.handlers):
        if type(handler) is logging.handlers.RotatingFileHandler:
            shared = SharedRotatingFileHandler(
                handler.baseFilename,
                maxBytes=handler.maxBytes,
                backupCount=handler.backupCount,
                encoding=handler.encoding,
            )
            shared.setFormatter(handler.formatter)
            shared.studyhub_owned = True  # type: ignore[attr-defined]
            root.removeHandler(handler)
            handler.close()
            root.addHandler(shared)


def _die_with_parent() -> None:
    """In a child: SIGTERM when the parent dies, even by SIGKILL (Linux), so no server outlives it."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Supervisor:
    """Forks ``run_child`` ``processes`` times and keeps that many running until told to stop."""

    def __init__(self, processes: int, run_child: Callable[[int], None]) -> None:
        self.processes = processes
        self.run_child = run_child
        self.children: dict[int, int] = {}  # pid -> index
        self.exits: list[float] = []
        self.stopping = False

    def fork(self, index: int) -> None:
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child: serve until stopped, never return into the parent's code
            status = 0
            try:
                _die_with_parent()
                if os.getppid() != parent:  # it died before the line above
                    sys.exit(0)
                signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))
                signal.signal(signal.SIGINT, lambda _signum, _frame: sys.exit(0))
                self.run_child(index)
            except SystemExit as stop:
                status = stop.code if isinstance(stop.code, int) else 0
            except BaseException:  # noqa: BLE001 - reported, then this child ends
                log.exception("server process %d failed", index)
                status = 1
            finally:
                logging.shutdown()
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(status)
        self.children[pid] = index

    def run(self) -> int:
        """Until SIGTERM/SIGINT (0) or a child that keeps dying (1)."""

        def request_stop(_signum: int, _frame: Any) -> None:
            self.stopping = True

        previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        gc.collect()
        gc.freeze()  # what is imported now stays shared with every child (no refcount-free COW by the GC)
        try:
            for index in range(self.processes):
                self.fork(index)
            while not self.stopping:
                status = self.reap()
                if status is not None:
                    return status
                time.sleep(0.2)
            return 0
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def reap(self) -> int | None:
        """Fork again what died (only our own children: the job processes are the Popen's to reap)."""
        for pid in list(self.children):
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done, status = pid, -1
            if not done:
                continue
            index = self.children.pop(pid)
            if self.stopping:
                continue
            now = time.monotonic()
            self.exits = [t for t in self.exits if now - t < RESTART_WINDOW] + [now]
            if len(self.exits) > RESTART_LIMIT:
                log.error("server processes exited %d times in %.0f s; stopping", len(self.exits), RESTART_WINDOW)
                return 1
            log.warning("server process %d (pid %d) exited with status %s; starting it again", index, pid, status)
            self.fork(index)
        return None

    def stop(self) -> None:
        self.stopping = True
        for pid in self.children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + STOP_TIMEOUT
        while self.children and time.monotonic() < deadline:
            for pid in list(self.children):
                try:
                    done, _ = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    done = pid
                if done:
                    self.children.pop(pid, None)
            time.sleep(0.05)
        for pid in list(self.children):
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self.children.pop(pid, None)
