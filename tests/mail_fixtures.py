"""A real SMTP server (aiosmtpd) for the tests that send email, and the queued jobs of the
current stack's broker, decoded."""

from __future__ import annotations

import base64
import email
import json
import time
from email import policy


class SmtpServer:
    """aiosmtpd on a fixed free port that can be stopped and started again (an outage)."""

    def __init__(self, port: int, **controller_options) -> None:
        self.port = port
        self.options = controller_options
        self.received: list[tuple[list[str], email.message.EmailMessage, bool]] = []
        self.controller = None

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.received.append((list(envelope.rcpt_tos), message, session.ssl is not None))
        return "250 Message accepted for delivery"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **self.options)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def wait_for(self, count: int, timeout: float = 20.0) -> list:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.received) >= count, f"{len(self.received)} emails after {timeout}s, expected {count}"
        return self.received


def queued_messages() -> list[dict]:
    """The jobs waiting in the current stack's broker, decoded (embedded SQLite queue or Redis)."""
    from studyhub.core.config import get_settings

    settings = get_settings()
    if settings.celery_broker_url:
        import redis

        client = redis.Redis.from_url(settings.celery_broker_url)
        raw = client.lrange(settings.cache_key_prefix + "celery", 0, -1)
    else:
        import sqlite3

        path = settings.var_dir / "queue.sqlite3"
        if not path.exists():  # nothing was ever queued on this stack
            return []
        with sqlite3.connect(path) as conn:
            raw = [row[0] for row in conn.execute("SELECT payload FROM kombu_message ORDER BY id")]
    messages = []
    for item in raw:
        envelope = json.loads(item)
        body = json.loads(base64.b64decode(envelope["body"]))
        raw_text = item.decode() if isinstance(item, bytes) else item
        messages.append({"task": envelope["headers"]["task"], "args": body[0], "raw": raw_text})
    return messages
