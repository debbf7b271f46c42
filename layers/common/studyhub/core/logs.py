"""One logging setup for every process: console, plus a rotating file under ``var/logs/``
(as the seed's ``LOGGING`` had) or JSON lines with ``LOG_FORMAT=json``.

Request lines carry request id, method, path, status, duration and user id. A filter scrubs
anything that looks like a password, token or key before a record is written anywhere.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import re
import threading

from studyhub.core.config import get_settings

_done = False
_lock = threading.Lock()
REQUEST_FIELDS = ("request_id", "method", "path", "status", "duration_ms", "user_id", "function")

_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")  # any JWT, wherever it appears
_PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----")
_URL_CREDENTIALS = re.compile(r"(://[^:/@\s]+:)([^@\s]+)(@)")
_AUTH_HEADER = re.compile(r"(?i)\b(bearer|jwt|basic)\s+[A-Za-z0-9._~+/=-]+")
_KEY_VALUE = re.compile(r"(?i)(password|passwd|pwd|secret|token|private_key|api_key)(\"?\s*[:=]\s*\"?)([^\s\"',&}]+)")


def scrub(text: str) -> str:
    text = _JWT.sub("***", text)
    text = _PEM.sub("***PRIVATE KEY***", text)
    text = _URL_CREDENTIALS.sub(lambda m: m.group(1) + "***" + m.group(3), text)
    text = _AUTH_HEADER.sub(lambda m: m.group(1) + " ***", text)
    return _KEY_VALUE.sub(lambda m: m.group(1) + m.group(2) + "***", text)


class ScrubFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        if getattr(record, "request_id", None):
            parts = " ".join(f"{k}={getattr(record, k, None)}" for k in REQUEST_FIELDS)
            base = f"{base} {parts}"
        return scrub(base)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in REQUEST_FIELDS:
            if hasattr(record, key):
                data[key] = getattr(record, key)
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return scrub(json.dumps(data, ensure_ascii=False, default=str))


def setup_logging(force: bool = False) -> None:
    global _done
    if _done and not force:
        return
    with _lock:
        if _done and not force:
            return
        settings = get_settings()
        root = logging.getLogger("studyhub")
        for handler in list(root.handlers):
            if getattr(handler, "studyhub_owned", False):
                root.removeHandler(handler)
                handler.close()
        root.setLevel(settings.log_level)
        root.propagate = False  # our own handlers; no duplicate lines through the root logger
        if settings.log_format == "json":
            formatter: logging.Formatter = JsonFormatter()
        else:
            formatter = TextFormatter("%(levelname)s %(asctime)s %(name)s %(message)s")
        console = logging.StreamHandler()
        console.setFormatter(formatter)
        console.addFilter(ScrubFilter())
        console.studyhub_owned = True  # type: ignore[attr-defined]
        root.addHandler(console)
        if settings.log_file is not None:
            try:
                settings.log_file.parent.mkdir(parents=True, exist_ok=True)
                rotating = logging.handlers.RotatingFileHandler(
                    settings.log_file,
                    maxBytes=50 * 1024 * 1024,
                    backupCount=10,
                    encoding="utf-8",
                )
                rotating.setFormatter(formatter)
                rotating.addFilter(ScrubFilter())
                rotating.studyhub_owned = True  # type: ignore[attr-defined]
                root.addHandler(rotating)
            except OSError:  # a read-only filesystem (Lambda): console only
                pass
        _done = True
