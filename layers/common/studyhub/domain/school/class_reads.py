"""The classes list (API.md §3): who sees which class, and a class's JSON, on Core.

A page of classes from statements built and compiled once (``core.prepared``), then its active
members with their groups in one statement, on the ``studyhub.tables`` tables: neither the ORM nor
the request schemas are imported to answer it (a function's first answer doesn't pay for them).
``render_class`` is the one shape of a class's JSON (``classes.serialize`` renders ORM rows with
it); who sees which class is ``visible``'s rule, the ORM query's too."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, select

from studyhub.core.prepared import Prepared, paged
from studyhub.core.times import isoformat
from studyhub.domain.access import Caller
from studyhub.domain.users.user_reads import render_user
from studyhub.tables.school import class_members, classes
from studyhub.tables.users import STUDENT_GROUP_ID, TEACHER_GROUP_ID, user_groups, users

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


def visible(stmt: Any, *, sees_all: bool) -> Any:
    """Classes the caller may see: every live class for teacher+, else those it is a member of
    (the member is the bound ``caller_id``)."""
    stmt = stmt.where(classes.c.is_delete.is_(False))
    if not sees_all:
        mine = select(class_members.c.class_id).where(class_members.c.user_id == bindparam("caller_id"))
        stmt = stmt.where(classes.c.id.in_(mine))
    return stmt


@cache
def _list_statements(sees_all: bool) -> tuple[Prepared, Prepared]:
    page = visible(select(classes), sees_all=sees_all).order_by(classes.c.update_time.desc(), classes.c.id.desc())
    count = visible(select(func.count()).select_from(classes), sees_all=sees_all)
    return paged(page), Prepared(count)


def list_query(caller: Caller) -> tuple[Prepared, Prepared, dict[str, Any]]:
    """``(page, count, their parameters)`` of the classes ``caller`` sees, last changed first."""
    sees_all = caller.is_teacher_or_superuser
    page, count = _list_statements(sees_all)
    return page, count, {} if sees_all else {"caller_id": caller.id}


# Active members of some classes, one row per (class, member, group): no per-row statement.
_MEMBERS = (
    select(
        class_members.c.class_id,
        users.c.id,
        users.c.username,
        users.c.email,
        users.c.first_name,
        users.c.is_superuser,
        users.c.is_active,
        users.c.avatar,
        users.c.date_joined,
        users.c.last_login,
        user_groups.c.group_id,
    )
    .select_from(
        class_members.join(users, users.c.id == class_members.c.user_id).outerjoin(
            user_groups, user_groups.c.user_id == users.c.id
        )
    )
    .where(users.c.is_active.is_(True))
)


def render_class(klass: Any, members: Sequence[tuple[Any, Sequence[int]]]) -> dict[str, Any]:
    """A class (a ``Classes`` row or a row of its columns) and its active members, each with its
    group ids, as the contract's JSON: members by id, split into teachers and students."""
    ordered = sorted(members, key=lambda member: member[0].id)
    rendered = [(user, groups, render_user(user, groups)) for user, groups in ordered]
    return {
        "id": klass.id,
        "name": klass.name,
        "slogan": klass.slogan,
        "member": [user.id for user, _groups in ordered],
        "memberDetail": {
            "teachers": [data for user, groups, data in rendered if user.is_superuser or TEACHER_GROUP_ID in groups],
            "students": [data for _user, groups, data in rendered if STUDENT_GROUP_ID in groups],
        },
        "create_time": isoformat(klass.create_time),
        "update_time": isoformat(klass.update_time),
    }


def render_page(conn: Connection, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """A page of class rows with their members, read in one more statement."""
    if not rows:
        return []
    members: dict[int, dict[int, tuple[Any, list[int]]]] = {row.id: {} for row in rows}
    for member in conn.execute(_MEMBERS.where(class_members.c.class_id.in_(list(members)))):
        user, groups = members[member.class_id].setdefault(member.id, (member, []))
        if member.group_id is not None:
            groups.append(member.group_id)
    return [render_class(row, list(members[row.id].values())) for row in rows]
