"""Bounds on every wait for the database: ``BACKEND_TIMEOUT_SECONDS`` per call, shortened to what is
left of the request (``core.deadline``), and a breaker that answers 503 at once while the database
is known to be hung or gone.

MySQL/MariaDB: PyMySQL's connect, read and write timeouts (a read timeout is error 2013, "lost
connection", which the engine treats as a disconnect), a server-side statement timeout a little
shorter than the read timeout (the server aborts the statement and the connection stays usable),
and the pool's checkout wait. SQLite: the busy timeout, so a locked file answers 503 in time.
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import Connection, Engine

from studyhub.core import deadline
from studyhub.core.errors import Unavailable

log = logging.getLogger("studyhub.db")

# max_statement_time (MariaDB) / max_execution_time (MySQL) exceeded: a stalled statement.
STATEMENT_TIMEOUT_CODES = {1969, 3024}
# The server is gone or stopped answering: what opens the breaker.
CONNECTION_LOST_CODES = {2002, 2003, 2006, 2013, 2055}
# The server aborts a slow statement a little before the client's read timeout would cut the connection.
STATEMENT_SHARE = 0.9
UNKNOWN_SYSTEM_VARIABLE = 1193
# The pool replaces a connection this old, well before the server's idle timeout (set per session
# below, whatever the server's own default) would close it under us.
POOL_RECYCLE_SECONDS = 1800
SESSION_WAIT_TIMEOUT_SECONDS = 3600


def mysql_connect_args(timeout: float) -> dict[str, Any]:
    return {"connect_timeout": timeout, "read_timeout": timeout, "write_timeout": timeout}


def install_mysql(engine: Engine, timeout: float) -> None:
    statement_seconds = round(timeout * STATEMENT_SHARE, 3)

    @event.listens_for(engine, "do_connect")
    def connect_within_deadline(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        for name in ("connect_timeout", "read_timeout", "write_timeout"):
            cparams[name] = deadline.bounded(timeout)

    @event.listens_for(engine, "connect")
    def statement_timeout(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(
                f"SET SESSION max_statement_time = {statement_seconds}, wait_timeout = {SESSION_WAIT_TIMEOUT_SECONDS}"
            )
        except Exception as error:  # noqa: BLE001 - MySQL has max_execution_time (SELECTs only) instead
            if getattr(error, "args", (None,))[0] != UNKNOWN_SYSTEM_VARIABLE:
                raise
            cursor.execute(
                f"SET SESSION max_execution_time = {int(statement_seconds * 1000)}, "
                f"wait_timeout = {SESSION_WAIT_TIMEOUT_SECONDS}"
            )
        finally:
            cursor.close()

    @event.listens_for(engine, "before_cursor_execute")
    def read_within_deadline(conn: Connection, *_args: Any) -> None:
        _set_socket_timeouts(conn.connection.dbapi_connection, deadline.bounded(timeout))

    @event.listens_for(engine, "checkin")
    def restore_timeouts(dbapi_connection: Any, _record: Any) -> None:
        # the next request's first statement must not inherit a nearly spent request's deadline
        _set_socket_timeouts(dbapi_connection, timeout)


def _set_socket_timeouts(dbapi_connection: Any, seconds: float) -> None:
    # PyMySQL applies these to its socket before every read and write.
    if dbapi_connection is not None and hasattr(dbapi_connection, "_read_timeout"):
        dbapi_connection._read_timeout = seconds
        dbapi_connection._write_timeout = seconds


def install_sqlite(engine: Engine, timeout: float) -> None:
    # (the connection's own busy timeout is sqlite3's ``timeout`` connect argument)
    @event.listens_for(engine, "begin")
    def wait_for_the_lock_within_deadline(conn: Connection) -> None:
        # a writer queues on the busy timeout at BEGIN IMMEDIATE: no longer than the request has left
        conn.exec_driver_sql(f"PRAGMA busy_timeout={int(deadline.bounded(timeout) * 1000)}")


# --- the breaker --------------------------------------------------------------------------------


class Breaker:
    """Once a connection was lost or timed out, one request at a time probes the database and the
    others answer ``503`` at once: a hung server costs each request a timeout, and a crowd of them
    would otherwise hold every server thread, so even routes without a database would wait."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open = False
        self._probing = False

    @property
    def is_open(self) -> bool:
        return self._open

    def admit(self) -> bool:
        """True when this caller is the probe; raises ``Unavailable`` while another probe runs."""
        if not self._open:
            return False
        with self._lock:
            if self._probing:
                raise Unavailable("database")
            self._probing = True
            return True

    def succeeded(self, probe: bool) -> None:
        if self._open:
            log.info("database answers again: breaker closed")
        self._open = False
        if probe:
            self._probing = False

    def failed(self, error: BaseException, probe: bool) -> None:
        if is_connection_lost(error) and not self._open:
            log.warning("database lost (%s): breaker open, one probe at a time", _code(error))
            self._open = True
        if probe:
            self._probing = False


_breakers: weakref.WeakKeyDictionary[Engine, Breaker] = weakref.WeakKeyDictionary()
_breakers_lock = threading.Lock()


def breaker_for(engine: Engine) -> Breaker:
    with _breakers_lock:
        breaker = _breakers.get(engine)
        if breaker is None:
            breaker = _breakers[engine] = Breaker()
        return breaker


def _code(error: BaseException) -> int | None:
    args = getattr(getattr(error, "orig", None), "args", None)
    return args[0] if args and isinstance(args[0], int) else None


def is_connection_lost(error: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, exc.DBAPIError) and _code(current) in CONNECTION_LOST_CODES:
            return True
        current = current.__cause__ or current.__context__
    return False
