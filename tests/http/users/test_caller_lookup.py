"""The caller of a request (http/auth.py): one Core statement into a read-only ``SignedIn`` that
answers every question a rule asks the way the user's row does (issue 15)."""

from __future__ import annotations

import dataclasses

import pytest


@pytest.mark.parametrize("role", ["student", "teacher", "superuser", None, "both"])
def test_the_caller_reads_as_its_row_does(make_user, role):
    from sqlalchemy import event

    from studyhub.core.db import get_engine, session_scope
    from studyhub.http.auth import load_caller
    from studyhub.models.users import STUDENT_GROUP_ID, Group, User

    user = make_user("teacher" if role == "both" else role)
    with session_scope() as session:
        if role == "both":  # a teacher who is in the students' group too: one row per group
            row = session.get(User, user.id)
            row.groups = [*row.groups, session.get(Group, STUDENT_GROUP_ID)]
            session.flush()
        session.expire_all()
        statements: list[str] = []
        listen = lambda *args: statements.append(args[2])  # noqa: E731 - the statement text
        event.listen(get_engine(), "before_cursor_execute", listen)
        try:
            caller = load_caller(session.connection(), user.id)
        finally:
            event.remove(get_engine(), "before_cursor_execute", listen)
        row = session.get(User, user.id)
        assert caller is not None
        selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        assert len(selects) == 1  # the user and its groups in one round trip
        for name in ("id", "username", "is_superuser", "is_active", "is_teacher", "is_student"):
            assert getattr(caller, name) == getattr(row, name), name
        assert caller.is_teacher_or_superuser == row.is_teacher_or_superuser
        assert caller.tokens_valid_after == row.tokens_valid_after


def test_an_unknown_user_is_none_and_the_caller_cannot_be_changed(make_user):
    from studyhub.core.db import session_scope
    from studyhub.http.auth import load_caller

    user = make_user("student", is_active=False)
    with session_scope() as session:
        assert load_caller(session.connection(), user.id + 10_000) is None
        caller = load_caller(session.connection(), user.id)
    assert caller is not None and caller.is_active is False
    with pytest.raises(dataclasses.FrozenInstanceError):
        caller.is_superuser = True  # type: ignore[misc]


def test_a_password_change_in_the_same_second_still_revokes(client, make_user):
    """``tokens_valid_after`` keeps its microseconds through the Core read as through the ORM."""
    from conftest import token_for

    from studyhub.core.db import session_scope
    from studyhub.domain.users.accounts import set_password
    from studyhub.models.users import User

    user = make_user("student")
    token = token_for(user)
    assert client.get(f"/api/users/users/{user.id}", token=token).status_code == 200
    with session_scope() as session:
        set_password(session.get(User, user.id), "another-password-2")
    answer = client.get(f"/api/users/users/{user.id}", token=token)
    assert answer.status_code == 401 and answer.json()["code"] == "token_revoked"
