"""Topics: the question bank. Everyone signed in reads them, teachers+ write them, the owner or a
superuser changes or deletes them. What a student may see is
``visibility``'s rule. Every write queues an index job after its commit. The list and the detail
are read on Core, without the ORM: ``topic_reads``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from studyhub.clients.queue import enqueue
from studyhub.clients.search import get_search
from studyhub.core import errors
from studyhub.domain.access import Caller, require_owner_or_superuser, require_teacher
from studyhub.domain.work.task_names import INDEX_TOPIC
from studyhub.domain.work.topic_reads import serialize
from studyhub.domain.work.visibility import sees_answers, sees_exam_topics, visible_topics
from studyhub.models.work import Label, Topic

from .schemas import TopicIn, TopicPatch


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
