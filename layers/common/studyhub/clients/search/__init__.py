"""Topic search: one interface, two backends, chosen by ``ELASTICSEARCH_URL``.

    SearchBackend                    search / upsert / delete / rebuild (new generation, swap)
     ├── ElasticsearchSearch         the official client; IK analyzer when the cluster has it
     └── EmbeddedSearch              tantivy under var/search/, words segmented by jieba

The database is the truth and the index is eventually consistent: topic and label writes queue
index jobs after their commit (``sync_topics``/``sync_label``, idempotent, taking ids) and
``rebuild`` builds a fresh generation from the database and swaps it in, so search never goes
empty. Both backends answer with the same result: hit ids, best match first, and each subject
HTML-escaped (as Lucene's HTML encoder does) with every matched term wrapped in
``<span style='color:red;'>`` … ``</span>``. A backend that can't be reached raises
``Unavailable("search")``. Clients are created lazily and kept per process; ``reset()`` forgets
them (tests switch settings).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from studyhub.clients.search.base import (  # noqa: F401 - the interface, re-exported
    MAX_QUERY_CHARS,
    MAX_RESULT_WINDOW,
    POST_TAG,
    PRE_TAG,
    Hit,
    SearchBackend,
    SearchPage,
    TopicDoc,
)
from studyhub.core.lazy import Lazy

# --- the per-process client -----------------------------------------------------------------


def index_root(var_dir: Path) -> Path:
    return var_dir / "search"


def _build_backend() -> SearchBackend:
    from studyhub.core.config import get_settings

    settings = get_settings()
    if settings.elasticsearch_url:
        from studyhub.clients.search.elastic import ElasticsearchSearch

        # the alias (and prefix of its indices); tests give each run its own
        alias = os.environ.get("ELASTICSEARCH_INDEX") or "studyhub-topics"
        return ElasticsearchSearch(settings.elasticsearch_url, alias)
    from studyhub.clients.search.embedded import EmbeddedSearch

    return EmbeddedSearch(index_root(settings.var_dir))


_backend: Lazy[SearchBackend] = Lazy(_build_backend)
get_search = _backend.get
reset = _backend.reset


# Heavier parts load on first use (a function's cold start imports only what it touches).
_LAZY = {
    "EmbeddedSearch": "embedded",
    "ElasticsearchSearch": "elastic",
    "escape_html": "text",
    "highlight": "text",
    "index_tokens": "text",
    "query_terms": "text",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(name)
