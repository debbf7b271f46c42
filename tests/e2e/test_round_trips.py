"""Round trips per request (issue 15): a request costs its statements and one ``COMMIT`` (or
``ROLLBACK``) — no ping on checkout, no second ``ROLLBACK`` when the connection goes back to the
pool. Counted where they leave the process: every command PyMySQL sends to the server.

A pooled connection the server closed meanwhile (a restart, an idle timeout, ``KILL``) is replaced
before the request's first statement, without a round trip; a connection given back inside a
transaction is still rolled back. The health check runs ``SELECT 1`` on Core, without the ORM.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COM_QUERY = 3
COM_PING = 14


@pytest.fixture
def sent(monkeypatch):
    """Every command PyMySQL sends from now on: (command byte, SQL text)."""
    import pymysql.connections

    commands: list[tuple[int, str]] = []
    original = pymysql.connections.Connection._execute_command

    def spy(self, command, sql):
        text = sql.decode("utf-8", "replace") if isinstance(sql, bytes) else str(sql)
        commands.append((command, " ".join(text.split())))
        return original(self, command, sql)

    monkeypatch.setattr(pymysql.connections.Connection, "_execute_command", spy)
    return commands


@pytest.fixture
def statements():
    """The statements SQLAlchemy hands the driver from now on."""
    from sqlalchemy import event

    from studyhub.core.db import get_engine

    seen: list[str] = []

    def listener(_conn, _cursor, statement, *_args):
        seen.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", listener)
    yield seen
    event.remove(engine, "before_cursor_execute", listener)


@pytest.fixture
def topics(teacher):
    from studyhub.core.db import session_scope
    from studyhub.models.work import Label, Topic

    with session_scope() as session:
        labels = [Label(name=name, user_id=teacher.id) for name in ("数学", "语文", "期末考试")]
        session.add_all(labels)
        session.flush()
        session.add_all(
            Topic(subject=f"题目 {i}", type=i % 5, score=2.0, answer="A", label_id=labels[i % 3].id, user_id=teacher.id)
            for i in range(30)
        )


def _topics_page(client, user) -> None:
    from conftest import token_for

    answer = client.get("/api/work/topics?page=1&size=10", token=token_for(user))
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["results"]) == 10


@pytest.mark.mysql_only
def test_a_topics_page_costs_its_statements_and_one_commit(client, topics, student, sent, statements):
    _topics_page(client, student)  # the pool holds a connection now (a new one costs its set-up once)
    sent.clear()
    statements.clear()
    _topics_page(client, student)

    assert not [c for c in sent if c[0] != COM_QUERY], f"a ping or another command: {sent}"
    extra = [sql for _, sql in sent if sql.upper() in ("COMMIT", "ROLLBACK")]
    assert extra == ["COMMIT"], f"one COMMIT and nothing else besides the statements: {sent}"
    # the issue measured 8 for this page (5 statements, a ping, a COMMIT, a ROLLBACK)
    assert 1 <= len(statements) <= 5, statements
    assert len(sent) == len(statements) + 1, sent


@pytest.mark.mysql_only
def test_a_failed_request_costs_its_statements_and_one_rollback(client, student, sent, statements):
    from conftest import token_for

    token = token_for(student)
    client.get("/api/work/topics?page=1&size=10", token=token)
    sent.clear()
    statements.clear()
    answer = client.get("/api/work/topics/999999999", token=token)  # 404 raised by the rule: rolled back
    assert answer.status_code == 404, answer.text

    assert not [c for c in sent if c[0] != COM_QUERY], sent
    extra = [sql for _, sql in sent if sql.upper() in ("COMMIT", "ROLLBACK")]
    assert extra == ["ROLLBACK"], sent
    assert len(sent) == len(statements) + 1, sent


@pytest.mark.mysql_only
def test_pooled_connections_killed_by_the_server_are_replaced_without_a_ping_or_an_error(client, topics, student, sent):
    import pymysql

    from studyhub.core.db import get_engine

    _topics_page(client, student)
    database = get_engine().url.database
    admin = pymysql.connect(host="127.0.0.1", port=3306, user="root", autocommit=True)
    try:
        with admin.cursor() as cur:
            cur.execute(
                "SELECT id FROM information_schema.processlist WHERE db = %s AND id <> CONNECTION_ID()", (database,)
            )
            pooled = [row[0] for row in cur.fetchall()]
            assert pooled, "the pool kept no connection"
            for thread_id in pooled:
                cur.execute(f"KILL CONNECTION {int(thread_id)}")
        time.sleep(0.3)  # the server closes their sockets
        sent.clear()
        for _ in range(3):
            _topics_page(client, student)  # each one 200: never the dead connection's error
    finally:
        admin.close()
    assert not [c for c in sent if c[0] == COM_PING], sent


@pytest.mark.mysql_only
def test_a_connection_lost_during_a_write_is_unavailable_and_the_next_request_works(teacher):
    import pymysql
    from sqlalchemy import text

    from studyhub.core.db import session_scope
    from studyhub.core.errors import Unavailable
    from studyhub.models.work import Label

    admin = pymysql.connect(host="127.0.0.1", port=3306, user="root", autocommit=True)
    try:
        with pytest.raises(Unavailable):  # 503, not whatever the rollback of a dead connection raises
            with session_scope() as session:
                thread_id = session.execute(text("SELECT CONNECTION_ID()")).scalar_one()
                with admin.cursor() as cur:
                    cur.execute(f"KILL CONNECTION {int(thread_id)}")
                session.add(Label(name="lost", user_id=teacher.id))
                session.flush()  # the flush's own rollback meets the invalidated connection
    finally:
        admin.close()
    with session_scope() as session:
        assert session.execute(text("SELECT 1")).scalar_one() == 1


@pytest.mark.mysql_only
def test_a_connection_given_back_inside_a_transaction_is_rolled_back(student, sent):
    import pymysql

    from studyhub.core.db import get_engine

    raw = get_engine().raw_connection()  # outside SQLAlchemy's transactions: the pool can't know
    cursor = raw.cursor()
    cursor.execute("SELECT id FROM users WHERE id = %s FOR UPDATE", (student.id,))
    cursor.close()
    raw.close()
    assert sent[-1] == (COM_QUERY, "ROLLBACK"), sent

    url = get_engine().url
    other = pymysql.connect(host="127.0.0.1", port=3306, user="root", database=url.database)
    try:
        with other.cursor() as cur:  # the row lock went with the rollback: no wait
            cur.execute("SELECT id FROM users WHERE id = %s FOR UPDATE NOWAIT", (student.id,))
            assert cur.fetchall()
        other.rollback()
    finally:
        other.close()


def test_the_health_check_runs_without_the_orm(platform, stack):
    script = (
        "import json, sys\n"
        "from studyhub.http.binder import _check_database\n"
        "_check_database()\n"
        "print(json.dumps({'orm': 'sqlalchemy.orm' in sys.modules}))\n"
    )
    env = dict(os.environ, **stack.env)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "layers" / "common")])
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"orm": False}
