"""The hot lists' query plans on MariaDB (issue 15): a page of ten must not sort the whole table.

A few thousand topics under a few labels (one of them an exam label), articles and commodities;
every statement a hot request issues (the caller lookup included) is captured as the route sends
it and ``EXPLAIN``-ed: a step that reads most of a table through a temporary table or a filesort
fails the test, with the plan in the message. ``ANALYZE TABLE`` first, so the optimizer knows the
real row counts, as it does in production.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from decimal import Decimal

import pytest

pytestmark = pytest.mark.mysql_only

TOPICS = 3000
ARTICLES = 1200
COMMODITIES = 1200
# A step over at least this many rows that sorts or builds a temporary table is "the whole table".
WHOLE_TABLE = 1000


@pytest.fixture
def seeded(teacher):
    from studyhub.core.db import get_engine, session_scope
    from studyhub.models.community import Article
    from studyhub.models.shopping import Commodity
    from studyhub.models.work import Label, Topic

    with session_scope() as session:
        labels = [Label(name=name, user_id=teacher.id) for name in ("数学", "语文", "英语", "期末考试")]
        session.add_all(labels)
        session.flush()
        session.add_all(
            Topic(subject=f"题目 {i}", type=i % 5, score=2.0, answer="A", label_id=labels[i % 4].id, user_id=teacher.id)
            for i in range(TOPICS)
        )
        session.add_all(Article(title=f"文章 {i}", content="正文", user_id=teacher.id) for i in range(ARTICLES))
        session.add_all(
            Commodity(name=f"练习册 {i}", price=Decimal("9.90"), stock=5, sales=0, description="")
            for i in range(COMMODITIES)
        )
    with get_engine().connect() as conn:
        for table in ("users", "labels", "topics", "articles", "commodities"):
            conn.exec_driver_sql(f"ANALYZE TABLE `{table}`").all()
    return labels


@contextmanager
def statements_of():
    """The SELECTs issued inside the block, as sent to the driver (statement, parameters)."""
    from sqlalchemy import event

    from studyhub.core.db import get_engine

    seen: list[tuple[str, object]] = []

    def listener(_conn, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def whole_table_sorts(statements) -> list[str]:
    """Each plan step that sorts or spills most of a table, described with its statement."""
    from studyhub.core.db import get_engine

    bad = []
    with get_engine().connect() as conn:
        for statement, parameters in statements:
            rows = conn.exec_driver_sql("EXPLAIN " + statement, parameters).mappings().all()
            for row in rows:
                extra = row["Extra"] or ""
                # the sort is shown on the join's first table but sorts the whole join's rows
                joined = math.prod(int(r["rows"] or 1) for r in rows if r["id"] == row["id"])
                if ("Using temporary" in extra or "Using filesort" in extra) and joined >= WHOLE_TABLE:
                    plan = "; ".join(
                        f"{r['table']} {r['type']} key={r['key']} rows={r['rows']} {r['Extra']}" for r in rows
                    )
                    bad.append(f"{' '.join(statement.split())[:300]}\n    plan: {plan}")
    return bad


def page_statements(client, token: str, path: str) -> list:
    with statements_of() as seen:
        answer = client.get(path, token=token)
    assert answer.status_code == 200, answer.text
    assert seen, "the route issued no SELECT"
    return seen


def test_students_topics_page_sorts_no_whole_table(client, seeded, student):
    from conftest import token_for

    seen = page_statements(client, token_for(student), "/api/work/topics?page=1&size=10")
    bad = whole_table_sorts(seen)
    assert not bad, "\n".join(bad)


def test_teachers_topics_page_sorts_no_whole_table(client, seeded, teacher):
    from conftest import token_for

    seen = page_statements(client, token_for(teacher), "/api/work/topics?page=1&size=10")
    bad = whole_table_sorts(seen)
    assert not bad, "\n".join(bad)


def test_topics_page_of_one_label_sorts_no_whole_table(client, seeded, teacher):
    from conftest import token_for

    seen = page_statements(client, token_for(teacher), f"/api/work/topics?page=1&size=10&label={seeded[0].id}")
    bad = whole_table_sorts(seen)
    assert not bad, "\n".join(bad)


def test_articles_page_sorts_no_whole_table(client, seeded, student):
    from conftest import token_for

    seen = page_statements(client, token_for(student), "/api/community/articles?page=1&size=10")
    bad = whole_table_sorts(seen)
    assert not bad, "\n".join(bad)


def test_commodities_page_sorts_no_whole_table(client, seeded, student):
    from conftest import token_for

    seen = page_statements(client, token_for(student), "/api/shopping/commodities?page=1&size=10")
    bad = whole_table_sorts(seen)
    assert not bad, "\n".join(bad)


def test_caller_lookup_reads_one_user_by_key(client, seeded, student):
    """The caller (user and groups) is found by primary key, whatever else the request does."""
    from conftest import token_for

    from studyhub.core.db import get_engine

    seen = page_statements(client, token_for(student), "/api/work/labels")
    lookups = [(s, p) for s, p in seen if "FROM users" in s]
    assert lookups, "no caller lookup captured"
    with get_engine().connect() as conn:
        for statement, parameters in lookups:
            for row in conn.exec_driver_sql("EXPLAIN " + statement, parameters).mappings().all():
                if row["table"] == "users":
                    assert row["type"] in ("const", "eq_ref"), dict(row)
    bad = whole_table_sorts(seen)
    assert not bad, "\n".join(bad)
