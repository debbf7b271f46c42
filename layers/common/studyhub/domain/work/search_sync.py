"""Keeping the index in step with the database: index jobs' bodies and the rebuild."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from studyhub.clients.search import get_search
from studyhub.clients.search.base import SearchBackend, TopicDoc
from studyhub.domain.work.visibility import is_exam_label

if TYPE_CHECKING:  # sqlalchemy is imported on first use (cold start)
    from sqlalchemy import Row, Select
    from sqlalchemy.orm import Session

log = logging.getLogger("studyhub.search")


# --- keeping the index in step with the database ----------------------------------------------


def _indexable_select() -> Select[int, str, int, int, str, int, datetime]:
    """One row per indexable topic: id, subject, type, label id, label name, author, update time."""
    from sqlalchemy import select

    from studyhub.models.work import Label, Topic

    return (
        select(Topic.id, Topic.subject, Topic.type, Topic.label_id, Label.name, Topic.user_id, Topic.update_time)
        .join(Label, Label.id == Topic.label_id)
        .where(Topic.is_delete.is_(False), Label.is_delete.is_(False))
    )


def _doc(row: Row[int, str, int, int, str, int, datetime]) -> TopicDoc:
    return TopicDoc(
        id=row[0],
        subject=row[1],
        type=row[2],
        label_id=row[3],
        label_name=row[4],
        is_exam=is_exam_label(row[4]),
        user_id=row[5],
        update_time=row[6],
    )


def load_docs(session: Session, topic_ids: Sequence[int]) -> tuple[list[TopicDoc], list[int]]:
    """``(docs to index, ids to remove)`` for these topics, as the database has them now."""
    from studyhub.models.work import Topic

    ids = sorted({int(i) for i in topic_ids})
    if not ids:
        return [], []
    docs = [_doc(r) for r in session.execute(_indexable_select().where(Topic.id.in_(ids)))]
    found = {d.id for d in docs}
    return docs, [i for i in ids if i not in found]


def sync_topics(topic_ids: Sequence[int], backend: SearchBackend | None = None) -> int:
    """Make the index agree with the database for these topics (the index job's body)."""
    from studyhub.core.db import session_scope

    backend = backend or get_search()
    with session_scope() as session:
        docs, gone = load_docs(session, topic_ids)
    backend.upsert(docs)
    backend.delete(gone)
    return len(docs) + len(gone)


def label_topic_ids(label_id: int) -> list[int]:
    from sqlalchemy import select

    from studyhub.core.db import session_scope
    from studyhub.models.work import Topic

    with session_scope() as session:
        return list(session.scalars(select(Topic.id).where(Topic.label_id == int(label_id)).order_by(Topic.id)))


def sync_label(label_id: int, *, batch_size: int = 500) -> int:
    """A label renamed or deleted: its topics' ``label_name``, exam rule or presence changed."""
    ids = label_topic_ids(label_id)
    for start in range(0, len(ids), batch_size):
        sync_topics(ids[start : start + batch_size])
    return len(ids)


def _changed_since(since: datetime) -> list[int]:
    """Topics written, or whose label was written, since ``since`` (deleted ones too)."""
    from sqlalchemy import or_, select

    from studyhub.core.db import session_scope
    from studyhub.models.work import Label, Topic

    with session_scope() as session:
        # a label created after ``since`` has only topics written after it: the first rule has them
        labels = select(Label.id).where(Label.update_time >= since, Label.create_time < since)
        return list(
            session.scalars(select(Topic.id).where(or_(Topic.update_time >= since, Topic.label_id.in_(labels))))
        )


REBUILD_LOCK_KEY = "search:rebuild:lock"
# Writes committed (or clocks skewed) this long before the build started are caught up too.
CATCH_UP_MARGIN = timedelta(minutes=2)


class RebuildRunning(Exception):
    """Another rebuild holds the lock."""


def rebuild(
    *,
    batch_size: int = 1000,
    progress: Callable[[int], None] | None = None,
    total_hint: Callable[[int], None] | None = None,
) -> int:
    """Rebuild the index from the database into a new generation, then swap it in.

    Writes that happen meanwhile go to the live index through their jobs; before and after the
    swap every topic changed since the build started is copied again, so none is lost. Returns
    the number of topics indexed. One rebuild at a time (a lock in the cache).
    """
    from sqlalchemy import func, select

    from studyhub.clients.cache import get_cache
    from studyhub.core.db import session_scope
    from studyhub.models.base import utcnow
    from studyhub.models.work import Topic

    cache = get_cache()
    if cache.incr(REBUILD_LOCK_KEY, 3600) > 1:
        raise RebuildRunning("a search index rebuild is already running")
    try:
        backend = get_search()
        started = utcnow()
        generation = backend.start_rebuild()
        indexed = 0
        try:
            with session_scope() as session:
                total = session.scalar(select(func.count()).select_from(_indexable_select().subquery()))
            if total_hint:
                total_hint(total or 0)
            last_id = 0
            while True:
                with session_scope() as session:
                    rows = session.execute(
                        _indexable_select().where(Topic.id > last_id).order_by(Topic.id).limit(batch_size)
                    ).all()
                if not rows:
                    break
                docs = [_doc(r) for r in rows]
                backend.load(generation, docs)
                last_id = docs[-1].id
                indexed += len(docs)
                if progress:
                    progress(len(docs))
            since = started - CATCH_UP_MARGIN
            _catch_up(since, lambda docs: backend.load(generation, docs), lambda ids: backend.remove(generation, ids))
            backend.finish_rebuild(generation)
        except BaseException:
            try:
                backend.abort_rebuild(generation)
            except Exception:  # noqa: BLE001 - report the first failure, not the cleanup's
                log.exception("could not drop the unfinished search index")
            raise
        # what changed between the catch-up and the swap went to the old index: copy it again
        _catch_up(since, backend.upsert, backend.delete)
        log.info("search index rebuilt: %d topics on %s", indexed, backend.name)
        return indexed
    finally:
        cache.delete(REBUILD_LOCK_KEY)


def _catch_up(
    since: datetime,
    upsert: Callable[[list[TopicDoc]], None],
    delete: Callable[[list[int]], None],
    *,
    batch_size: int = 500,
) -> None:
    from studyhub.core.db import session_scope

    ids = _changed_since(since)
    for start in range(0, len(ids), batch_size):
        with session_scope() as session:
            docs, gone = load_docs(session, ids[start : start + batch_size])
        upsert(docs)
        delete(gone)
