"""The hot lists' query plans on MariaDB (issue 15): a page of ten must not sort the whole table.

A few thousand topics under a few labels (one of them an exam label), articles and commodities;
every statement a hot request issues (the caller lookup included) is captured as the route sends
it and ``EXPLAIN``-ed: a step that reads most of a table through a temporary table or a filesort
fails the test, with the plan in the message. Articles and commodities also keep their round
trips: a page is one count and one SELECT (authors joined in), a detail is read by its key. ``ANALYZE TABLE`` first, so the optimizer knows the
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
def statements_of(kinds: tuple[str, ...] = ("SELECT",)):
    """The statements of ``kinds`` issued inside the block, as sent to the driver (statement, parameters)."""
    from sqlalchemy import event

    from studyhub.core.db import get_engine

    seen: list[tuple[str, object]] = []

    def listener(_conn, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().upper().startswith(kinds):
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


def page_statements(client, token: str | None, path: str, kinds: tuple[str, ...] = ("SELECT",)) -> list:
    with statements_of(kinds) as seen:
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


# --- articles and commodities: their lists and details (issue 15) ----------------------------


def of_table(statements, table: str) -> list:
    return [(s, p) for s, p in statements if f"FROM {table}" in s or s.lstrip().startswith(f"UPDATE {table}")]


def read_by_key(statement: str, parameters) -> list[dict]:
    """The plan's steps that do not find their one row by a key."""
    from studyhub.core.db import get_engine

    with get_engine().connect() as conn:
        rows = conn.exec_driver_sql("EXPLAIN " + statement, parameters).mappings().all()
    # an UPDATE by primary key is shown as a one-row range on PRIMARY
    return [
        dict(r)
        for r in rows
        if not (r["type"] in ("const", "eq_ref") or (r["key"] == "PRIMARY" and int(r["rows"] or 0) <= 1))
    ]


@pytest.mark.parametrize(
    "query",
    [
        "page=20&size=10",  # a sixth into the table: still the index, not a sort of every row
        "limit=25&offset=100",
    ],
)
def test_articles_later_pages_sort_no_whole_table(client, seeded, student, query):
    from conftest import token_for

    seen = page_statements(client, token_for(student), f"/api/community/articles?{query}")
    bad = whole_table_sorts(seen)
    assert not bad, "\n".join(bad)


def test_articles_page_is_one_count_and_one_select_with_its_authors(client, seeded, student):
    """No per-row or per-page author lookup: the names come in the page's own statement."""
    from conftest import token_for

    seen = page_statements(client, token_for(student), "/api/community/articles?page=1&size=10")
    on_articles = of_table(seen, "articles")
    assert len(on_articles) == 2, on_articles
    count, page = on_articles
    assert "count(" in count[0].lower() and "JOIN users" not in count[0]  # no join, no derived table
    assert "JOIN users" in page[0]


def test_reading_an_article_is_one_update_and_one_select_by_key(client, seeded, student, teacher):
    from conftest import token_for

    from studyhub.core.db import session_scope
    from studyhub.models.community import Article

    with session_scope() as session:
        article = Article(title="热门", content="正文", user_id=teacher.id)
        session.add(article)
        session.flush()
        article_id = article.id
    seen = page_statements(client, token_for(student), f"/api/community/articles/{article_id}", ("SELECT", "UPDATE"))
    on_articles = of_table(seen, "articles")
    assert [s.split()[0].upper() for s, _ in on_articles] == ["UPDATE", "SELECT"], on_articles
    assert "JOIN users" in on_articles[1][0]  # the author's name in the same statement
    for statement, parameters in on_articles:
        assert not read_by_key(statement, parameters), (statement, read_by_key(statement, parameters))


def test_commodities_search_page_sorts_no_whole_table(client, seeded):
    seen = page_statements(client, None, "/api/shopping/commodities?search=%E7%BB%83%E4%B9%A0&page=1&size=10")
    assert len(of_table(seen, "commodities")) == 2, seen
    bad = whole_table_sorts(seen)
    assert not bad, "\n".join(bad)


def test_commodities_later_page_sorts_no_whole_table(client, seeded):
    seen = page_statements(client, None, "/api/shopping/commodities?page=20&size=10")
    bad = whole_table_sorts(seen)
    assert not bad, "\n".join(bad)


def test_reading_a_commodity_is_one_select_by_key(client, seeded):
    from sqlalchemy import select

    from studyhub.core.db import session_scope
    from studyhub.models.shopping import Commodity

    with session_scope() as session:
        commodity_id = session.scalar(select(Commodity.id).limit(1))
    seen = page_statements(client, None, f"/api/shopping/commodities/{commodity_id}")
    on_commodities = of_table(seen, "commodities")
    assert len(on_commodities) == 1, on_commodities
    assert not read_by_key(*on_commodities[0]), read_by_key(*on_commodities[0])
