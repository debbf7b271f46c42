"""Typed parameters from the path and the query string, each parsed by one rule.

A path id is a positive integer below 2^53 written in ASCII digits; anything else names no row,
so it is ``404`` — the same for every group (a JSON ``true``, ``1.0`` or ``٣`` is no id).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studyhub.core import errors

if TYPE_CHECKING:  # a function's import stays without pydantic: text_param gets the model at run time
    from pydantic import BaseModel

MAX_ID = 2**53 - 1


def parse_id(raw: object) -> int | None:
    """``raw`` as a row id, or ``None`` when it can't be one (bodies use this for references)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 16:
        value = int(raw)
    else:
        return None
    return value if 0 < value <= MAX_ID else None


def path_id(raw: object) -> int:
    """A path's ``{id}``: the id, or ``404``."""
    value = parse_id(raw)
    if value is None:
        raise errors.NotFound()
    return value


def int_param(query: dict[str, str], name: str, *, low: int | None = None, high: int | None = None) -> int | None:
    """An integer filter from the query string (``?label=3``); absent → None, bad → 400."""
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise errors.Invalid.field(name, "请填写合法的整数值。", code="invalid_filter") from None
    if abs(value) > MAX_ID:  # no id or option is that large; a database can't bind it either
        raise errors.Invalid.field(name, "数值超出范围。", code="invalid_filter")
    if (low is not None and value < low) or (high is not None and value > high):
        message = f"必须是 {low} 到 {high} 之间的整数。" if high is not None else "不是合法的选项。"
        raise errors.Invalid.field(name, message, code="invalid_filter")
    return value


TRUE_WORDS, FALSE_WORDS = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


def bool_param(query: dict[str, str], name: str) -> bool | None:
    """A yes/no filter from the query string (``?is_active=false``, as DRF's BooleanFilter reads it);
    absent → None, anything else → 400."""
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    word = raw.strip().lower()
    if word in TRUE_WORDS or word in FALSE_WORDS:
        return word in TRUE_WORDS
    raise errors.Invalid.field(name, "必须是 true 或 false。", code="invalid_filter")


def check_single_values(query_params: Any) -> None:
    """Every documented query parameter is one value: ``?size=1&size=2`` is 400, not "the last"."""
    for name in query_params or ():
        if len(query_params.getlist(name)) > 1:
            raise errors.Invalid.field(name, "该参数只能出现一次。", code="invalid_filter")


def text_param(query: dict[str, str], name: str, filters: type[BaseModel] | int) -> str:
    """A text filter from the query string (``?search=``), at most as long as the route's filter
    model documents it (its ``max_length``), or ``filters`` characters when it is a number (the
    model's own constant: a route that needs no pydantic); absent → ``""``, longer → 400."""
    if isinstance(filters, int):
        max_length = filters
    else:
        from annotated_types import MaxLen

        max_length = next(m.max_length for m in filters.model_fields[name].metadata if isinstance(m, MaxLen))
    value = query.get(name) or ""
    if len(value) > max_length:
        raise errors.Invalid.field(name, f"长度不能超过 {max_length} 个字符。", code="invalid_filter")
    return value
