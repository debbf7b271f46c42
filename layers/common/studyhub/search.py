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

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Protocol

from .errors import Unavailable

log = logging.getLogger("studyhub.search")

PRE_TAG = "<span style='color:red;'>"
POST_TAG = "</span>"
EXAM_MARK = "考试"
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

    @property
    def is_exam(self) -> bool:
        return EXAM_MARK in self.label_name


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
    def ping(self) -> None: ...
    def refresh(self) -> None: ...
    def clear(self) -> None: ...
    # a rebuild writes a new generation beside the live one, then swaps it in
    def start_rebuild(self) -> Any: ...
    def load(self, generation: Any, docs: Sequence[TopicDoc]) -> None: ...
    def remove(self, generation: Any, ids: Sequence[int]) -> None: ...
    def finish_rebuild(self, generation: Any) -> None: ...
    def abort_rebuild(self, generation: Any) -> None: ...


# --- escaping and highlighting (shared by both backends) -------------------------------------

_HTML_ESCAPES = {'"': "&quot;", "&": "&amp;", "<": "&lt;", ">": "&gt;", "'": "&#x27;", "/": "&#x2F;"}
_HTML_RE = re.compile("[\"&<>'/]")


def escape_html(text: str) -> str:
    """Exactly what Lucene's ``SimpleHTMLEncoder`` (Elasticsearch's ``encoder: html``) does."""
    return _HTML_RE.sub(lambda m: _HTML_ESCAPES[m.group()], text)


_WORD_RE = re.compile(r"[^\W_]+")  # a word: letters and digits (no underscore, no punctuation)
_ASCII_WORD = re.compile(r"[0-9a-z]+")
# Function words dropped from a query unless nothing else is left (they match almost everything).
STOPWORDS = frozenset(
    "的 了 是 在 和 与 及 或 吗 呢 啊 吧 也 都 就 而 之 其 a an and are as at be by for in is it of on or "
    "the to what which how".split()
)


def _fold(text: str) -> str:
    """Lower-case without changing the length, so offsets still point into the original."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def highlight(text: str, terms: Iterable[str]) -> str:
    """``text`` HTML-escaped with every occurrence of a term wrapped in the highlight tags.

    A term of letters/digits only matches whole words (as the tokenizer split them); a Chinese
    term matches wherever it occurs. Overlapping matches become one span.
    """
    folded = _fold(text)
    spans: list[tuple[int, int]] = []
    for term in terms:
        if not term:
            continue
        whole_word = _ASCII_WORD.fullmatch(term) is not None
        start = folded.find(term)
        while start != -1:
            end = start + len(term)
            if not whole_word or (
                (start == 0 or not _is_ascii_alnum(folded[start - 1]))
                and (end == len(folded) or not _is_ascii_alnum(folded[end]))
            ):
                spans.append((start, end))
            start = folded.find(term, start + 1)
    if not spans:
        return escape_html(text)
    spans.sort()
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out: list[str] = []
    position = 0
    for start, end in merged:
        out.append(escape_html(text[position:start]))
        out.append(PRE_TAG + escape_html(text[start:end]) + POST_TAG)
        position = end
    out.append(escape_html(text[position:]))
    return "".join(out)


def _is_ascii_alnum(char: str) -> bool:
    return char.isascii() and char.isalnum()


# --- Chinese word segmentation (jieba, loaded on first use) ----------------------------------

_jieba = None
_jieba_lock = threading.Lock()


def _segmenter():
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba = jieba
    return _jieba


def _words(text: str) -> list[str]:
    """jieba's search-mode words (long words and their parts, like IK's ``ik_max_word``),
    lower-cased and cut into runs of letters/digits: punctuation and spaces drop out."""
    return [part for word in _segmenter().cut_for_search(text) for part in _WORD_RE.findall(word.lower())]


def index_tokens(text: str) -> str:
    """The words of ``text`` for the index, separated by spaces."""
    return " ".join(_words(text))


def query_terms(text: str) -> list[str]:
    """The query's distinct words; function words go unless nothing else is left."""
    terms = list(dict.fromkeys(_words(text[:MAX_QUERY_CHARS])))
    meaningful = [t for t in terms if t not in STOPWORDS]
    return (meaningful or terms)[:32]


# --- the embedded backend: tantivy ----------------------------------------------------------

class _Generation:
    """One index directory being built by a rebuild, with its open writer."""

    def __init__(self, name: str, index: Any, writer: Any) -> None:
        self.name = name
        self.index = index
        self.writer = writer


class EmbeddedSearch:
    """A real inverted index on this machine's disk: tantivy (Lucene-like, BM25, top-k without
    scoring every match) over jieba-segmented words, under ``var/search/``.

    Each generation is a tantivy index directory (``topics-000001``...); the file ``CURRENT``
    names the live one and is replaced atomically by a rebuild, so readers switch at once and
    search never goes empty. Several processes share the directory: web threads read (each
    process reloads when the live generation's ``meta.json`` changed), jobs and the command
    write, one writer at a time (tantivy's lock file; a busy lock is waited for).

    Why tantivy and not SQLite FTS5: FTS5's bm25 scores every matching row (about 1 µs each), so
    a word found in 800 of 100,000 topics took ~1 ms; tantivy's top-k skips what can't make the
    page and answers the same search in ~0.15 ms (bench/search.py).
    """

    name = "embedded"
    WRITER_HEAP = 32_000_000
    LOCK_WAIT_SECONDS = 30.0

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._lock = threading.RLock()  # the open index and its reload
        self._write_lock = threading.Lock()  # one writer per process at a time
        self._index: Any = None
        self._index_name: str | None = None
        self._stamp: tuple[int, int] | None = None

    # files and schema ----------------------------------------------------------------------
    @property
    def current_file(self) -> Path:
        return self.root / "CURRENT"

    _built_schema: Any = None

    @classmethod
    def _schema(cls):
        if cls._built_schema is not None:
            return cls._built_schema
        import tantivy  # lazy: only the embedded backend needs it

        builder = tantivy.SchemaBuilder()
        builder.add_unsigned_field("id", stored=True, indexed=True, fast=True)
        builder.add_bytes_field("subject", stored=True, indexed=False)
        # jieba's words, normalised in Python: the whitespace tokenizer only splits them
        builder.add_text_field("tokens", stored=False, tokenizer_name="whitespace", index_option="freq")
        builder.add_unsigned_field("exam", stored=False, indexed=True, fast=True)
        # newest first for an empty search: update time (ms) with the id as tie-break, one number
        builder.add_unsigned_field("recency", stored=False, indexed=False, fast=True)
        cls._built_schema = builder.build()
        return cls._built_schema

    def _open(self, name: str, *, create: bool = False):
        import tantivy

        path = self.root / name
        if create:
            path.mkdir(parents=True, exist_ok=False)
        elif not (path / "meta.json").exists():
            raise FileNotFoundError(f"search index generation {name} is missing")
        index = tantivy.Index(self._schema(), path=str(path), reuse=not create)
        index.config_reader("Manual")
        return index

    def _current_name(self) -> str:
        try:
            return self.current_file.read_text().strip()
        except FileNotFoundError:
            pass
        import fcntl

        # first use on this machine: one process (and thread) creates the first generation
        with self._lock:
            self.root.mkdir(parents=True, exist_ok=True)
            with open(self.root / ".create.lock", "w") as lock_file:
                fcntl.flock(lock_file, fcntl.LOCK_EX)
                try:
                    return self.current_file.read_text().strip()
                except FileNotFoundError:
                    name = self._next_name()
                    self._open(name, create=True)
                    self._point_to(name)
                    return name

    def _next_name(self) -> str:
        numbers = [int(p.name.split("-")[1]) for p in self.root.glob("topics-*") if p.name.split("-")[1].isdigit()]
        return f"topics-{max(numbers, default=0) + 1:06d}"

    def _point_to(self, name: str) -> None:
        tmp = self.root / f".CURRENT.{os.getpid()}.{threading.get_ident()}"
        tmp.write_text(name)
        os.replace(tmp, self.current_file)  # atomic: readers see the old or the new name

    def _live(self):
        """The live index, reloaded if another process committed to it since we last looked."""
        name = self._current_name()
        meta = os.stat(self.root / name / "meta.json")
        stamp = (meta.st_ino, meta.st_mtime_ns)
        with self._lock:
            if name != self._index_name:
                self._index, self._index_name, self._stamp = self._open(name), name, stamp
            elif stamp != self._stamp:
                self._index.reload()
                self._stamp = stamp
            return self._index

    def _guard(self, work: Callable[[], Any]) -> Any:
        """Run ``work``; an index that can't be opened, read or written is ``Unavailable``."""
        try:
            return work()
        except (OSError, ValueError) as error:  # tantivy reports I/O and corruption as these
            log.warning("embedded search index unusable: %s", error)
            with self._lock:
                self._index = self._index_name = self._stamp = None
            raise Unavailable("search") from error

    # writes --------------------------------------------------------------------------------
    def _writer(self, index):
        """Tantivy allows one writer per index across processes: wait for a busy lock."""
        deadline = time.monotonic() + self.LOCK_WAIT_SECONDS
        while True:
            try:
                return index.writer(self.WRITER_HEAP, 1)
            except ValueError as error:
                if "lock" not in str(error).lower() or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def _commit(self, index, apply: Callable[[Any], None]) -> None:
        with self._write_lock:
            writer = self._writer(index)
            try:
                apply(writer)
                writer.commit()
            except BaseException:
                writer.rollback()
                raise
            finally:
                writer.wait_merging_threads()  # releases the lock file

    @staticmethod
    def _document(doc: TopicDoc, tokens: str):
        import tantivy

        document = tantivy.Document()
        document.add_unsigned("id", doc.id)
        document.add_bytes("subject", doc.subject.encode("utf-8"))
        document.add_text("tokens", tokens)
        document.add_unsigned("exam", int(doc.is_exam))
        millis = int(doc.update_time.timestamp() * 1000)
        document.add_unsigned("recency", (millis << 20) | (doc.id & 0xFFFFF))
        return document

    def _apply_upserts(self, writer, docs: Sequence[TopicDoc]) -> None:
        prepared = [self._document(doc, index_tokens(doc.subject)) for doc in docs]
        self._apply_deletes(writer, [doc.id for doc in docs])  # an upsert replaces
        for document in prepared:
            writer.add_document(document)

    def _apply_deletes(self, writer, ids: Sequence[int]) -> None:
        import tantivy

        if ids:
            # by query: delete_documents_by_term doesn't match unsigned fields (tantivy-py 0.27)
            writer.delete_documents_by_query(
                tantivy.Query.term_set_query(self._schema(), "id", [int(i) for i in ids]))

    def upsert(self, docs: Sequence[TopicDoc]) -> None:
        if docs:
            _segmenter()
            self._guard(lambda: self._commit(self._live(), lambda w: self._apply_upserts(w, docs)))

    def delete(self, ids: Sequence[int]) -> None:
        if ids:
            self._guard(lambda: self._commit(self._live(), lambda w: self._apply_deletes(w, ids)))

    def clear(self) -> None:
        self._guard(lambda: self._commit(self._live(), lambda w: w.delete_all_documents()))

    def ping(self) -> None:
        """The live generation is there and its metadata reads (without loading tantivy: the
        health check stays light)."""
        import json

        def check():
            meta = self.root / self._current_name() / "meta.json"
            json.loads(meta.read_text())

        self._guard(check)

    def refresh(self) -> None:
        """A commit is visible to the next search (every search checks for one)."""

    # search --------------------------------------------------------------------------------
    def search(self, text: str, *, include_exam: bool, offset: int, limit: int) -> SearchPage:
        text = text.strip()
        terms = query_terms(text) if text else []
        if text and not terms:  # only punctuation: nothing can match
            return SearchPage(0, [])
        return self._guard(lambda: self._search(terms, include_exam, offset, limit))

    def _search(self, terms: list[str], include_exam: bool, offset: int, limit: int) -> SearchPage:
        import tantivy

        index = self._live()
        schema = index.schema
        query = (tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, tantivy.Query.term_query(schema, "tokens", term)) for term in terms])
            if terms else tantivy.Query.all_query())
        if not include_exam:  # the students' rule, applied while matching and counting
            query = tantivy.Query.boolean_query([
                (tantivy.Occur.Must, query),
                (tantivy.Occur.MustNot, tantivy.Query.term_query(schema, "exam", 1)),
            ])
        searcher = index.searcher()
        if terms:  # BM25, best first
            result = searcher.search(query, limit, count=True, offset=offset)
        else:
            result = searcher.search(query, limit, count=True, order_by_field="recency", offset=offset)
        hits = []
        for _key, address in result.hits:
            document = searcher.doc(address)
            subject = document["subject"][0].decode("utf-8")
            hits.append(Hit(document["id"][0], highlight(subject, terms) if terms else escape_html(subject)))
        return SearchPage(result.count, hits)

    # rebuild -------------------------------------------------------------------------------
    def start_rebuild(self) -> _Generation:
        def work():
            self._current_name()  # the root and a live generation exist
            with self._lock:
                name = self._next_name()
                index = self._open(name, create=True)
            return _Generation(name, index, self._writer(index))

        return self._guard(work)

    def load(self, generation: _Generation, docs: Sequence[TopicDoc]) -> None:
        # the rebuild's own writer, committed once at the end: nobody else writes a new generation
        self._guard(lambda: self._apply_upserts(generation.writer, docs))

    def remove(self, generation: _Generation, ids: Sequence[int]) -> None:
        self._guard(lambda: self._apply_deletes(generation.writer, ids))

    def finish_rebuild(self, generation: _Generation) -> None:
        def work():
            generation.writer.commit()
            generation.writer.wait_merging_threads()
            with self._lock:
                self._point_to(generation.name)
            self._drop_old_generations(keep={generation.name})

        self._guard(work)

    def _drop_old_generations(self, keep: set[str]) -> None:
        """Generations before the previous one: a process still reading the previous one gets a
        moment to notice ``CURRENT`` changed."""
        import shutil

        names = sorted(p.name for p in self.root.glob("topics-*") if p.is_dir())
        live = max(keep)
        older = [n for n in names if n < live]
        for name in older[:-1]:
            shutil.rmtree(self.root / name, ignore_errors=True)

    def abort_rebuild(self, generation: _Generation) -> None:
        import shutil

        try:
            generation.writer.rollback()
            generation.writer.wait_merging_threads()
        except Exception:  # noqa: BLE001 - the directory goes anyway
            pass
        shutil.rmtree(self.root / generation.name, ignore_errors=True)


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

        self.alias = alias
        self.client = Elasticsearch(url, request_timeout=5, max_retries=1, retry_on_timeout=False)
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
        return f"{self.alias}-{datetime.now(timezone.utc):%Y%m%d%H%M%S%f}"

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
                self._call(self.client.indices.update_aliases,
                           actions=[{"add": {"index": first, "alias": self.alias}}])
            self._alias_ready = True

    def _alias_indices(self) -> list[str]:
        from elasticsearch import NotFoundError

        try:
            return list(self._call(self.client.indices.get_alias, name=self.alias).body)
        except NotFoundError:
            return []

    @staticmethod
    def _source(doc: TopicDoc) -> dict[str, Any]:
        return {"id": doc.id, "subject": doc.subject, "type": doc.type, "label": doc.label_id,
                "label_name": doc.label_name, "is_exam": doc.is_exam, "user": doc.user_id,
                "update_time": doc.update_time.astimezone(timezone.utc).isoformat()}

    def _bulk(self, actions: list[dict[str, Any]]) -> None:
        if not actions:
            return
        from elasticsearch import helpers

        _ok, errors = self._call(helpers.bulk, self.client, actions, chunk_size=1000, raise_on_error=False,
                                 max_retries=2)
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
        self._call(self.client.delete_by_query, index=self.alias, query={"match_all": {}}, refresh=True,
                   conflicts="proceed")

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
            must = {"bool": {"should": [
                {"match": {"subject": {"query": text}}},
                {"match_phrase": {"subject": {"query": text, "boost": 2}}},  # the words together first
            ], "minimum_should_match": 1}}
            sort: list[Any] = ["_score", {"update_time": "desc"}, {"id": "desc"}]
        else:
            must = {"match_all": {}}
            sort = [{"update_time": "desc"}, {"id": "desc"}]
        size = max(0, min(limit, MAX_RESULT_WINDOW - offset))
        request: dict[str, Any] = {
            "index": self.alias, "query": {"bool": {"must": [must], "filter": filters}}, "sort": sort,
            "from_": min(offset, MAX_RESULT_WINDOW), "size": size, "track_total_hits": True,
            "source_includes": ["subject"],
        }
        if text:
            request["highlight"] = {
                "encoder": "html", "pre_tags": [PRE_TAG], "post_tags": [POST_TAG],
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


# --- the per-process client -----------------------------------------------------------------

_lock = threading.Lock()
_backend: SearchBackend | None = None


def index_root(var_dir: Path) -> Path:
    return var_dir / "search"


def get_search() -> SearchBackend:
    global _backend
    if _backend is None:
        with _lock:
            if _backend is None:
                from .config import get_settings

                settings = get_settings()
                if settings.elasticsearch_url:
                    # the alias (and prefix of its indices); tests give each run its own
                    alias = os.environ.get("ELASTICSEARCH_INDEX") or "studyhub-topics"
                    _backend = ElasticsearchSearch(settings.elasticsearch_url, alias)
                else:
                    _backend = EmbeddedSearch(index_root(settings.var_dir))
    return _backend


def reset() -> None:
    global _backend
    with _lock:
        _backend = None


# --- keeping the index in step with the database ----------------------------------------------

def _indexable_select():
    from sqlalchemy import select

    from .models.work import Label, Topic

    return (
        select(Topic.id, Topic.subject, Topic.type, Topic.label_id, Label.name, Topic.user_id, Topic.update_time)
        .join(Label, Label.id == Topic.label_id)
        .where(Topic.is_delete.is_(False), Label.is_delete.is_(False))
    )


def _doc(row) -> TopicDoc:
    return TopicDoc(id=row[0], subject=row[1], type=row[2], label_id=row[3], label_name=row[4],
                    user_id=row[5], update_time=row[6])


def load_docs(session, topic_ids: Sequence[int]) -> tuple[list[TopicDoc], list[int]]:
    """``(docs to index, ids to remove)`` for these topics, as the database has them now."""
    from .models.work import Topic

    ids = sorted({int(i) for i in topic_ids})
    if not ids:
        return [], []
    docs = [_doc(r) for r in session.execute(_indexable_select().where(Topic.id.in_(ids)))]
    found = {d.id for d in docs}
    return docs, [i for i in ids if i not in found]


def sync_topics(topic_ids: Sequence[int], backend: SearchBackend | None = None) -> int:
    """Make the index agree with the database for these topics (the index job's body)."""
    from .db import session_scope

    backend = backend or get_search()
    with session_scope() as session:
        docs, gone = load_docs(session, topic_ids)
    backend.upsert(docs)
    backend.delete(gone)
    return len(docs) + len(gone)


def label_topic_ids(label_id: int) -> list[int]:
    from sqlalchemy import select

    from .db import session_scope
    from .models.work import Topic

    with session_scope() as session:
        return list(session.scalars(select(Topic.id).where(Topic.label_id == int(label_id)).order_by(Topic.id)))


def sync_label(label_id: int, *, batch_size: int = 500) -> int:
    """A label renamed or deleted: its topics' ``label_name``, exam rule or presence changed."""
    ids = label_topic_ids(label_id)
    for start in range(0, len(ids), batch_size):
        sync_topics(ids[start:start + batch_size])
    return len(ids)


def _changed_since(since: datetime) -> list[int]:
    """Topics written, or whose label was written, since ``since`` (deleted ones too)."""
    from sqlalchemy import or_, select

    from .db import session_scope
    from .models.work import Label, Topic

    with session_scope() as session:
        # a label created after ``since`` has only topics written after it: the first rule has them
        labels = select(Label.id).where(Label.update_time >= since, Label.create_time < since)
        return list(session.scalars(
            select(Topic.id).where(or_(Topic.update_time >= since, Topic.label_id.in_(labels)))
        ))


REBUILD_LOCK_KEY = "search:rebuild:lock"
# Writes committed (or clocks skewed) this long before the build started are caught up too.
CATCH_UP_MARGIN = timedelta(minutes=2)


class RebuildRunning(Exception):
    """Another rebuild holds the lock."""


def rebuild(*, batch_size: int = 1000, progress: Callable[[int], None] | None = None,
            total_hint: Callable[[int], None] | None = None) -> int:
    """Rebuild the index from the database into a new generation, then swap it in.

    Writes that happen meanwhile go to the live index through their jobs; before and after the
    swap every topic changed since the build started is copied again, so none is lost. Returns
    the number of topics indexed. One rebuild at a time (a lock in the cache).
    """
    from sqlalchemy import func, select

    from .cache import get_cache
    from .db import session_scope
    from .models.base import utcnow
    from .models.work import Topic

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
            _catch_up(since, lambda docs: backend.load(generation, docs),
                      lambda ids: backend.remove(generation, ids))
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


def _catch_up(since: datetime, upsert: Callable[[list[TopicDoc]], None],
              delete: Callable[[list[int]], None], *, batch_size: int = 500) -> None:
    from .db import session_scope

    ids = _changed_since(since)
    for start in range(0, len(ids), batch_size):
        with session_scope() as session:
            docs, gone = load_docs(session, ids[start:start + batch_size])
        upsert(docs)
        delete(gone)
