"""A request's transaction, begun on first use (``core.db.Transaction``): Core statements on its
connection and, when a rule needs the ORM, a session on that same connection (issue 15).

The hot reads are answered on Core alone (the caller and the rows: ``studyhub.tables``), so a
function answering one first imports neither the ORM, nor a model, nor pydantic. A transaction that began on Core
and then needed a session is one transaction: committed together, rolled back together.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Lambda's way in: import app from the function's directory, one API Gateway proxy event, exit.
FIRST_ANSWER = """
import json, os, sys
sys.path[:0] = [os.environ["LAYER"]]
import app

event = json.loads(os.environ["EVENT"])
result = app.app(event, None)
print(json.dumps({
    "status": result["statusCode"],
    "body": json.loads(result["body"]),
    "orm": sorted(m for m in sys.modules if m in ("sqlalchemy.orm", "pydantic") or m.startswith("studyhub.models")),
}))
"""


def _event(path: str, token: str, resource: str | None = None, params: dict | None = None) -> dict:
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": "GET",
        "headers": {"Authorization": f"Bearer {token}", "Host": "localhost"},
        "multiValueHeaders": {"Authorization": [f"Bearer {token}"], "Host": ["localhost"]},
        "queryStringParameters": {"page": "1", "size": "10"},
        "multiValueQueryStringParameters": {"page": ["1"], "size": ["10"]},
        "pathParameters": params,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource or path,
            "httpMethod": "GET",
            "path": "/api" + path,
            "stage": "api",
            "requestId": "first-answer",
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": None,
        "isBase64Encoded": False,
    }


def _first_answer(stack, function: str, event: dict) -> dict:
    """The function's first answer in a fresh interpreter, and what it loaded of the ORM, the
    models and pydantic (``orm``: none of them, for a read on Core)."""
    env = dict(os.environ, **stack.env)
    env["LAYER"] = str(ROOT / "layers" / "common")
    env["PYTHONPATH"] = str(ROOT)
    env["EVENT"] = json.dumps(event)
    result = subprocess.run(
        [sys.executable, "-c", FIRST_ANSWER],
        env=env,
        cwd=ROOT / "functions" / function,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_topics_list_is_answered_without_the_orm(platform, stack, teacher, student):
    from conftest import token_for

    from studyhub.core.db import session_scope
    from studyhub.models.work import Label, Topic

    with session_scope() as session:
        label = Label(name="数学", user_id=teacher.id)
        exam = Label(name="期末考试", user_id=teacher.id)
        session.add_all([label, exam])
        session.flush()
        session.add_all(
            [
                Topic(subject="1+1=?", type=0, answer="2", label_id=label.id, user_id=teacher.id),
                Topic(subject="exam", type=0, answer="A", label_id=exam.id, user_id=teacher.id),
            ]
        )
    answer = _first_answer(stack, "work", _event("/work/topics", token_for(student)))
    assert answer["status"] == 200, answer
    # the student's view, as the contract says: no exam topic, no answer
    assert [t["subject"] for t in answer["body"]["results"]] == ["1+1=?"]
    assert "answer" not in answer["body"]["results"][0]
    assert answer["orm"] == []


def test_a_user_is_answered_without_the_orm_and_hidden_as_before(platform, stack, teacher, student, make_user):
    from conftest import token_for

    other = make_user("student")
    event = _event(f"/users/users/{teacher.id}", token_for(teacher), "/users/users/{id}", {"id": str(teacher.id)})
    answer = _first_answer(stack, "users", event)
    assert answer["status"] == 200, answer
    assert answer["body"]["id"] == teacher.id and answer["body"]["groups"] == [1]
    assert "password" not in answer["body"]
    assert answer["orm"] == []
    # a student sees itself, never another student: 404, as for no such user
    event = _event(f"/users/users/{other.id}", token_for(student), "/users/users/{id}", {"id": str(other.id)})
    assert _first_answer(stack, "users", event)["status"] == 404


def test_articles_commodities_and_classes_are_answered_without_the_orm(platform, stack, student):
    from conftest import token_for

    lists = (("community", "/community/articles"), ("shopping", "/shopping/commodities"), ("school", "/school/classes"))
    for function, path in lists:
        answer = _first_answer(stack, function, _event(path, token_for(student)))
        assert answer["status"] == 200, answer
        assert answer["body"]["results"] == [] and answer["orm"] == []


# One process: a first request on Core (the caller cache's watcher not registered yet: no ORM), then
# this process's own ORM write deactivating the caller, then the next request.
DEACTIVATED_IN_PROCESS = """
import json, os, sys
sys.path[:0] = [os.environ["LAYER"]]
import app

event = json.loads(os.environ["EVENT"])
first = app.app(event, None)["statusCode"]
orm_before_write = "sqlalchemy.orm" in sys.modules
from studyhub.core.db import session_scope
from studyhub.models.users import User

with session_scope() as session:
    session.get(User, int(os.environ["USER_ID"])).is_active = False
print(json.dumps([first, orm_before_write, app.app(event, None)["statusCode"]]))
"""


def test_a_process_that_answered_on_core_still_forgets_a_caller_it_deactivates(platform, stack, student):
    """The caller cache's watcher is a ``Session`` listener; a process whose first request needed
    no ORM registers it with its first session (``core.db.when_sessions``), before that session's
    first flush: its own deactivation is seen by its next request."""
    from conftest import token_for

    env = dict(os.environ, **stack.env)
    env["LAYER"] = str(ROOT / "layers" / "common")
    env["PYTHONPATH"] = str(ROOT)
    env["EVENT"] = json.dumps(_event("/work/topics", token_for(student)))
    env["USER_ID"] = str(student.id)
    result = subprocess.run(
        [sys.executable, "-c", DEACTIVATED_IN_PROCESS],
        env=env,
        cwd=ROOT / "functions" / "work",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [200, False, 401]


def _first_name(user_id: int) -> str:
    from sqlalchemy import select

    from studyhub.core.db import get_engine
    from studyhub.tables.users import users

    with get_engine().connect() as conn:
        return conn.scalar(select(users.c.first_name).where(users.c.id == user_id))


def _labels(user_id: int) -> list[str]:
    from sqlalchemy import select

    from studyhub.core.db import get_engine
    from studyhub.tables.work import labels

    with get_engine().connect() as conn:
        return list(conn.scalars(select(labels.c.name).where(labels.c.user_id == user_id)))


def _core_write(transaction, user_id: int, name: str) -> None:
    from sqlalchemy import update

    from studyhub.tables.users import users

    transaction.connection.execute(update(users).where(users.c.id == user_id).values(first_name=name))


def test_core_then_orm_commit_together_and_the_hooks_run_after(platform, teacher):
    from studyhub.core.db import on_commit, transaction_scope
    from studyhub.models.work import Label

    ran: list[str] = []
    with transaction_scope() as transaction:
        _core_write(transaction, teacher.id, "Core")
        session = transaction.session
        assert session.connection() is transaction.connection  # one connection, one transaction
        session.add(Label(name="ORM", user_id=teacher.id))
        on_commit(session, lambda: ran.append("committed"))
    assert _first_name(teacher.id) == "Core"
    assert _labels(teacher.id) == ["ORM"]
    assert ran == ["committed"]


def test_core_then_orm_roll_back_together(platform, teacher):
    from studyhub.core.db import on_commit, on_rollback, transaction_scope
    from studyhub.models.work import Label

    ran: list[str] = []
    with pytest.raises(RuntimeError), transaction_scope() as transaction:
        _core_write(transaction, teacher.id, "Core")
        session = transaction.session
        session.add(Label(name="ORM", user_id=teacher.id))
        session.flush()
        on_commit(session, lambda: ran.append("committed"))
        on_rollback(session, lambda: ran.append("rolled back"))
        raise RuntimeError("the rule failed")
    assert _first_name(teacher.id) == ""
    assert _labels(teacher.id) == []
    assert ran == ["rolled back"]


def test_a_core_write_is_committed_when_a_session_was_made_but_not_used(platform, teacher):
    from studyhub.core.db import transaction_scope

    with transaction_scope() as transaction:
        _core_write(transaction, teacher.id, "Core")
        assert transaction.session is not None  # made, never flushed: it never joined
    assert _first_name(teacher.id) == "Core"


def test_a_core_only_transaction_rolls_back_on_error(platform, teacher):
    from studyhub.core.db import transaction_scope

    with pytest.raises(RuntimeError), transaction_scope() as transaction:
        _core_write(transaction, teacher.id, "Core")
        raise RuntimeError("the rule failed")
    assert _first_name(teacher.id) == ""
