"""Limits every text input shares, checked where the request is parsed (API.md §1 "Limits on
input"): JSON nested at most ``MAX_JSON_DEPTH`` levels, and no string — body key or value, query
parameter, path parameter — with a NUL or a lone surrogate (neither survives a database, a cache
key or a log line)."""

from __future__ import annotations

import re
from typing import Any

from studyhub.core import errors

MAX_JSON_DEPTH = 32
BAD_CHARACTER = re.compile("[\x00\ud800-\udfff]")
BAD_TEXT_MESSAGE = "不能包含空字符或无效的 Unicode 字符。"
# A JSON string (escapes included): its brackets are text, not nesting.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
_TOO_MANY_OPENERS = re.compile(rb"[\[{]{%d}" % (MAX_JSON_DEPTH + 1))
_OPENERS = frozenset(b"[{")
NO_FIELD = "non_field_errors"


def check_json_depth(raw: bytes) -> None:
    """``400`` when ``raw`` nests deeper than ``MAX_JSON_DEPTH``, decided on the bytes before any
    parser recurses into them (1,000 levels would exhaust ``json.loads``'s recursion)."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_JSON_DEPTH:
        return  # not enough brackets to nest that deep
    brackets = _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    if _TOO_MANY_OPENERS.search(brackets) is None:  # the usual attack, found at C speed
        depth = 0
        for byte in brackets:  # bounded by MAX_BODY_BYTES (json.loads takes longer on it), left early
            depth = depth + 1 if byte in _OPENERS else depth - 1
            if depth > MAX_JSON_DEPTH:
                break
        else:
            return
    raise errors.Invalid(f"JSON 嵌套不能超过 {MAX_JSON_DEPTH} 层。", code="parse_error")


def has_bad_character(text: str) -> bool:
    return BAD_CHARACTER.search(text) is not None


def check_text(name: str, text: str) -> None:
    if has_bad_character(text):
        raise errors.Invalid.field(name, BAD_TEXT_MESSAGE, code="invalid_characters")


def check_json_text(document: Any) -> None:
    """Every key and string value of a parsed JSON document, walked without recursion; an error
    names the top-level field it was found under (a bad name itself is reported as a whole)."""
    fields = document.items() if isinstance(document, dict) else [(NO_FIELD, document)]
    for field, value in fields:
        check_text(NO_FIELD, field)
        pending = [value]
        while pending:
            item = pending.pop()
            if isinstance(item, str):
                check_text(field, item)
            elif isinstance(item, dict):
                for key, nested in item.items():
                    check_text(field, key)
                    pending.append(nested)
            elif isinstance(item, list):
                pending.extend(item)


def check_params(params: dict[str, str]) -> None:
    """Query or path parameters: names and values."""
    for name, value in params.items():
        check_text(NO_FIELD, name)
        if isinstance(value, str):
            check_text(name, value)
