"""Engine, one session per request, after-commit hooks, retry on deadlock.

The engine is created lazily and kept per process (a pool, not a connection per request: PyMySQL
builds a TLS context on every connect). SQLite runs in WAL mode with a busy timeout so several
local processes and threads can write. Driver errors that mean "the database can't be reached"
become ``Unavailable("database")``.

Round trips: a request costs its statements and one ``COMMIT`` (or ``ROLLBACK``), nothing else.
No ping on checkout (a dead pooled connection is seen without a round trip: the server closed its
socket, which is then readable; ``_alive_on_checkout``), connections are recycled before the server
would time them out (``db_limits``), and the pool's own ``ROLLBACK`` on return is skipped when
SQLAlchemy itself just ended the connection's transaction (``_reset_on_return``). ``sqlalchemy.orm``
is imported on first use of a session: the health check and Core-only paths don't pay for it.
"""

from __future__ import annotations

import logging
import random
import select
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import Connection, CursorResult, Engine
from sqlalchemy.sql import Executable

from studyhub.core import deadline
from studyhub.core.config import get_settings
from studyhub.core.errors import Unavailable

if TYPE_CHECKING:  # the ORM is imported where a session is first made (see the module's doc)
    from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger("studyhub.db")
T = TypeVar("T")

_lock = threading.Lock()
_engine: Engine | None = None
_sessionmaker: sessionmaker[Session] | None = None
# Connections per process: one per server thread (``size_pool``); 10 where nobody says (jobs, CLI).
_pool_size = 10

# MySQL client/server codes that mean "not reachable / not usable right now".
# ... and 1969/3024: a statement stopped by the statement timeout (core/db_limits.py).
_UNREACHABLE_MYSQL_CODES = {1040, 1045, 1049, 1053, 1969, 2002, 2003, 2005, 2006, 2013, 2055, 3024}
# Deadlock found / lock wait timeout: Galera certification conflicts surface as 1213 too.
RETRYABLE_MYSQL_CODES = {1213, 1205}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # A deferred transaction that reads and then writes fails at once with "database is locked"
    # when another writer got there first (the busy timeout does not apply to lock upgrades).
    # Taking the write lock up front makes writers queue on the busy timeout instead.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, *, tls: bool = False, timeout: float | None = None) -> Engine:
    """``timeout``: the longest wait on the database (``BACKEND_TIMEOUT_SECONDS`` by default)."""
    from studyhub.core import db_limits

    timeout = timeout or get_settings().backend_timeout_seconds
    if url.startswith("sqlite"):
        from pathlib import Path

        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": timeout, "isolation_level": None},
            pool_size=20,
            max_overflow=20,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        db_limits.install_sqlite(engine, timeout)  # before BEGIN IMMEDIATE: it sets how long that waits
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    connect_args: dict = db_limits.mysql_connect_args(timeout)
    if url.startswith("mysql"):
        connect_args["charset"] = "utf8mb4"
        if not tls:
            connect_args["ssl_disabled"] = True
    engine = create_engine(
        url,
        connect_args=connect_args,
        # no pool_pre_ping (a round trip per request): dead connections are found on checkout
        # without one, and recycled before the server's idle timeout would close them
        pool_recycle=db_limits.POOL_RECYCLE_SECONDS,
        # a connection per server thread: none waits for another's; with the database hung the
        # breaker (db_limits) answers 503 at once after the first timeouts, so threads come free
        pool_size=_pool_size,
        max_overflow=2,
        pool_timeout=timeout,
        pool_reset_on_return=None,  # _reset_on_return does it, only when a transaction is open
    )
    event.listen(engine, "checkout", _alive_on_checkout)
    event.listen(engine, "reset", _reset_on_return)
    _track_transactions(engine)
    if url.startswith("mysql"):
        db_limits.install_mysql(engine, timeout)
    return engine


# record.info key: the connection's last transaction ended (COMMIT or ROLLBACK) and nothing ran since.
_ENDED = "studyhub_transaction_ended"


def _track_transactions(engine: Engine) -> None:
    """Whether a connection given back holds an open transaction, known without asking the server
    (PyMySQL's status flags aren't updated by result sets, so they can't tell)."""

    # (an invalidated connection has no info to keep: reading it would try to reconnect)
    def ended(conn: Connection) -> None:
        if not conn.invalidated:
            conn.info[_ENDED] = True

    def begun(conn: Connection) -> None:
        if not conn.invalidated:
            conn.info[_ENDED] = False

    def failed(context: Any) -> None:
        # a COMMIT or ROLLBACK that raised leaves the state unknown: the pool rolls back
        connection = context.connection
        if connection is not None and not connection.invalidated:
            connection.info[_ENDED] = False

    event.listen(engine, "begin", begun)
    event.listen(engine, "commit", ended)
    event.listen(engine, "rollback", ended)
    event.listen(engine, "handle_error", failed)


def _reset_on_return(_dbapi_connection: Any, record: Any, state: Any) -> None:
    # After a COMMIT (or a ROLLBACK) the pool's own reset would send a second ROLLBACK for nothing;
    # a connection given back inside a transaction (an error path, a raw connection) is rolled back.
    if not state.transaction_was_reset and not record.info.get(_ENDED, False):
        _dbapi_connection.rollback()


def _alive_on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """An idle MySQL connection has nothing to read: if its socket is readable the server closed it
    (restart, kill, idle timeout) or sent an error before closing. A ``DisconnectionError`` here
    makes the pool drop it and connect again, so the request's first statement runs on a live
    connection (SQLAlchemy's documented way; a ping would cost a round trip per request)."""
    record.info[_ENDED] = False  # until SQLAlchemy ends a transaction on it (a raw use: unknown)
    sock = getattr(dbapi_connection, "_sock", None)
    if sock is None or not hasattr(select, "poll"):
        return
    poller = select.poll()
    poller.register(sock, select.POLLIN | select.POLLERR | select.POLLHUP)
    if poller.poll(0):
        raise exc.DisconnectionError("the server closed this pooled connection")


def size_pool(threads: int) -> None:
    """One connection per server thread, for engines made from now on (``studyhub serve``)."""
    global _pool_size
    _pool_size = max(1, threads)


def get_engine() -> Engine:
    global _engine, _sessionmaker
    if _engine is None:
        with _lock:
            if _engine is None:
                settings = get_settings()
                _engine = make_engine(settings.database_url, tls=settings.database_tls)
    return _engine


def get_sessionmaker() -> sessionmaker[Session]:
    global _sessionmaker
    engine = get_engine()
    if _sessionmaker is None:
        from sqlalchemy.orm import sessionmaker

        with _lock:
            if _sessionmaker is None:
                for callback in _before_sessions:
                    callback()
                _sessionmaker = sessionmaker(engine, expire_on_commit=False)
    return _sessionmaker


_before_sessions: list[Callable[[], None]] = []


def when_sessions(callback: Callable[[], None]) -> None:
    """Call ``callback`` before the process's first ORM session is made (listeners on ``Session``,
    registered without importing the ORM before it is needed); now, if one was. Idempotent
    callbacks: each sessionmaker made (tests reset it) calls them again."""
    if _sessionmaker is not None:
        callback()
    elif callback not in _before_sessions:
        _before_sessions.append(callback)


def reset() -> None:
    """Drop the engine (tests switch databases; forked workers must not share sockets)."""
    global _engine, _sessionmaker
    with _lock:
        if _engine is not None:
            _engine.dispose()
        _engine = None
        _sessionmaker = None


def dispose_after_fork() -> None:
    """Called in forked workers: let the child open its own connections."""
    if _engine is not None:
        _engine.dispose(close=False)


def on_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` after the session's transaction commits (queue jobs, delete files)."""
    session.info.setdefault("after_commit", []).append(callback)


def on_rollback(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` if the transaction rolls back (e.g. delete a file just stored)."""
    session.info.setdefault("after_rollback", []).append(callback)


def _run_hooks(session: Session, key: str) -> None:
    hooks = session.info.pop(key, [])
    session.info.pop("after_rollback" if key == "after_commit" else "after_commit", None)
    for hook in hooks:
        try:
            hook()
        except Exception:  # a hook failing must not turn a committed write into an error
            log.exception("%s hook failed", key)


def mysql_error_code(error: BaseException) -> int | None:
    orig = getattr(error, "orig", None)
    args = getattr(orig, "args", None)
    if args and isinstance(args[0], int):
        return args[0]
    return None


def is_unreachable(error: BaseException) -> bool:
    if isinstance(error, exc.TimeoutError):  # pool exhausted
        return True
    if isinstance(error, exc.DBAPIError):
        if error.connection_invalidated:
            return True
        code = mysql_error_code(error)
        if code in _UNREACHABLE_MYSQL_CODES:
            return True
        message = str(getattr(error, "orig", error)).lower()
        if isinstance(error, exc.OperationalError) and (
            "database is locked" in message or "unable to open database" in message
        ):
            return True
    return False


def is_retryable(error: BaseException | None) -> bool:
    # Follows the chain: a deadlock (or a Galera brute-force abort) inside a SAVEPOINT rolls the
    # whole transaction back, so the ROLLBACK TO SAVEPOINT that follows fails with 1305 instead.
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, exc.DBAPIError):
            if mysql_error_code(error) in RETRYABLE_MYSQL_CODES:
                return True
            if "database is locked" in str(getattr(error, "orig", "")).lower():
                return True
        error = error.__cause__ or error.__context__
    return False


def rows_matched(session: Session, statement: Executable) -> int:
    """Run an UPDATE or DELETE in ``session``; how many rows it matched (the cursor's rowcount)."""
    # Session.execute is typed as returning a plain Result; for a DML statement it is a CursorResult.
    return cast("CursorResult[Any]", session.execute(statement)).rowcount


class Transaction:
    """One unit of work, begun on first use: ``connection`` for Core statements (a read that needs
    no ORM never imports it: the caller and the topics list, ``studyhub.tables``) and ``session``
    when a rule needs the ORM, on the same connection and in the same transaction. Once there is a
    session it owns the transaction (``control_fully``): it commits, rolls back and runs the hooks."""

    def __init__(self) -> None:
        self._connection: Connection | None = None
        self._session: Session | None = None

    @classmethod
    def over(cls, session: Session) -> Transaction:
        """The transaction of a session opened elsewhere (``run_in_transaction``'s attempts)."""
        transaction = cls()
        transaction._session = session
        return transaction

    @property
    def connection(self) -> Connection:
        if self._session is not None:
            return self._session.connection()
        if self._connection is None:
            connection = get_engine().connect()
            connection.begin()
            self._connection = connection
        return self._connection

    @property
    def session(self) -> Session:
        if self._session is None:
            make = get_sessionmaker()
            if self._connection is None:
                self._session = make()
            else:
                self._session = make(bind=self._connection, join_transaction_mode="control_fully")
        return self._session

    def commit(self) -> None:
        if self._session is not None:
            self._session.commit()
        # a session made but never used hasn't joined the transaction Core statements began
        if self._connection is not None and self._connection.in_transaction():
            self._connection.commit()

    def rollback(self) -> None:
        if self._session is not None:
            self._session.rollback()
        if self._connection is not None and self._connection.in_transaction():
            self._connection.rollback()

    def close(self, hooks: str) -> None:
        """Close it and run the session's ``after_commit`` or ``after_rollback`` hooks."""
        session, connection = self._session, self._connection
        if session is not None:
            session.close()
        if connection is not None:
            connection.close()
        if session is not None:
            _run_hooks(session, hooks)


@contextmanager
def transaction_scope() -> Iterator[Transaction]:
    """One unit of work: commit on success, roll back on any error, then run the hooks."""
    from studyhub.core.db_limits import breaker_for

    transaction = Transaction()
    breaker = breaker_for(get_engine())
    probe = breaker.admit()  # 503 at once while the database is known to be lost
    try:
        yield transaction
        transaction.commit()
    except BaseException as error:
        breaker.failed(error, probe)
        try:
            transaction.rollback()
        except Exception:
            pass
        transaction.close("after_rollback")
        if isinstance(error, (exc.DBAPIError, exc.TimeoutError)) and is_unreachable(error):
            raise Unavailable("database") from error
        raise
    else:
        breaker.succeeded(probe)
        transaction.close("after_commit")


@contextmanager
def session_scope() -> Iterator[Session]:
    """``transaction_scope`` for work that is all ORM: its session."""
    with transaction_scope() as transaction:
        yield transaction.session


def ping() -> None:
    """``SELECT 1`` on a pooled connection through the breaker, without the ORM (health checks)."""
    from studyhub.core.db_limits import breaker_for

    engine = get_engine()
    breaker = breaker_for(engine)
    probe = breaker.admit()
    try:
        with engine.connect() as conn:  # closing it rolls back: SELECT 1 and a ROLLBACK
            conn.exec_driver_sql("SELECT 1")
    except BaseException as error:
        breaker.failed(error, probe)
        raise
    breaker.succeeded(probe)


def run_in_transaction(work: Callable[[Session], T], *, attempts: int | None = None) -> T:
    """Run ``work`` in its own transaction, retrying the whole of it on deadlock (1213/1205).

    ``attempts`` defaults to ``DB_RETRY_ATTEMPTS`` (5; a Galera cluster taking writes on every node
    needs 10). Backoff doubles from 10 ms up to 250 ms, with jitter: on Galera every loser of a
    certification conflict on a hot row would otherwise come back at the same moment and conflict
    again (tests/e2e/test_galera_cluster.py measures it).
    """
    attempts = attempts or get_settings().db_retry_attempts
    for attempt in range(1, attempts + 1):
        try:
            with session_scope() as session:
                return work(session)
        except exc.DBAPIError as error:
            # no retry once the request's deadline passed: a 503 now beats an answer too late
            if attempt < attempts and is_retryable(error) and not deadline.expired():
                log.warning("transaction retry %d after %s", attempt, mysql_error_code(error))
                time.sleep(random.uniform(0.5, 1.0) * min(0.01 * 2 ** (attempt - 1), 0.25))
                continue
            raise
    raise AssertionError("unreachable")
