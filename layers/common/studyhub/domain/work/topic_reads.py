"""The topics list and a topic's detail (API.md §4): the question bank's hot reads, on Core.

Rows of ``ROW_COLUMNS`` (the topic and its label's name) from statements built and compiled once
(``core.prepared``), on the ``studyhub.tables`` tables: neither the ORM nor the write rules'
schemas are imported for them, so a function's first answer of ``GET /work/topics`` doesn't pay for
them, and no ORM entity is built per row (issue 15). Who sees what is ``visibility``'s rule;
``serialize`` is the one shape of a topic's JSON, the write rules' (``topics``) too."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, bindparam, func

from studyhub.core import errors
from studyhub.core.prepared import Prepared, paged
from studyhub.core.times import isoformat
from studyhub.domain.access import Caller
from studyhub.domain.work.visibility import sees_answers, sees_exam_topics, visible_topic_columns
from studyhub.tables.work import labels, topics

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from studyhub.models.work import Topic

_T = topics.c
# What a topic's JSON reads, and its label's name: the list and the detail read these as Core rows
# (no ORM entity per row, issue 15), which ``serialize`` reads by name as it reads a ``Topic``.
ROW_COLUMNS = (
    _T.id,
    _T.subject,
    _T.type,
    _T.score,
    _T.description,
    _T.answer,
    _T.label_id,
    _T.user_id,
    _T.create_time,
    _T.update_time,
    labels.c.name.label("label_name"),
)


def serialize(
    topic: Topic | Row[Any], label_name: str | None, *, with_answer: bool, subject: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": topic.id,
        "subject": topic.subject if subject is None else subject,
        "type": topic.type,
        "score": topic.score,
        "description": topic.description,
        "answer": topic.answer,
        "label": topic.label_id,
        "label_name": label_name,
        "user": topic.user_id,
        "create_time": isoformat(topic.create_time),
        "update_time": isoformat(topic.update_time),
    }
    if not with_answer:
        del body["answer"]  # the key is absent, not null
    return body


def serialize_rows(caller: Caller, rows: Sequence[Row[Any]]) -> list[dict[str, Any]]:
    """Rows of ``ROW_COLUMNS``: the label's name is in each row, no further query."""
    with_answer = sees_answers(caller)
    return [serialize(row, row.label_name, with_answer=with_answer) for row in rows]


@cache
def _list_statements(include_exam: bool, by_label: bool, by_type: bool) -> tuple[Prepared, Prepared]:
    """The page (newest first) and count statements of one shape of list, built and compiled
    once: the filter values are bound parameters, so each request only runs them."""
    rows = visible_topic_columns(*ROW_COLUMNS, include_exam=include_exam)
    count = visible_topic_columns(func.count(), include_exam=include_exam)
    if by_label:
        rows, count = (s.where(_T.label_id == bindparam("label_id")) for s in (rows, count))
    if by_type:
        rows, count = (s.where(_T.type == bindparam("topic_type")) for s in (rows, count))
    return paged(rows.order_by(_T.update_time.desc(), _T.id.desc())), Prepared(count)


def list_query(
    caller: Caller, *, label_id: int | None = None, topic_type: int | None = None
) -> tuple[Prepared, Prepared, dict[str, Any]]:
    """``(page, count, their parameters)`` over the same visible, filtered topics: rows of
    ``ROW_COLUMNS`` newest first, and their count without a derived table."""
    rows, count = _list_statements(sees_exam_topics(caller), label_id is not None, topic_type is not None)
    params: dict[str, Any] = {}
    if label_id is not None:
        params["label_id"] = label_id
    if topic_type is not None:
        params["topic_type"] = topic_type
    return rows, count, params


@cache
def _detail_statement(include_exam: bool) -> Prepared:
    return Prepared(
        visible_topic_columns(*ROW_COLUMNS, include_exam=include_exam).where(_T.id == bindparam("topic_id"))
    )


def detail(conn: Connection, caller: Caller, topic_id: int) -> dict[str, Any]:
    """One visible topic's JSON from one row; 404 as for any topic ``caller`` may not see."""
    row = _detail_statement(sees_exam_topics(caller)).first(conn, {"topic_id": topic_id})
    if row is None:
        raise errors.NotFound("题目不存在")
    return serialize_rows(caller, [row])[0]
