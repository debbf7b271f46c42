"""Topics: the question bank. Everyone signed in reads them, teachers+ write them, the owner or a
superuser changes or deletes them. What a student may see is
``visibility``'s rule. Every write queues an index job after its commit."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Row, bindparam, func, select
from sqlalchemy.orm import Session

from studyhub.clients.queue import enqueue
from studyhub.clients.search import get_search
from studyhub.core import errors
from studyhub.core.prepared import Prepared, paged
from studyhub.core.times import isoformat
from studyhub.domain.access import Caller, require_owner_or_superuser, require_teacher
from studyhub.domain.work.task_names import INDEX_TOPIC
from studyhub.domain.work.visibility import sees_answers, sees_exam_topics, visible_topic_columns, visible_topics
from studyhub.models.work import Label, Topic

from .schemas import TopicIn, TopicPatch

_T = Topic.__table__.c
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
    Label.__table__.c.name.label("label_name"),
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


def label_names(session: Session, label_ids: set[int]) -> dict[int, str]:
    if not label_ids:
        return {}
    return dict(session.execute(select(Label.id, Label.name).where(Label.id.in_(label_ids))).all())


def serialize_page(session: Session, caller: Caller, topics: list[Topic]) -> list[dict[str, Any]]:
    names = label_names(session, {t.label_id for t in topics})
    with_answer = sees_answers(caller)
    return [serialize(t, names.get(t.label_id), with_answer=with_answer) for t in topics]


def serialize_one(session: Session, caller: Caller, topic: Topic) -> dict[str, Any]:
    return serialize_page(session, caller, [topic])[0]


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


def detail(session: Session, caller: Caller, topic_id: int) -> dict[str, Any]:
    """One visible topic's JSON from one row; 404 as for any topic ``caller`` may not see."""
    row = _detail_statement(sees_exam_topics(caller)).first(session.connection(), {"topic_id": topic_id})
    if row is None:
        raise errors.NotFound("题目不存在")
    return serialize_rows(caller, [row])[0]


def visible_topic(session: Session, caller: Caller, topic_id: int) -> Topic:
    topic = session.scalar(visible_topics(caller).where(Topic.id == topic_id))
    if topic is None:
        raise errors.NotFound("题目不存在")
    return topic


def _live_label(session: Session, label_id: int) -> Label:
    label = session.get(Label, label_id)
    if label is None or label.is_delete:
        raise errors.Invalid.field("label", "标签不存在。", code="invalid_label")
    return label


def create(session: Session, caller: Caller, body: TopicIn) -> dict[str, Any]:
    require_teacher(caller)
    _live_label(session, body.label)
    topic = Topic(
        subject=body.subject,
        type=body.type,
        score=body.score,
        description=body.description,
        answer=body.answer,
        label_id=body.label,
        user_id=caller.id,
    )
    session.add(topic)
    session.flush()
    enqueue(session, INDEX_TOPIC, topic.id)
    return serialize_one(session, caller, topic)


REQUIRED = ("subject", "type", "label")


def update_topic(session: Session, caller: Caller, topic_id: int, body: TopicIn | TopicPatch) -> dict[str, Any]:
    topic = visible_topic(session, caller, topic_id)
    require_owner_or_superuser(caller, topic.user_id)
    sent = body.model_fields_set
    for name in REQUIRED:
        if name in sent and getattr(body, name) is None:
            raise errors.Invalid.field(name, "该字段不能为空。", code="invalid")
    if isinstance(body, TopicIn):  # PUT: the optional fields left out are cleared, as DRF does
        sent = set(TopicIn.model_fields)
    if "label" in sent and body.label is not None and body.label != topic.label_id:
        _live_label(session, body.label)
        topic.label_id = body.label
    for name in ("subject", "type", "score", "description", "answer"):
        if name in sent:
            setattr(topic, name, getattr(body, name))
    session.flush()
    enqueue(session, INDEX_TOPIC, topic.id)
    return serialize_one(session, caller, topic)


def delete(session: Session, caller: Caller, topic_id: int) -> None:
    topic = visible_topic(session, caller, topic_id)
    require_owner_or_superuser(caller, topic.user_id)
    topic.is_delete = True
    session.flush()
    enqueue(session, INDEX_TOPIC, topic.id)


def search(session: Session, caller: Caller, text: str, *, offset: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
    """Full-text search on ``subject``: ``(count, page)``; subjects are highlighted HTML.

    The index answers which topics match and in what order; the rows come from the database,
    through the same visibility rule, so a topic deleted a moment ago never shows.
    """
    page = get_search().search(text, include_exam=sees_exam_topics(caller), offset=offset, limit=limit)
    if not page.hits:
        return page.total, []
    rows = {t.id: t for t in session.scalars(visible_topics(caller).where(Topic.id.in_([h.id for h in page.hits])))}
    names = label_names(session, {t.label_id for t in rows.values()})
    with_answer = sees_answers(caller)
    results = [
        serialize(rows[hit.id], names.get(rows[hit.id].label_id), with_answer=with_answer, subject=hit.subject_html)
        for hit in page.hits
        if hit.id in rows
    ]
    return page.total, results
