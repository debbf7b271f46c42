"""The Elasticsearch backend: the official client, an index behind an alias."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from studyhub.clients.search.base import (
    MAX_QUERY_CHARS,
    MAX_RESULT_WINDOW,
    POST_TAG,
    PRE_TAG,
    Hit,
    SearchPage,
    TopicDoc,
)
from studyhub.clients.search.text import escape_html
from studyhub.core.errors import Unavailable

log = logging.getLogger("studyhub.search")


# --- the Elasticsearch backend --------------------------------------------------------------


class ElasticsearchSearch:
    """Topics in an index behind an alias; a rebuild fills a new index, then moves the alias.

    The mapping uses the IK analyzer (``ik_max_word`` to index, ``ik_smart`` to search) when the
    cluster has the plugin, the standard analyzer otherwise. Students' rule is a filter
    (``is_exam: false``), applied before scoring and counting.
    """

    name = "elasticsearch"

    def __init__(self, url: str, alias: str) -> None:
        from elasticsearch import Elasticsearch  # lazy: heavy, and only needed with a cluster

        from studyhub.core.config import get_settings

        self.alias = alias
        # a timeout is not retried: it would double the wait past BACKEND_TIMEOUT_SECONDS
        timeout = get_settings().backend_timeout_seconds
        self.client = Elasticsearch(url, request_timeout=timeout, max_retries=1, retry_on_timeout=False)
        self._analyzers: tuple[str, str] | None = None
        self._alias_ready = False
        self._lock = threading.Lock()

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        from elastic_transport import TransportError
        from elasticsearch import ApiError

        try:
            return fn(*args, **kwargs)
        except TransportError as error:  # connection refused, timeout, TLS: can't reach it
            log.warning("elasticsearch unreachable: %s", type(error).__name__)
            raise Unavailable("search") from error
        except ApiError as error:
            if error.status_code in (429, 502, 503, 504):
                log.warning("elasticsearch unavailable: %s", error.status_code)
                raise Unavailable("search") from error
            raise

    # index management ----------------------------------------------------------------------
    def analyzers(self) -> tuple[str, str]:
        """``(index analyzer, search analyzer)``: IK when the cluster has it."""
        if self._analyzers is None:
            from elasticsearch import BadRequestError, NotFoundError

            try:
                self._call(self.client.indices.analyze, analyzer="ik_smart", text="中文分词")
                self._analyzers = ("ik_max_word", "ik_smart")
            except (BadRequestError, NotFoundError):
                self._analyzers = ("standard", "standard")
        return self._analyzers

    def index_body(self, *, refresh_interval: str = "1s") -> dict[str, Any]:
        index_analyzer, search_analyzer = self.analyzers()
        return {
            "settings": {"number_of_shards": 1, "refresh_interval": refresh_interval},
            "mappings": {
                "dynamic": "strict",
                "properties": {
                    "id": {"type": "long"},
                    "subject": {"type": "text", "analyzer": index_analyzer, "search_analyzer": search_analyzer},
                    "type": {"type": "byte"},
                    "label": {"type": "long"},
                    "label_name": {"type": "keyword"},
                    "is_exam": {"type": "boolean"},
                    "user": {"type": "long"},
                    "update_time": {"type": "date"},
                },
            },
        }

    def _new_index_name(self) -> str:
        return f"{self.alias}-{datetime.now(UTC):%Y%m%d%H%M%S%f}"

    def ensure_alias(self) -> None:
        """First use on a new cluster: an index and the alias pointing at it."""
        if self._alias_ready:
            return
        with self._lock:
            if self._alias_ready:
                return
            if not self._call(self.client.indices.exists_alias, name=self.alias):
                from elasticsearch import BadRequestError

                first = f"{self.alias}-initial"  # one name, so racing processes create one index
                try:
                    self._call(self.client.indices.create, index=first, **self.index_body())
                except BadRequestError as error:
                    if "resource_already_exists" not in str(error):
                        raise
                self._call(self.client.indices.update_aliases, actions=[{"add": {"index": first, "alias": self.alias}}])
            self._alias_ready = True

    def _alias_indices(self) -> list[str]:
        from elasticsearch import NotFoundError

        try:
            return list(self._call(self.client.indices.get_alias, name=self.alias).body)
        except NotFoundError:
            return []

    @staticmethod
    def _source(doc: TopicDoc) -> dict[str, Any]:
        return {
            "id": doc.id,
            "subject": doc.subject,
            "type": doc.type,
            "label": doc.label_id,
            "label_name": doc.label_name,
            "is_exam": doc.is_exam,
            "user": doc.user_id,
            "update_time": doc.update_time.astimezone(UTC).isoformat(),
        }

    def _bulk(self, actions: list[dict[str, Any]]) -> None:
        if not actions:
            return
        from elasticsearch import helpers

        _ok, errors = self._call(
            helpers.bulk, self.client, actions, chunk_size=1000, raise_on_error=False, max_retries=2
        )
        real = [e for e in errors if next(iter(e.values())).get("status") != 404]  # deleting a missing doc
        if real:
            raise RuntimeError(f"elasticsearch bulk request failed for {len(real)} documents: {real[:3]}")

    def _index_actions(self, index: str, docs: Sequence[TopicDoc]) -> list[dict[str, Any]]:
        return [{"_op_type": "index", "_index": index, "_id": str(d.id), "_source": self._source(d)} for d in docs]

    @staticmethod
    def _delete_actions(index: str, ids: Sequence[int]) -> list[dict[str, Any]]:
        return [{"_op_type": "delete", "_index": index, "_id": str(i)} for i in ids]

    # writes --------------------------------------------------------------------------------
    def upsert(self, docs: Sequence[TopicDoc]) -> None:
        self.ensure_alias()
        self._bulk(self._index_actions(self.alias, docs))

    def delete(self, ids: Sequence[int]) -> None:
        self.ensure_alias()
        self._bulk(self._delete_actions(self.alias, ids))

    def clear(self) -> None:
        self.ensure_alias()
        self._call(
            self.client.delete_by_query, index=self.alias, query={"match_all": {}}, refresh=True, conflicts="proceed"
        )

    def ping(self) -> None:
        self._call(self.client.info)

    def refresh(self) -> None:
        self.ensure_alias()
        self._call(self.client.indices.refresh, index=self.alias)

    # search --------------------------------------------------------------------------------
    def search(self, text: str, *, include_exam: bool, offset: int, limit: int) -> SearchPage:
        from elasticsearch import NotFoundError

        text = text.strip()[:MAX_QUERY_CHARS]
        filters = [] if include_exam else [{"term": {"is_exam": False}}]
        if text:
            must = {
                "bool": {
                    "should": [
                        {"match": {"subject": {"query": text}}},
                        {"match_phrase": {"subject": {"query": text, "boost": 2}}},  # the words together first
                    ],
                    "minimum_should_match": 1,
                }
            }
            sort: list[Any] = ["_score", {"update_time": "desc"}, {"id": "desc"}]
        else:
            must = {"match_all": {}}
            sort = [{"update_time": "desc"}, {"id": "desc"}]
        size = max(0, min(limit, MAX_RESULT_WINDOW - offset))
        request: dict[str, Any] = {
            "index": self.alias,
            "query": {"bool": {"must": [must], "filter": filters}},
            "sort": sort,
            "from_": min(offset, MAX_RESULT_WINDOW),
            "size": size,
            "track_total_hits": True,
            "source_includes": ["subject"],
        }
        if text:
            request["highlight"] = {
                "encoder": "html",
                "pre_tags": [PRE_TAG],
                "post_tags": [POST_TAG],
                "fields": {"subject": {"number_of_fragments": 0}},  # the whole subject, not a fragment
            }
        self.ensure_alias()
        try:
            response = self._call(self.client.search, **request)
        except NotFoundError:
            return SearchPage(0, [])
        hits = []
        for hit in response["hits"]["hits"]:
            marked = (hit.get("highlight") or {}).get("subject")
            hits.append(Hit(int(hit["_id"]), marked[0] if marked else escape_html(hit["_source"]["subject"])))
        return SearchPage(int(response["hits"]["total"]["value"]), hits)

    def more_like_this(self, text: str, *, exclude_ids: Sequence[int], limit: int) -> list[int]:
        """Elasticsearch's ``more_like_this`` on ``subject``, minus the excluded ids and exam topics."""
        from elasticsearch import NotFoundError

        text = text.strip()[: MAX_QUERY_CHARS * 10]
        if not text or limit <= 0:
            return []
        query = {
            "bool": {
                "must": [
                    {
                        "more_like_this": {
                            "fields": ["subject"],
                            "like": text,
                            "min_term_freq": 1,
                            "min_doc_freq": 1,
                            "max_query_terms": 32,
                            "minimum_should_match": "1",
                        }
                    }
                ],
                "filter": [{"term": {"is_exam": False}}],
                "must_not": [{"ids": {"values": [str(i) for i in exclude_ids]}}] if exclude_ids else [],
            }
        }
        self.ensure_alias()
        try:
            response = self._call(
                self.client.search, index=self.alias, query=query, size=min(limit, MAX_RESULT_WINDOW), source=False
            )
        except NotFoundError:
            return []
        return [int(hit["_id"]) for hit in response["hits"]["hits"]]

    # rebuild -------------------------------------------------------------------------------
    def start_rebuild(self) -> str:
        name = self._new_index_name()
        # no refreshes while loading: one at the end
        self._call(self.client.indices.create, index=name, **self.index_body(refresh_interval="-1"))
        return name

    def load(self, generation: str, docs: Sequence[TopicDoc]) -> None:
        self._bulk(self._index_actions(generation, docs))

    def remove(self, generation: str, ids: Sequence[int]) -> None:
        self._bulk(self._delete_actions(generation, ids))

    def finish_rebuild(self, generation: str) -> None:
        self._call(self.client.indices.put_settings, index=generation, settings={"index": {"refresh_interval": "1s"}})
        self._call(self.client.indices.refresh, index=generation)
        old = [name for name in self._alias_indices() if name != generation]
        actions = [{"remove": {"index": name, "alias": self.alias}} for name in old]
        actions.append({"add": {"index": generation, "alias": self.alias}})
        self._call(self.client.indices.update_aliases, actions=actions)  # atomic: search never goes empty
        self._alias_ready = True
        for name in old:
            try:
                self._call(self.client.indices.delete, index=name, ignore_unavailable=True)
            except Exception:  # noqa: BLE001 - a leftover index is harmless; the swap is done
                log.warning("could not delete old search index %s", name)

    def abort_rebuild(self, generation: str) -> None:
        self._call(self.client.indices.delete, index=generation, ignore_unavailable=True)
