"""Who sees which topic (API.md §4), in one place.

Students (anyone who isn't teacher+) never see ``answer`` and never see a topic under an exam
label — a label whose name contains 考试 — in lists, detail (404) and search alike. The database
query, the search index's ``is_exam`` flag and the search filter all come from here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from studyhub.domain.access import Caller
from studyhub.tables.work import labels, topics

EXAM_MARK = "考试"


def is_exam_label(name: str) -> bool:
    return EXAM_MARK in name


def sees_answers(user: Caller) -> bool:
    """Teachers and superusers; everyone else is held to the students' rules."""
    return user.is_teacher_or_superuser


def sees_exam_topics(user: Caller) -> bool:
    return user.is_teacher_or_superuser


def visible_topics(caller: Caller) -> Any:
    """The topics ``caller`` may see, as ORM rows: live topics under live labels, minus exam ones
    for students."""
    from studyhub.models.work import Topic  # the ORM, for the rules that load rows (not the lists)

    return _visible(select(Topic), include_exam=sees_exam_topics(caller))


def visible_topic_columns(*columns: Any, include_exam: bool) -> Any:
    """The same rule over a Core ``select()`` of ``columns`` (of the ``topics`` and ``labels``
    tables, or ``func.count()``): rows without the ORM's per-row cost, for the hot reads. What
    depends on the caller is ``include_exam`` alone (``sees_exam_topics(caller)``), so a statement
    built for each value can be kept and reused."""
    return _visible(select(*columns).select_from(topics), include_exam=include_exam)


def _visible(stmt: Any, *, include_exam: bool) -> Any:
    stmt = (
        # Topics drive the join (MariaDB): with few labels the optimizer would start from labels
        # and sort every topic in a temporary table for a page of ten (issue 15); from topics it
        # walks the update_time index and stops at the page. tests/e2e/test_query_plans.py
        stmt.prefix_with("STRAIGHT_JOIN", dialect="mysql")
        .with_hint(labels, "FORCE INDEX (PRIMARY)", dialect_name="mysql")
        .join(labels, labels.c.id == topics.c.label_id)
        .where(topics.c.is_delete.is_(False), labels.c.is_delete.is_(False))
    )
    if not include_exam:
        stmt = stmt.where(~labels.c.name.contains(EXAM_MARK, autoescape=True))
    return stmt
