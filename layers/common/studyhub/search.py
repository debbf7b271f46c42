"""Topic search: one interface, two backends, chosen by ``ELASTICSEARCH_URL``.

    SearchBackend                    search / upsert / delete / rebuild (new generation, swap)
     ├── ElasticsearchSearch         the official client; IK analyzer when the cluster has it
     └── EmbeddedSearch              SQLite FTS5 under var/search/, words segmented by jieba

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
import sqlite3
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


_WORD_RE = re.compile(r"[^\W_]+")  # what SQLite's unicode61 tokenizer keeps as token characters
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


def index_tokens(text: str) -> str:
    """The words of ``text`` for the index: jieba's search mode (long words and their parts,
    like IK's ``ik_max_word``), separated by spaces for the FTS tokenizer."""
    return " ".join(_segmenter().cut_for_search(text))


def query_terms(text: str) -> list[str]:
    """The query's words, lower-cased, each a run of letters/digits or space-joined runs."""
    terms: list[str] = []
    for word in _segmenter().cut_for_search(text[:MAX_QUERY_CHARS]):
        parts = _WORD_RE.findall(word.lower())
        if parts:
            term = " ".join(parts)
            if term not in terms:
                terms.append(term)
    meaningful = [t for t in terms if t not in STOPWORDS]
    return (meaningful or terms)[:32]


# --- the embedded backend: SQLite FTS5 ------------------------------------------------------

_SQLITE_DOWN_HINTS = ("locked", "unable to open", "disk i/o", "not a database", "malformed",
                      "readonly", "no such table", "corrupt", "full")


class EmbeddedSearch:
    """A real inverted index in one SQLite file: FTS5 over jieba-segmented words, bm25 ranking.

    Each generation is a pair of tables: ``terms_N`` (FTS5) and ``docs_N`` (the subject to
    highlight, the filters, the order of an empty search); ``meta.generation`` names the live
    one. Readers read it inside a read transaction (a WAL snapshot), so a swap never shows them a
    half-built index. Several processes share the file (web threads read, the job worker writes).

    The FTS rowid is ``topic id * 2 + is_exam``: the students' rule and the ranking's tie-break
    (newest id first) are then answered from the FTS index alone, without looking up a row per
    match — a join there costs ten times the search itself.
    """

    name = "embedded"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()

    # connections ---------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            return conn
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
                row = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
                if row is None:
                    self._create_generation(conn, 1)
                    conn.execute("INSERT INTO meta (key, value) VALUES ('generation', 1)")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except BaseException:
            conn.close()
            raise
        self._local.conn = conn
        self._local.pid = os.getpid()
        return conn

    def _drop_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            try:
                conn.close()
            except sqlite3.Error:
                pass

    def _run(self, work: Callable[[sqlite3.Connection], Any], *, write: bool = False) -> Any:
        """``work(conn)`` in one transaction; a file that can't be used is ``Unavailable``."""
        try:
            conn = self._connect()
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                result = work(conn)
                conn.execute("COMMIT")
                return result
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.DatabaseError as error:
            message = str(error).lower()
            if isinstance(error, sqlite3.OperationalError) and not any(h in message for h in _SQLITE_DOWN_HINTS):
                raise
            log.warning("embedded search index unusable: %s", error)
            self._drop_connection()
            raise Unavailable("search") from error

    @staticmethod
    def _generation(conn: sqlite3.Connection) -> int:
        return conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0]

    @staticmethod
    def _create_generation(conn: sqlite3.Connection, gen: int) -> None:
        conn.execute(f"DROP TABLE IF EXISTS docs_{gen}")
        conn.execute(f"DROP TABLE IF EXISTS terms_{gen}")
        conn.execute(
            f"CREATE TABLE docs_{gen} (id INTEGER PRIMARY KEY, subject TEXT NOT NULL, "
            "is_exam INTEGER NOT NULL, update_ts REAL NOT NULL, type INTEGER, label_id INTEGER, "
            "label_name TEXT, user_id INTEGER)"
        )
        # an empty search: newest first, for everyone and for students (exam topics left out)
        conn.execute(f"CREATE INDEX docs_{gen}_recent ON docs_{gen} (update_ts DESC, id DESC)")
        conn.execute(f"CREATE INDEX docs_{gen}_open_recent ON docs_{gen} (is_exam, update_ts DESC, id DESC)")
        conn.execute(
            f"CREATE VIRTUAL TABLE terms_{gen} USING fts5(tokens, tokenize = 'unicode61 remove_diacritics 2')"
        )

    # writes --------------------------------------------------------------------------------
    @staticmethod
    def _prepare(docs: Sequence[TopicDoc]) -> list[tuple[TopicDoc, str]]:
        # segmenting is the slow part: done before the write lock is taken
        return [(d, index_tokens(d.subject)) for d in docs]

    @staticmethod
    def _write(conn: sqlite3.Connection, gen: int, prepared: list[tuple[TopicDoc, str]]) -> None:
        if not prepared:
            return
        conn.executemany(f"DELETE FROM terms_{gen} WHERE rowid IN (?, ?)",
                         [(d.id * 2, d.id * 2 + 1) for d, _ in prepared])
        conn.executemany(
            f"INSERT OR REPLACE INTO docs_{gen} (id, subject, is_exam, update_ts, type, label_id, label_name, "
            "user_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(d.id, d.subject, int(d.is_exam), d.update_time.timestamp(), d.type, d.label_id, d.label_name,
              d.user_id) for d, _ in prepared],
        )
        conn.executemany(f"INSERT INTO terms_{gen} (rowid, tokens) VALUES (?, ?)",
                         [(d.id * 2 + int(d.is_exam), tokens) for d, tokens in prepared])

    @staticmethod
    def _erase(conn: sqlite3.Connection, gen: int, ids: Sequence[int]) -> None:
        ids = [int(i) for i in ids]
        conn.executemany(f"DELETE FROM terms_{gen} WHERE rowid IN (?, ?)", [(i * 2, i * 2 + 1) for i in ids])
        conn.executemany(f"DELETE FROM docs_{gen} WHERE id = ?", [(i,) for i in ids])

    def upsert(self, docs: Sequence[TopicDoc]) -> None:
        if docs:
            prepared = self._prepare(docs)
            self._run(lambda conn: self._write(conn, self._generation(conn), prepared), write=True)

    def delete(self, ids: Sequence[int]) -> None:
        if ids:
            self._run(lambda conn: self._erase(conn, self._generation(conn), ids), write=True)

    def clear(self) -> None:
        def work(conn):
            gen = self._generation(conn)
            conn.execute(f"DELETE FROM terms_{gen}")
            conn.execute(f"DELETE FROM docs_{gen}")

        self._run(work, write=True)

    def ping(self) -> None:
        self._run(self._generation)

    def refresh(self) -> None:
        """Writes are visible at commit: nothing to do."""

    # search --------------------------------------------------------------------------------
    def search(self, text: str, *, include_exam: bool, offset: int, limit: int) -> SearchPage:
        text = text.strip()
        terms = query_terms(text) if text else []
        if text and not terms:  # only punctuation: nothing can match
            return SearchPage(0, [])
        words = [w for term in terms for w in term.split()]

        def work(conn: sqlite3.Connection) -> SearchPage:
            gen = self._generation(conn)
            if not terms:
                where = "" if include_exam else "WHERE is_exam = 0"
                total = conn.execute(f"SELECT count(*) FROM docs_{gen} {where}").fetchone()[0]
                rows = conn.execute(
                    f"SELECT id, subject FROM docs_{gen} {where} ORDER BY update_ts DESC, id DESC "
                    "LIMIT ? OFFSET ?", (limit, offset),
                ).fetchall()
                return SearchPage(total, [Hit(i, escape_html(s)) for i, s in rows])
            # every term is a quoted phrase of letter/digit runs: nothing in it can be FTS syntax
            match = " OR ".join(f'"{term}"' for term in terms)
            students = "" if include_exam else "AND (rowid & 1) = 0"
            total = conn.execute(
                f"SELECT count(*) FROM terms_{gen} WHERE terms_{gen} MATCH ? {students}", (match,)
            ).fetchone()[0]
            if total == 0 or offset >= total:
                return SearchPage(total, [])
            ids = [rowid >> 1 for (rowid,) in conn.execute(
                f"SELECT rowid FROM terms_{gen} WHERE terms_{gen} MATCH ? {students} "
                f"ORDER BY bm25(terms_{gen}), rowid DESC LIMIT ? OFFSET ?", (match, limit, offset),
            )]
            marks = ",".join("?" * len(ids))
            subjects = dict(conn.execute(f"SELECT id, subject FROM docs_{gen} WHERE id IN ({marks})", ids))
            return SearchPage(total, [Hit(i, highlight(subjects[i], words)) for i in ids if i in subjects])

        return self._run(work)

    # rebuild -------------------------------------------------------------------------------
    def start_rebuild(self) -> int:
        def work(conn):
            new = self._generation(conn) + 1
            self._create_generation(conn, new)
            return new

        return self._run(work, write=True)

    def load(self, generation: int, docs: Sequence[TopicDoc]) -> None:
        if docs:
            prepared = self._prepare(docs)
            self._run(lambda conn: self._write(conn, generation, prepared), write=True)

    def remove(self, generation: int, ids: Sequence[int]) -> None:
        if ids:
            self._run(lambda conn: self._erase(conn, generation, ids), write=True)

    def finish_rebuild(self, generation: int) -> None:
        def work(conn):
            old = self._generation(conn)
            conn.execute(f"INSERT INTO terms_{generation} (terms_{generation}) VALUES ('optimize')")
            conn.execute("UPDATE meta SET value = ? WHERE key = 'generation'", (generation,))
            for gen in range(old, generation):  # older ones too, should an aborted build remain
                conn.execute(f"DROP TABLE IF EXISTS terms_{gen}")
                conn.execute(f"DROP TABLE IF EXISTS docs_{gen}")

        self._run(work, write=True)

    def abort_rebuild(self, generation: int) -> None:
        def work(conn):
            if self._generation(conn) != generation:
                conn.execute(f"DROP TABLE IF EXISTS terms_{generation}")
                conn.execute(f"DROP TABLE IF EXISTS docs_{generation}")

        self._run(work, write=True)


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


def index_path(var_dir: Path) -> Path:
    return var_dir / "search" / "topics.sqlite3"


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
                    _backend = EmbeddedSearch(index_path(settings.var_dir))
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
