"""Factories for the work tests: labels and topics written straight to the database (the
behaviour under test goes through HTTP; arranging rows need not), and the search index.

``index(*topics)`` runs the index job's body (``sync_topics``) for those topics, as the worker
would after their commit; tests of the job system itself use the ``job_worker`` fixture instead.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import store


@pytest.fixture
def search_backend(platform):
    """Which search backend the test runs on: the embedded index (the stack's default).
    The Elasticsearch tests override this fixture."""
    return "embedded"


@pytest.fixture
def search_index(platform, search_backend):
    """The stack's search backend, emptied (ids restart when the tables are wiped)."""
    from studyhub.clients.search import get_search

    backend = get_search()
    backend.clear()
    return backend


@pytest.fixture
def make_label(platform):
    """``make_label(owner, name="Python基础", age=timedelta)``: ``age`` dates it in the past."""
    from studyhub.models.work import Label

    def factory(owner, name: str = "Python基础", *, age: timedelta | None = None):
        kwargs = {}
        if age is not None:
            when = datetime.now(UTC) - age
            kwargs = {"create_time": when, "update_time": when}
        return store(Label(name=name, user_id=owner.id, **kwargs))

    return factory


@pytest.fixture
def make_topic(platform):
    """``make_topic(owner, label, subject=..., type=0, answer=..., age=timedelta)``."""
    from studyhub.models.work import Topic

    def factory(
        owner,
        label,
        subject: str = "Python中的列表推导式是什么",
        *,
        type: int = 4,
        answer: str | None = "一种创建列表的简洁写法",
        score: float | None = 5.0,
        description: str | None = None,
        age: timedelta | None = None,
    ):
        kwargs = {}
        if age is not None:
            when = datetime.now(UTC) - age
            kwargs = {"create_time": when, "update_time": when}
        return store(
            Topic(
                subject=subject,
                type=type,
                answer=answer,
                score=score,
                description=description,
                label_id=label.id,
                user_id=owner.id,
                **kwargs,
            )
        )

    return factory


@pytest.fixture
def index(search_index):
    """``index(*topics)``: what the index job does after their commit."""
    from studyhub.domain.work.search_sync import sync_topics

    def run(*topics):
        sync_topics([t.id if hasattr(t, "id") else int(t) for t in topics])
        search_index.refresh()

    return run


def break_index(root):
    """Make the index unusable, as a lost or read-only disk would: its directory becomes a file."""
    import shutil

    from studyhub.clients.search import reset

    shutil.rmtree(root, ignore_errors=True)
    root.write_bytes(b"not an index")
    reset()  # no open index survives in this process


def restore_index(root):
    from studyhub.clients.search import reset

    if root.is_file():
        root.unlink()
    reset()


def search(client, subject: str | None = None, **params):
    if subject is not None:
        params["subject"] = subject
    return client.get("/api/work/topics/search", params=params)


def strip_marks(html: str) -> str:
    return html.replace("<span style='color:red;'>", "").replace("</span>", "")


def marked_terms(html: str) -> list[str]:
    """The highlighted runs, adjacent marks joined (a standard analyzer marks 列 and 表 apart)."""
    import re

    joined = html.replace("</span><span style='color:red;'>", "")
    return re.findall(r"<span style='color:red;'>(.*?)</span>", joined)
