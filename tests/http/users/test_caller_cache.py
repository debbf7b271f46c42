"""The caller cache (http/auth.py, clients/caller_versions.py): a user already seen costs no SQL,
and any change to what a caller is made of is seen by the very next request, whichever process
made it (issue 15; API.md §2: a deactivated user's token is refused at once)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from conftest import token_for


@contextmanager
def user_selects():
    """The statements that read the users table."""
    from sqlalchemy import event

    from studyhub.core.db import get_engine

    seen: list[str] = []

    def listen(_conn, _cursor, statement, *_rest) -> None:
        if "FROM users" in statement:
            seen.append(statement)

    event.listen(get_engine(), "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(get_engine(), "before_cursor_execute", listen)


def elsewhere(user_id: int, change) -> None:
    """A change committed the way another process would make it: its own session, no request."""
    from studyhub.core.db import session_scope
    from studyhub.models.users import User

    with session_scope() as session:
        change(session, session.get(User, user_id))


def test_a_user_seen_before_costs_no_sql(client, make_user):
    user = make_user("student")
    token = token_for(user)
    with user_selects() as first:
        assert client.get("/api/work/topics", token=token).status_code == 200
    with user_selects() as second:
        assert client.get("/api/work/topics", token=token).status_code == 200
    assert len(first) == 1 and second == []


def test_a_user_deactivated_elsewhere_is_refused_by_the_next_request(client, make_user):
    user = make_user("student")
    token = token_for(user)
    assert client.get("/api/work/topics", token=token).status_code == 200
    elsewhere(user.id, lambda _s, row: setattr(row, "is_active", False))
    answer = client.get("/api/work/topics", token=token)
    assert answer.status_code == 401 and answer.json()["code"] == "user_inactive"


def test_a_teacher_who_loses_the_group_elsewhere_loses_its_rights_at_once(client, make_user):
    teacher = make_user("teacher")
    token = token_for(teacher)
    assert client.get("/api/work/labels", token=token).status_code == 200
    made = client.post("/api/work/labels", json={"name": "一"}, token=token)
    assert made.status_code == 201, made.text
    elsewhere(teacher.id, lambda _s, row: setattr(row, "groups", []))
    refused = client.post("/api/work/labels", json={"name": "二"}, token=token)
    assert refused.status_code == 403, refused.text


def test_a_lost_version_means_reading_the_user_again(client, make_user):
    """A cache restarted (or the key expired): no version, so nothing kept is served."""
    from studyhub.clients import caller_versions
    from studyhub.clients.cache import get_cache

    user = make_user("student")
    token = token_for(user)
    assert client.get("/api/work/topics", token=token).status_code == 200
    get_cache().delete(caller_versions.key(user.id))
    with user_selects() as again:
        assert client.get("/api/work/topics", token=token).status_code == 200
    assert len(again) == 1


# SQLite: a request holds the write lock from its BEGIN IMMEDIATE, so no change can commit while it
# reads its caller (the race can't happen there; the other process would wait and then forget).
@pytest.mark.mysql_only
def test_a_change_committed_while_the_row_was_being_read_is_not_kept(client, make_user, monkeypatch):
    """The race the versions close: this request read the row as it was, and a deactivation
    committed before the request kept it. The next request is refused all the same."""
    from studyhub.http import auth

    user = make_user("student")
    token = token_for(user)
    real = auth.load_caller

    def read_then_deactivated_meanwhile(session, user_id):
        stale = real(session, user_id)
        elsewhere(user_id, lambda _s, row: setattr(row, "is_active", False))
        return stale

    monkeypatch.setattr(auth, "load_caller", read_then_deactivated_meanwhile)
    assert client.get("/api/work/topics", token=token).status_code == 200  # it began before the change
    monkeypatch.setattr(auth, "load_caller", real)
    answer = client.get("/api/work/topics", token=token)
    assert answer.status_code == 401 and answer.json()["code"] == "user_inactive"


def test_a_change_whose_versions_cannot_be_dropped_is_not_made(make_user, monkeypatch):
    """The cache unreachable while a user changes: the write fails (503) and nothing changed, so
    no process can keep serving the user as it was."""
    from studyhub.clients import caller_versions
    from studyhub.core.db import session_scope
    from studyhub.core.errors import Unavailable
    from studyhub.models.users import User

    user = make_user("student")
    caller_versions.watch()

    class Down:
        def delete_many(self, _keys):
            raise Unavailable("cache")

    monkeypatch.setattr(caller_versions, "get_cache", lambda: Down())
    with pytest.raises(Unavailable):
        elsewhere(user.id, lambda _s, row: setattr(row, "is_active", False))
    monkeypatch.undo()
    with session_scope() as session:
        assert session.get(User, user.id).is_active is True


def test_changes_that_are_not_the_callers_keep_the_version(client, make_user):
    from studyhub.clients import caller_versions
    from studyhub.clients.cache import get_cache

    user = make_user("student")
    token = token_for(user)
    assert client.get("/api/work/topics", token=token).status_code == 200
    version = get_cache().get(caller_versions.key(user.id))
    elsewhere(user.id, lambda _s, row: setattr(row, "first_name", "小明"))
    assert version is not None and get_cache().get(caller_versions.key(user.id)) == version
