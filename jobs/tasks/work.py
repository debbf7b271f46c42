"""Work jobs: keep the topic search index in step with the database, and rebuild it.

Every task takes ids and reads the database itself, so running one twice, late or out of order
leaves the index as the database says (idempotent). A search backend that can't be reached
(``Unavailable``) is retried with exponential backoff (1 s, 2 s, 4 s ... capped at 10 min) until it
returns; the scheduled ``reindex`` (routes.yaml) rebuilds everything as a backstop.
"""

from __future__ import annotations

import logging

from celery import shared_task

from studyhub.core.errors import Unavailable
from studyhub.domain.work.task_names import CLOSE_ATTEMPTS, INDEX_LABEL, INDEX_TOPIC, REINDEX

log = logging.getLogger("studyhub.jobs.work")


RETRY_UNTIL_BACK = {
    "autoretry_for": (Unavailable,),
    "retry_backoff": 1,
    "retry_backoff_max": 600,
    "retry_jitter": False,
    "max_retries": None,
}


@shared_task(name=INDEX_TOPIC, **RETRY_UNTIL_BACK)
def index_topic(topic_id: int) -> int:
    """Index the topic as it is now, or remove it if it is deleted or gone."""
    from studyhub.domain.work.search_sync import sync_topics

    return sync_topics([int(topic_id)])


@shared_task(name=INDEX_LABEL, **RETRY_UNTIL_BACK)
def index_label(label_id: int) -> int:
    """Re-index every topic of a renamed or deleted label."""
    from studyhub.domain.work.search_sync import sync_label

    return sync_label(int(label_id))


@shared_task(name=REINDEX)
def reindex() -> int:
    """Rebuild the whole index from the database (into a new generation, then swap)."""
    from studyhub.domain.work.search_sync import RebuildRunning, rebuild

    try:
        return rebuild()
    except RebuildRunning:
        log.info("reindex skipped: another rebuild is running")
        return 0


@shared_task(name=CLOSE_ATTEMPTS)
def close_attempts() -> int:
    """Every minute: submit the drafts of attempts whose deadline (and grace) passed, once each."""
    from studyhub.domain.work.attempts import close_overdue

    return close_overdue()
