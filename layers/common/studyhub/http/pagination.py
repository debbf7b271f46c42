"""The contract's list shape: ``page``/``size`` or ``limit``/``offset`` in, ``{count, next,
previous, results}`` out, with links under ``/api`` that keep the other query parameters."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

from studyhub.core import errors
from studyhub.core.prepared import Prepared
from studyhub.core.urls import absolute
from studyhub.http.request import Req

# The deepest row a list or a search may reach (``page × size``, ``offset + limit``): what
# Elasticsearch's index.max_result_window allows, and far below anything that could overflow a
# database's OFFSET or make the embedded index allocate for it.
MAX_WINDOW = 10_000
WINDOW_MESSAGE = f"只能浏览前 {MAX_WINDOW} 条结果，请缩小查询范围。"
_INTEGER = re.compile(r"[+-]?[0-9]+")


def _positive_int(query: dict[str, str], name: str, default: int, *, allow_zero: bool = False) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    raw = raw.strip()
    if not _INTEGER.fullmatch(raw):
        raise errors.Invalid.field(name, "请填写合法的整数值。", code="invalid_pagination")
    # past 18 digits a number is beyond every cap and window: it is never parsed whole
    sign = -1 if raw.startswith("-") else 1
    digits = raw.lstrip("+-").lstrip("0") or "0"
    value = sign * (int(digits) if len(digits) <= 18 else 10**18)
    if value < 0 or (value == 0 and not allow_zero):
        raise errors.Invalid.field(name, "必须是正整数。", code="invalid_pagination")
    return value


def page_window(req: Req, *, default_size: int = 10, max_size: int = 100) -> tuple[int, int, str]:
    """``(offset, limit, style)`` from ``page``/``size`` or ``limit``/``offset``, checked once here:
    the window served (``size``/``limit`` capped at ``max_size``) ends within ``MAX_WINDOW``."""
    query = req.query
    # Both pairs are checked whichever is used: `?limit=5&size=-1` is as wrong as `?size=-1`.
    size = min(_positive_int(query, "size", default_size), max_size)
    page = _positive_int(query, "page", 1)
    if page > MAX_WINDOW:  # beyond the window whatever the size (and whichever pair is used)
        raise errors.Invalid.field("page", WINDOW_MESSAGE, code="invalid_pagination")
    if "limit" in query or "offset" in query:
        limit = min(_positive_int(query, "limit", default_size), max_size)
        offset = _positive_int(query, "offset", 0, allow_zero=True)
        if offset + limit > MAX_WINDOW:
            raise errors.Invalid.field("offset", WINDOW_MESSAGE, code="invalid_pagination")
        return offset, limit, "limit"
    if page * size > MAX_WINDOW:
        raise errors.Invalid.field("page", WINDOW_MESSAGE, code="invalid_pagination")
    return (page - 1) * size, size, "page"


def page_links(req: Req, offset: int, limit: int, style: str, count: int) -> tuple[str | None, str | None]:
    query = req.query

    def link(new_offset: int) -> str:
        params = dict(query)
        if style == "limit":
            params["limit"] = str(limit)
            params["offset"] = str(new_offset)
            if new_offset == 0:
                params.pop("offset")  # as DRF does for the first page
        else:
            params["page"] = str(new_offset // limit + 1)
            if new_offset == 0:
                params.pop("page")
        qs = urlencode(params)
        return absolute(req.public_path + ("?" + qs if qs else ""))  # on PUBLIC_BASE_URL when set

    nxt = link(offset + limit) if offset + limit < count else None
    prev = link(max(0, offset - limit)) if offset > 0 else None
    return nxt, prev


def page_of(req: Req, count: int, results: list[Any], offset: int, limit: int, style: str) -> dict[str, Any]:
    """The list shape around one page already read (search pages come from the index)."""
    nxt, prev = page_links(req, offset, limit, style, count)
    return {"count": count, "next": nxt, "previous": prev, "results": results}


def paginate(req: Req, stmt: Any, serialize: Callable[[list[Any]], list[dict[str, Any]]]) -> dict[str, Any]:
    """Run ``stmt`` (a ``select()`` of ORM rows) one page at a time; the contract's list shape.

    ``serialize`` gets the whole page, so it can batch-load related rows in a fixed number of
    queries instead of one per row.
    """
    from sqlalchemy import func, select

    offset, limit, style = page_window(req)
    session = req.session
    count = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = list(session.scalars(stmt.offset(offset).limit(limit)).unique()) if count else []
    return page_of(req, count, serialize(rows), offset, limit, style)


def paginate_rows(
    req: Req,
    page: Prepared,
    count: Prepared,
    serialize: Callable[[Sequence[Any]], list[dict[str, Any]]],
    *,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``paginate`` for Core statements built once (no ORM entities, so no per-row identity map or
    attribute instrumentation, and no Core execute path: ``core.prepared``): ``page`` is
    ``core.prepared.paged(stmt)``, ``count`` a ``select(func.count())`` over the same FROM and WHERE (no derived
    table; the domain module keeps the two filters in one place). ``params`` fill both statements'
    ``bindparam()``s. ``serialize`` gets the page's rows, read by column name (``row.id``,
    ``row.label_name``). Both run on the request's connection (no ORM session), in its transaction.
    """
    offset, limit, style = page_window(req)
    conn = req.connection
    total = count.scalar(conn, params) or 0
    rows = page.all(conn, {**(params or {}), "page_offset": offset, "page_limit": limit}) if total else []
    return page_of(req, total, serialize(rows), offset, limit, style)
