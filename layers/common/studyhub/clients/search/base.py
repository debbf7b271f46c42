"""What every search backend shares: the document, the result, the interface, the limits."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

log = logging.getLogger("studyhub.search")

PRE_TAG = "<span style='color:red;'>"
POST_TAG = "</span>"
MAX_QUERY_CHARS = 200
# Elasticsearch refuses from + size beyond index.max_result_window (10,000 by default).
MAX_RESULT_WINDOW = 10_000


@dataclass(frozen=True)
class TopicDoc:
    """What the index keeps of a topic: enough to match, filter, order and highlight."""

    id: int
    subject: str
    type: int
    label_id: int
    label_name: str
    user_id: int
    update_time: datetime
    is_exam: bool  # under an exam label: left out of students' searches (domain.work.visibility)


@dataclass(frozen=True)
class Hit:
    id: int
    subject_html: str


@dataclass(frozen=True)
class SearchPage:
    total: int
    hits: list[Hit]


class SearchBackend(Protocol):
    name: str

    def search(self, text: str, *, include_exam: bool, offset: int, limit: int) -> SearchPage: ...
    def upsert(self, docs: Sequence[TopicDoc]) -> None: ...
    def delete(self, ids: Sequence[int]) -> None: ...
    def more_like_this(self, text: str, *, exclude_ids: Sequence[int], limit: int) -> list[int]:
        """Ids of topics whose subject is like ``text``, best first; never an exam topic (practice)."""
        ...

    def ping(self) -> None: ...
    def refresh(self) -> None: ...
    def clear(self) -> None: ...
    # a rebuild writes a new generation beside the live one, then swaps it in
    def start_rebuild(self) -> Any: ...
    def load(self, generation: Any, docs: Sequence[TopicDoc]) -> None: ...
    def remove(self, generation: Any, ids: Sequence[int]) -> None: ...
    def finish_rebuild(self, generation: Any) -> None: ...
    def abort_rebuild(self, generation: Any) -> None: ...
