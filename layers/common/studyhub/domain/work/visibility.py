"""Who sees which topic (API.md §4), in one place.

Students (anyone who isn't teacher+) never see ``answer`` and never see a topic under an exam
label — a label whose name contains 考试 — in lists, detail (404) and search alike. The database
query, the search index's ``is_exam`` flag and the search filter all come from here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from studyhub.domain.access import Caller
from studyhub.models.work import Label, Topic

EXAM_MARK = "考试"


def is_exam_label(name: str) -> bool:
    return EXAM_MARK in name


def sees_answers(user: Caller) -> bool:
    """Teachers and superusers; everyone else is held to the students' rules."""
    return user.is_teacher_or_superuser


def sees_exam_topics(user: Caller) -> bool:
    return user.is_teacher_or_superuser


def visible_topics(caller: Caller) -> Any:
    """The topics ``caller`` may see: live topics under live labels, minus exam ones for students."""
    stmt = (
        # Topics drive the join (MariaDB): with few labels the optimizer would start from labels
        # and sort every topic in a temporary table for a page of ten (issue 15); from topics it
        # walks the update_time index and stops at the page. tests/e2e/test_query_plans.py
        select(Topic)
        .prefix_with("STRAIGHT_JOIN", dialect="mysql")
        .with_hint(Label, "FORCE INDEX (PRIMARY)", dialect_name="mysql")
        .join(Label, Label.id == Topic.label_id)
        .where(Topic.is_delete.is_(False), Label.is_delete.is_(False))
    )
    if not sees_exam_topics(caller):
        stmt = stmt.where(~Label.name.contains(EXAM_MARK, autoescape=True))
    return stmt
