"""Papers: an ordered list of topics with a score each. Every teacher reads them; the owner or a
superuser changes them; a paper students have started work on keeps its items (409)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Select, delete, exists, select
from sqlalchemy.orm import Session

from studyhub.core import errors
from studyhub.core.times import isoformat
from studyhub.domain.access import Caller, require_owner_or_superuser, require_teacher
from studyhub.domain.work.grading import round_score
from studyhub.domain.work.homework import items_of, score_out, serialize_items
from studyhub.domain.work.visibility import visible_topics
from studyhub.models.homework import Assignment, Attempt, Paper, PaperItem
from studyhub.models.work import Topic

from .schemas import PaperIn, PaperItemIn, PaperPatch


def serialize_page(session: Session, papers: list[Paper]) -> list[dict[str, Any]]:
    items = items_of(session, [p.id for p in papers])
    return [
        {
            "id": p.id,
            "title": p.title,
            "description": p.description,
            "items": serialize_items(items[p.id], with_answer=True),
            "total_score": score_out(p.total_score),
            "user": p.user_id,
            "create_time": isoformat(p.create_time),
            "update_time": isoformat(p.update_time),
        }
        for p in papers
    ]


def list_query(caller: Caller) -> Select[Paper]:
    require_teacher(caller)
    return select(Paper).where(Paper.is_delete.is_(False)).order_by(Paper.update_time.desc(), Paper.id.desc())


def get_paper(session: Session, caller: Caller, paper_id: int) -> Paper:
    require_teacher(caller)
    paper = session.get(Paper, paper_id)
    if paper is None or paper.is_delete:
        raise errors.NotFound("试卷不存在")
    return paper


def _bad_items(message: str) -> errors.Invalid:
    return errors.Invalid.field("items", message, code="invalid_items")


def _checked_items(session: Session, caller: Caller, items: list[PaperItemIn]) -> list[tuple[int, Decimal]]:
    ids = [i.topic for i in items]
    if len(set(ids)) != len(ids):
        raise _bad_items("题目不能重复。")
    topics = {t.id: t for t in session.scalars(visible_topics(caller).where(Topic.id.in_(ids)))}
    out = []
    for item in items:
        topic = topics.get(item.topic)
        if topic is None:
            raise _bad_items(f"题目 {item.topic} 不存在。")
        score = item.score
        if score is None:  # the topic's own score
            score = round_score(Decimal(str(topic.score))) if topic.score is not None else Decimal("0")
        if score <= 0:
            raise _bad_items(f"题目 {item.topic} 没有分值，请填写 score。")
        out.append((item.topic, score))
    return out


def _set_items(session: Session, paper: Paper, items: list[tuple[int, Decimal]]) -> None:
    session.execute(delete(PaperItem).where(PaperItem.paper_id == paper.id))
    session.add_all(
        PaperItem(paper_id=paper.id, topic_id=topic, score=score, position=n) for n, (topic, score) in enumerate(items)
    )
    paper.total_score = sum((score for _, score in items), Decimal("0.0"))


def create(session: Session, caller: Caller, body: PaperIn) -> dict[str, Any]:
    require_teacher(caller)
    items = _checked_items(session, caller, body.items)
    paper = Paper(title=body.title, description=body.description, user_id=caller.id)
    session.add(paper)
    session.flush()
    _set_items(session, paper, items)
    session.flush()
    return serialize_page(session, [paper])[0]


def has_work(session: Session, paper_id: int) -> bool:
    """Any student started an assignment of this paper (deleted assignments included)."""
    started = select(Attempt.id).join(Assignment, Assignment.id == Attempt.assignment_id)
    return bool(session.scalar(select(exists(started.where(Assignment.paper_id == paper_id)))))


def update_paper(session: Session, caller: Caller, paper_id: int, body: PaperIn | PaperPatch) -> dict[str, Any]:
    paper = get_paper(session, caller, paper_id)
    require_owner_or_superuser(caller, paper.user_id)
    sent = set(PaperIn.model_fields) if isinstance(body, PaperIn) else body.model_fields_set
    if "title" in sent:
        if body.title is None:
            raise errors.Invalid.field("title", "该字段不能为空。")
        paper.title = body.title
    if "description" in sent:
        paper.description = body.description
    if "items" in sent:
        if body.items is None:
            raise _bad_items("该字段不能为空。")
        items = _checked_items(session, caller, body.items)
        current = [(i.topic_id, i.score) for i, _ in items_of(session, [paper.id])[paper.id]]
        if items != current:
            if has_work(session, paper.id):
                raise errors.Conflict("已有学生作答，试卷题目不能再修改", code="paper_has_submissions")
            _set_items(session, paper, items)
    session.flush()
    return serialize_page(session, [paper])[0]


def delete_paper(session: Session, caller: Caller, paper_id: int) -> None:
    paper = get_paper(session, caller, paper_id)
    require_owner_or_superuser(caller, paper.user_id)
    paper.is_delete = True
    session.flush()
