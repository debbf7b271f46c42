"""One logging setup for every process: console, plus a rotating file under ``var/logs/``
(as the seed's ``LOGGING`` had) or JSON lines with ``LOG_FORMAT=json``.

Request lines carry request id, method, path, status, duration and user id. A filter scrubs
anything that looks like a password, token or key before a record is written anywhere. What a
client wrote (a path, a request id, an exception's message) is escaped, so it can't start a line
of its own: one record is one line, its traceback's lines indented under it.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import re
import threading
import traceback
import uuid
from collections.abc import Callable
from types import TracebackType
from typing import cast

from studyhub.core.config import get_settings

_done = False
_lock = threading.Lock()
REQUEST_FIELDS = ("request_id", "method", "path", "status", "duration_ms", "user_id", "function")

_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")  # any JWT, wherever it appears
_PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----")
_URL_CREDENTIALS = re.compile(r"(://[^:/@\s]+:)([^@\s]+)(@)")
_AUTH_HEADER = re.compile(r"(?i)\b(bearer|jwt|basic)\s+[A-Za-z0-9._~+/=-]+")
_KEY_VALUE = re.compile(r"(?i)(password|passwd|pwd|secret|token|private_key|api_key)(\"?\s*[:=]\s*\"?)([^\s\"',&}]+)")


# Anything that ends a line for some reader: C0 (\n, \r, \v, \f, \x1c-\x1e...), DEL, C1 (NEL) and
# the Unicode line and paragraph separators (str.splitlines breaks on all of them).
_LINE_BREAKERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_REQUEST_ID = re.compile(r"[!-~]{1,64}")  # printable ASCII, no space


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def escape(text: str) -> str:
    """``text`` on one line: control characters become ``\\n``, ``\\r``, ``\\t``, ``\\xNN``, ``\\uNNNN``."""
    return _LINE_BREAKERS.sub(_escaped, text)


def safe_request_id(value: str | None) -> str:
    """The client's ``X-Request-Id`` when it is 1-64 printable ASCII characters, else a new one."""
    if value and _REQUEST_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


def _escape_exception_messages(exc: traceback.TracebackException) -> None:
    """Tracebacks keep their lines; the messages inside them (``ValueError: <input>``) are escaped."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        message = getattr(current, "_str", None)  # the message line's text (CPython 3.5+)
        if isinstance(message, str):
            setattr(current, "_str", escape(message))  # noqa: B010 - a private field, not typed
        stack.extend(e for e in (current.__cause__, current.__context__) if e is not None)
        stack.extend(getattr(current, "exceptions", None) or ())


def format_exception(exc_info: tuple[type[BaseException], BaseException, TracebackType | None]) -> str:
    exc = traceback.TracebackException(*exc_info)
    _escape_exception_messages(exc)
    lines = "".join(exc.format()).rstrip("\n").split("\n")
    return "\n".join("    " + escape(line) for line in lines)  # indented: never mistaken for a record


def scrub(text: str) -> str:
    text = _JWT.sub("***", text)
    text = _PEM.sub("***PRIVATE KEY***", text)
    text = _URL_CREDENTIALS.sub(lambda m: m.group(1) + "***" + m.group(3), text)
    text = _AUTH_HEADER.sub(lambda m: m.group(1) + " ***", text)
    return _KEY_VALUE.sub(lambda m: m.group(1) + m.group(2) + "***", text)


class ScrubFilter(logging.Filter):
    """For a handler whose formatter isn't ours: the message scrubbed, once per record however many
    handlers carry the filter. Our formatters scrub the whole line themselves and don't need it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "studyhub_scrubbed", False):
            return True
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        record.studyhub_scrubbed = True
        return True


def _formatted_once(formatter: logging.Formatter, record: logging.LogRecord, build: Callable[[], str]) -> str:
    """The scrubbed line, built and scrubbed once per record: the console and the file share one
    formatter, so the second handler reuses the first one's line."""
    cached = record.__dict__.get("_studyhub_line")
    if cached is not None and cached[0] is formatter:
        return cast(str, cached[1])
    line = scrub(build())
    record.__dict__["_studyhub_line"] = (formatter, line)
    return line


class TextFormatter(logging.Formatter):
    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        line = escape(super().formatMessage(record))
        if getattr(record, "request_id", None):
            parts = " ".join(f"{k}={escape(str(getattr(record, k, None)))}" for k in REQUEST_FIELDS)
            line = f"{line} {parts}"
        return line

    def formatException(self, ei) -> str:  # type: ignore[no-untyped-def]  # noqa: N802 - logging's name
        return format_exception(ei) if ei[1] is not None else super().formatException(ei)

    def formatStack(self, stack_info: str) -> str:  # noqa: N802 - logging's name
        return "\n".join("    " + escape(line) for line in stack_info.split("\n"))

    def format(self, record: logging.LogRecord) -> str:
        return _formatted_once(self, record, lambda: super(TextFormatter, self).format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return _formatted_once(self, record, lambda: self._json(record))

    def _json(self, record: logging.LogRecord) -> str:
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
        # json escapes C0; the other line breakers (NEL, U+2028, U+2029) are escaped here
        text = json.dumps(data, ensure_ascii=False, default=str)
        return _LINE_BREAKERS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class _ThroughStudyhub(logging.Handler):
    """Hands a library's record to the ``studyhub`` logger's handlers: the same format, scrubbing and file."""

    def emit(self, record: logging.LogRecord) -> None:
        logging.getLogger("studyhub").handle(record)


def adopt(name: str, *filters: logging.Filter) -> None:
    """The library logger ``name`` and its children write through StudyHub's handlers, from
    ``WARNING`` up, instead of Python's last resort (bare text on stderr, neither scrubbed nor in
    ``LOG_FILE``); ``filters`` (on the way in, so its children's records pass them too) replace
    those of an earlier call. Idempotent."""
    logger = logging.getLogger(name)
    through = next((h for h in logger.handlers if isinstance(h, _ThroughStudyhub)), None)
    if through is None:
        through = _ThroughStudyhub()
        logger.addHandler(through)
    through.filters = list(filters)
    logger.setLevel(logging.WARNING)
    logger.propagate = False


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
                rotating.studyhub_owned = True  # type: ignore[attr-defined]
                root.addHandler(rotating)
            except OSError:  # a read-only filesystem (Lambda): console only
                pass
        _done = True
