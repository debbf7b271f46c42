"""``paginate_rows``: the list shape over prepared Core statements (``core.prepared``), rows read by
name."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, func, insert, select
from sqlalchemy.engine import Connection

from studyhub.core.prepared import Prepared, paged
from studyhub.http.pagination import paginate_rows

things = Table("things", MetaData(), Column("id", Integer, primary_key=True), Column("name", String(20)))


@pytest.fixture
def connection():
    engine = create_engine("sqlite://")
    things.metadata.create_all(engine)
    with engine.connect() as connection:
        connection.execute(insert(things), [{"id": i, "name": f"n{i}"} for i in range(1, 26)])
        yield connection


def req_for(connection: Connection, query: dict[str, str]) -> SimpleNamespace:
    """What ``paginate_rows`` reads of a request: its query, its connection (no ORM), its path."""
    return SimpleNamespace(query=query, connection=connection, public_path="/api/things")


def test_a_page_of_rows_read_by_column_name(connection):
    stmt = select(things.c.id, things.c.name.label("label")).where(things.c.id > 5).order_by(things.c.id.desc())
    count = Prepared(select(func.count()).select_from(things).where(things.c.id > 5))
    page = paginate_rows(
        req_for(connection, {"page": "2", "size": "7"}),  # type: ignore[arg-type]
        paged(stmt),
        count,
        lambda rows: [{"id": r.id, "label": r.label} for r in rows],
    )
    assert page["count"] == 20
    assert [r["id"] for r in page["results"]] == list(range(18, 11, -1))
    assert page["results"][0]["label"] == "n18"
    assert page["next"].endswith("/api/things?page=3&size=7")
    assert page["previous"].endswith("/api/things?size=7")


def test_an_empty_list_reads_no_page(connection):
    calls = []
    page = paginate_rows(
        req_for(connection, {}),  # type: ignore[arg-type]
        paged(select(things.c.id).where(things.c.id < 0)),
        Prepared(select(func.count()).select_from(things).where(things.c.id < 0)),
        lambda rows: calls.append(rows) or [],
    )
    assert page == {"count": 0, "next": None, "previous": None, "results": []}
    assert calls == [[]]
