"""What the homework rules share (API.md §9): the clock, scores as JSON, who may read an
assignment, and a paper's items with their topics."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from studyhub.core import errors
from studyhub.domain.access import Caller
from studyhub.models.base import utcnow
from studyhub.models.homework import Assignment, PaperItem, assignment_classes
from studyhub.models.school import Classes, class_members
from studyhub.models.users import STUDENT_GROUP_ID, User, user_groups
from studyhub.models.work import Topic

# A submit this long after the deadline still counts (a slow network, a click at the last second).
GRACE_SECONDS = 30


def now() -> datetime:
    return utcnow()


def score_out(value: Decimal | float | None) -> float | None:
    """Scores answer as JSON numbers with one place."""
    return None if value is None else float(Decimal(value).quantize(Decimal("0.1")))


def member_of_assignment(user_id: int, assignment_id: Any) -> Any:
    """SQL: ``user_id`` is in one of the assignment's (live) classes."""
    return exists(
        select(class_members.c.user_id)
        .join(assignment_classes, assignment_classes.c.class_id == class_members.c.class_id)
        .join(Classes, Classes.id == class_members.c.class_id)
        .where(
            class_members.c.user_id == user_id,
            assignment_classes.c.assignment_id == assignment_id,
            Classes.is_delete.is_(False),
        )
    )


def assignment_students(assignment_id: Any) -> Any:
    """SQL: the ids of the active students in the assignment's live classes (a class's teachers
    are members too, and are nobody's students)."""
    return (
        select(class_members.c.user_id)
        .join(assignment_classes, assignment_classes.c.class_id == class_members.c.class_id)
        .join(Classes, Classes.id == class_members.c.class_id)
        .join(user_groups, user_groups.c.user_id == class_members.c.user_id)
        .join(User, User.id == class_members.c.user_id)
        .where(
            assignment_classes.c.assignment_id == assignment_id,
            Classes.is_delete.is_(False),
            user_groups.c.group_id == STUDENT_GROUP_ID,
            User.is_active.is_(True),
        )
        .distinct()
    )


def live_assignment(session: Session, assignment_id: int) -> Assignment:
    assignment = session.get(Assignment, assignment_id)
    if assignment is None or assignment.is_delete:
        raise errors.NotFound("作业不存在")
    return assignment


def readable_assignment(session: Session, caller: Caller, assignment_id: int) -> Assignment:
    """Teachers+ read every assignment; a student only those of its classes (others 404)."""
    assignment = live_assignment(session, assignment_id)
    if not caller.is_teacher_or_superuser and not session.scalar(
        select(member_of_assignment(caller.id, assignment.id))
    ):
        raise errors.NotFound("作业不存在")
    return assignment


def owned_assignment(session: Session, caller: Caller, assignment_id: int) -> Assignment:
    """Submissions, marks and statistics are private rows: 404 to anyone but the owner teacher
    and superusers."""
    assignment = live_assignment(session, assignment_id)
    if not (caller.is_superuser or (caller.is_teacher_or_superuser and assignment.user_id == caller.id)):
        raise errors.NotFound("作业不存在")
    return assignment


def student_assignment(session: Session, caller: Caller, assignment_id: int) -> Assignment:
    """For the student's own actions (start, answers, submit): teachers 403, outsiders 404."""
    if caller.is_teacher_or_superuser:
        raise errors.Forbidden("仅学生可以作答")
    return readable_assignment(session, caller, assignment_id)


def check_open(assignment: Assignment, at: datetime) -> None:
    if at < assignment.start_time:
        raise errors.Conflict("作业尚未开始", code="assignment_not_open")
    if at > assignment.end_time:
        raise errors.Conflict("作业已截止", code="assignment_closed")


def reveals(assignment: Assignment, at: datetime) -> bool:
    """Whether a student may see the keys and ``correct`` of its work now."""
    if assignment.reveal == "after_submit":
        return True
    if assignment.reveal == "after_end":
        return at >= assignment.end_time
    return False


def reveal_time(assignment: Assignment, at: datetime) -> datetime | None:
    """From when the key of a topic of this assignment may be shown (the mistake book)."""
    if assignment.reveal == "after_submit":
        return at
    if assignment.reveal == "after_end":
        return assignment.end_time
    return None


def paper_topic(topic: Topic, *, with_answer: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": topic.id,
        "subject": topic.subject,
        "type": topic.type,
        "score": topic.score,
        "description": topic.description,
    }
    if with_answer:
        body["answer"] = topic.answer
    return body


def items_of(session: Session, paper_ids: list[int]) -> dict[int, list[tuple[PaperItem, Topic]]]:
    """Each paper's items in order with their topics (a topic deleted from the bank stays in the
    papers that use it: the work done on it stays gradable)."""
    out: dict[int, list[tuple[PaperItem, Topic]]] = {i: [] for i in paper_ids}
    if not paper_ids:
        return out
    rows = session.execute(
        select(PaperItem, Topic)
        .join(Topic, Topic.id == PaperItem.topic_id)
        .where(PaperItem.paper_id.in_(paper_ids))
        .order_by(PaperItem.paper_id, PaperItem.position)
    ).all()
    for item, topic in rows:
        out[item.paper_id].append((item, topic))
    return out


def serialize_items(pairs: list[tuple[PaperItem, Topic]], *, with_answer: bool) -> list[dict[str, Any]]:
    return [{"topic": paper_topic(t, with_answer=with_answer), "score": score_out(i.score)} for i, t in pairs]
