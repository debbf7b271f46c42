"""The classes list reads Core rows (issue 15: ``class_reads``): the same bytes as the ORM rows'
JSON (``classes.serialize`` over ``visible_query``) for every role, on both stacks — members in id
order, deactivated ones left out, teachers and students split by group, a superuser among the
teachers, deleted classes never listed."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def school(make_user, teacher):
    from studyhub.core.db import session_scope
    from studyhub.models.school import Classes
    from studyhub.models.users import User

    pupils = [make_user("student") for _ in range(3)]
    admin = make_user("superuser")
    with session_scope() as session:
        members = [session.get(User, u.id) for u in (*pupils, teacher, admin)]
        session.get(User, pupils[2].id).is_active = False  # deactivated: no longer listed as a member
        session.add_all(
            [
                Classes(name="一班", slogan="好好学习", members=members[:2] + [members[3]]),
                Classes(name="二班", slogan=None, members=[members[1], members[2], members[4]]),
                Classes(name="三班", members=[members[0]], is_delete=True),
                Classes(name="空班", members=[]),
            ]
        )
    return {"pupils": pupils}


def orm_page(user_id: int) -> tuple[int, list[dict]]:
    """What the ORM path answers: ``classes.serialize`` over ``visible_query`` rows."""
    from sqlalchemy import func, select

    from studyhub.core.db import session_scope
    from studyhub.domain.school.classes import serialize, visible_query
    from studyhub.models.school import Classes
    from studyhub.models.users import User

    with session_scope() as session:
        caller = session.get(User, user_id)
        stmt = visible_query(caller)
        count = session.scalar(select(func.count()).select_from(stmt.subquery()))
        rows = session.scalars(stmt.order_by(Classes.update_time.desc(), Classes.id.desc()).limit(10))
        return count, [serialize(klass) for klass in rows]


@pytest.mark.parametrize("role", ["student", "teacher", "superuser"])
def test_the_list_answers_as_the_orm_rows_did(client, make_user, school, role):
    user = school["pupils"][1] if role == "student" else make_user(role)
    answer = client.as_user(user).get("/api/school/classes")
    assert answer.status_code == 200, answer.text
    count, results = orm_page(user.id)
    body = answer.json()
    assert body["count"] == count and body["results"] == results
    # byte for byte: the same keys in the same order, the same members and times
    assert json.dumps(body["results"], ensure_ascii=False) == json.dumps(results, ensure_ascii=False)
    assert count == (2 if role == "student" else 3)  # a student sees its own classes; nobody the deleted one
    second = next(klass for klass in body["results"] if klass["name"] == "二班")
    pupil = school["pupils"][1]
    assert second["member"] == sorted([pupil.id, second["memberDetail"]["teachers"][0]["id"]])  # not the deactivated
    assert [s["id"] for s in second["memberDetail"]["students"]] == [pupil.id]
    assert second["memberDetail"]["teachers"][0]["is_superuser"] is True
