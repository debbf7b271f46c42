"""The embedded queue: kombu's SQLAlchemy transport on a SQLite file under ``var/``.

Why this transport: it is a real broker that survives restarts (messages are rows in a file) and
is safe with several processes at once — publishers insert, and a consumer claims a message with
``BEGIN IMMEDIATE`` (SQLite's write lock), so two consumers never get the same message. kombu's
filesystem transport is not: a consumer can pick up a message file while the publisher is still
writing it, and its "move to the processed folder" falls back to copy + delete across filesystems.

Changes to kombu's transport: the SQLite file runs in WAL mode with a 30 s busy timeout (so a
publisher waits for a busy consumer instead of failing), processes that create the tables at the
same moment don't fail, and a delivered message is deleted rather than kept with ``visible = false``.
"""

from __future__ import annotations

import time
from json import loads
from pathlib import Path
from queue import Empty
from typing import Any

from kombu.transport import sqlalchemy as kombu_sqla
from kombu.utils.encoding import bytes_to_str
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Channel(kombu_sqla.Channel):
    def _engine_from_config(self) -> Engine:
        url = self.connection.client.hostname
        if url.startswith("sqlite:///"):
            Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
        engine = super()._engine_from_config()
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        return engine

    def _open(self) -> tuple[Engine, Any]:
        """kombu's ``(engine, sessionmaker)`` for this broker URL."""
        # Processes starting together on a fresh file (serve, its worker and beat) race to create
        # the tables; the loser sees "already exists" and finds them on the second look.
        for attempt in range(5):
            try:
                return super()._open()
            except OperationalError as error:
                if "already exists" not in str(error) or attempt == 4:
                    raise
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")

    def _get_or_create(self, queue: str) -> Any:
        try:
            return super()._get_or_create(queue)
        except IntegrityError:  # another process created the same queue row first
            self.session.rollback()
            return super()._get_or_create(queue)

    def _get(self, queue: str, timeout: float | None = None) -> Any:
        # ``timeout``: kombu's signature; a polling transport's channel is asked without one
        obj = self._get_or_create(queue)
        session = self.session
        if session.bind.dialect.name == "sqlite":
            session.execute(text("BEGIN IMMEDIATE TRANSACTION"))
        try:
            msg = (
                session.query(self.message_cls)
                .with_for_update()
                .filter(self.message_cls.queue_id == obj.id)
                .filter(self.message_cls.visible != False)  # noqa: E712 - SQL expression
                .order_by(self.message_cls.sent_at, self.message_cls.id)
                .limit(1)
                .first()
            )
            if msg is None:
                raise Empty()
            payload = loads(bytes_to_str(msg.payload))
            session.delete(msg)
            return payload
        finally:
            session.commit()


class Transport(kombu_sqla.Transport):
    Channel = Channel
    # The worker polls the table; half a second keeps "visible within seconds" promises cheap.
    polling_interval = 0.5

    def drain_events(self, connection: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        # Celery's loop for polling transports waits up to 2 s per cycle and checks for shutdown
        # only between cycles; shorter cycles make a worker stop in well under a second.
        if timeout is not None:
            timeout = min(timeout, 0.5)
        return super().drain_events(connection, timeout=timeout, **kwargs)


def forget_engines_after_fork() -> None:
    """In a forked worker process: never reuse the parent's SQLite connections (a retried job is
    published from the child); the next use opens the child's own."""
    for engine, _session in list(Channel._engines.values()):
        engine.dispose(close=False)
    Channel._engines.clear()


def queue_url(var_dir: Path) -> str:
    return f"sqlite:///{var_dir / 'queue.sqlite3'}"
