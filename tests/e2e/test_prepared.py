"""Prepared statements (core/prepared.py): the hot reads run on the DBAPI cursor, past Core's
execute path, and must read exactly as ``Connection.execute`` reads, on both databases; errors and
lost connections behave as they do through SQLAlchemy (issue 15)."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, exc, select


def make_rows(make_user):
    """An article (aware UTC datetimes, a joined label) and topics under an exam label."""
    from studyhub.core.db import session_scope
    from studyhub.models.community import Article
    from studyhub.models.work import Label, Topic

    teacher = make_user("teacher")
    with session_scope() as session:
        article = Article(title="标题", content="正文", user_id=teacher.id)
        exam, plain = Label(name="期末考试", user_id=teacher.id), Label(name="数学", user_id=teacher.id)
        session.add_all([article, exam, plain])
        session.flush()
        session.add_all(
            Topic(
                subject=f"题 {i}",
                type=i % 5,
                score=1.5,
                answer="A",
                label_id=(exam, plain)[i % 2].id,
                user_id=teacher.id,
            )
            for i in range(7)
        )
        return article.id


def test_rows_read_as_connection_execute_reads_them(platform, make_user):
    from studyhub.core.db import session_scope
    from studyhub.domain.community import article_reads as articles

    article_id = make_rows(make_user)
    with session_scope() as session:
        conn = session.connection()
        expected = conn.execute(articles._ONE.statement, {"article_id": article_id}).one()
        got = articles._ONE.first(conn, {"article_id": article_id})
    assert tuple(got) == tuple(expected)
    assert [type(v) for v in got] == [type(v) for v in expected]
    assert got.create_time.tzinfo is not None and got.user_name == expected.user_name
    assert got._asdict() == dict(expected._mapping)


@pytest.mark.parametrize("include_exam", [False, True])
def test_values_bound_in_the_statement_and_pages_match(platform, make_user, include_exam):
    """The students' list has the exam rule's literal in it (bound at compile time)."""
    from sqlalchemy import func

    from studyhub.core.db import session_scope
    from studyhub.core.prepared import Prepared, paged
    from studyhub.domain.work.topic_reads import ROW_COLUMNS
    from studyhub.domain.work.visibility import visible_topic_columns

    make_rows(make_user)
    rows = visible_topic_columns(*ROW_COLUMNS, include_exam=include_exam).order_by(ROW_COLUMNS[0].desc())
    count = visible_topic_columns(func.count(), include_exam=include_exam)
    with session_scope() as session:
        conn = session.connection()
        assert Prepared(count).scalar(conn) == conn.execute(count).scalar() == (7 if include_exam else 3)
        page = paged(rows).all(conn, {"page_offset": 1, "page_limit": 2})
        assert [tuple(r) for r in page] == [tuple(r) for r in conn.execute(rows.offset(1).limit(2)).all()]


def test_listeners_see_each_statement_and_a_bad_one_raises_as_sqlalchemy_does(platform):
    from sqlalchemy import event, literal_column, table

    from studyhub.core.db import get_engine, session_scope
    from studyhub.core.prepared import Prepared

    seen = []
    listen = lambda _c, _cur, statement, *_rest: seen.append(statement)  # noqa: E731
    event.listen(get_engine(), "before_cursor_execute", listen)
    try:
        with pytest.raises(exc.DBAPIError), session_scope() as session:
            Prepared(select(literal_column("1").label("one")).select_from(table("no_such_table"))).all(
                session.connection()
            )
    finally:
        event.remove(get_engine(), "before_cursor_execute", listen)
    assert any("no_such_table" in s for s in seen)


@pytest.mark.mysql_only
def test_a_connection_lost_under_a_prepared_read_is_invalidated_and_unavailable(platform, make_user):
    """As through SQLAlchemy: the pooled connection is dropped and the request answers 503."""
    from sqlalchemy import create_engine

    from studyhub.core.config import get_settings
    from studyhub.core.db import session_scope
    from studyhub.core.errors import Unavailable
    from studyhub.domain.community import article_reads as articles

    article_id = make_rows(make_user)
    killer = create_engine(get_settings().database_url)
    with pytest.raises(Unavailable), session_scope() as session:
        conn = session.connection()
        connection_id = conn.exec_driver_sql("SELECT CONNECTION_ID()").scalar()
        with killer.connect() as other:
            other.exec_driver_sql(f"KILL {connection_id}")
        articles._ONE.first(conn, {"article_id": article_id})
    killer.dispose()
    with session_scope() as session:  # the pool gave a live connection again
        assert articles._ONE.first(session.connection(), {"article_id": article_id}) is not None


def test_what_a_prepared_statement_cannot_take_is_refused_when_compiled(platform):
    from studyhub.core.db import session_scope
    from studyhub.core.prepared import Prepared
    from studyhub.models.users import User

    users = User.__table__
    with session_scope() as session:
        conn = session.connection()
        with pytest.raises(ValueError, match="expanding"):
            Prepared(select(users.c.id).where(users.c.id.in_(bindparam("ids", expanding=True)))).all(conn, {"ids": [1]})
        with pytest.raises(ValueError, match="column names"):
            Prepared(select(users.c.id.label("user id"))).all(conn)
