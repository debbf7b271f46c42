"""The embedded queue: kombu's SQLAlchemy transport on a SQLite file under ``var/``.

Why this transport: it is a real broker that survives restarts (messages are rows in a file) and
is safe with several processes at once — publishers insert, and a consumer claims a message with
``BEGIN IMMEDIATE`` (SQLite's write lock), so two consumers never get the same message. kombu's
filesystem transport is not: a consumer can pick up a message file while the publisher is still
writing it, and its "move to the processed folder" falls back to copy + delete across filesystems.

Two changes to kombu's transport: the SQLite file runs in WAL mode with a 30 s busy timeout (so
a publisher waits for a busy consumer instead of failing), and a delivered message is deleted
rather than kept forever with ``visible = false``.
"""
from __future__ import annotations

from json import loads
from pathlib import Path
from queue import Empty

from kombu.transport import sqlalchemy as kombu_sqla
from kombu.utils.encoding import bytes_to_str
from sqlalchemy import event, text


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Channel(kombu_sqla.Channel):
    def _engine_from_config(self):
        url = self.connection.client.hostname
        if url.startswith("sqlite:///"):
            Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        engine = super()._engine_from_config()
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        return engine

    def _get(self, queue):
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


def queue_url(var_dir: Path) -> str:
    return f"sqlite:///{var_dir / 'queue.sqlite3'}"
