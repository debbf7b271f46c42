"""The embedded backend: tantivy under ``var/search/``, words segmented by jieba."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from studyhub.clients.search.base import MAX_RESULT_WINDOW, Hit, SearchPage, TopicDoc
from studyhub.clients.search.text import escape_html, highlight, index_tokens, like_terms, query_terms, segmenter
from studyhub.core.errors import Unavailable

if TYPE_CHECKING:
    import tantivy

log = logging.getLogger("studyhub.search")
T = TypeVar("T")


# --- the embedded backend: tantivy ----------------------------------------------------------


class _Generation:
    """One index directory being built by a rebuild, with its open writer."""

    def __init__(self, name: str, index: tantivy.Index, writer: tantivy.IndexWriter) -> None:
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
        self._index: tantivy.Index | None = None
        self._index_name: str | None = None
        self._stamp: tuple[int, int] | None = None

    # files and schema ----------------------------------------------------------------------
    @property
    def current_file(self) -> Path:
        return self.root / "CURRENT"

    _built_schema: ClassVar[tantivy.Schema | None] = None

    @classmethod
    def _schema(cls) -> tantivy.Schema:
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

    def _open(self, name: str, *, create: bool = False) -> tantivy.Index:
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

    def _live(self) -> tantivy.Index:
        """The live index, reloaded if another process committed to it since we last looked."""
        name = self._current_name()
        meta = os.stat(self.root / name / "meta.json")
        stamp = (meta.st_ino, meta.st_mtime_ns)
        with self._lock:
            if self._index is None or name != self._index_name:
                self._index, self._index_name, self._stamp = self._open(name), name, stamp
            elif stamp != self._stamp:
                self._index.reload()
                self._stamp = stamp
            return self._index

    def _guard(self, work: Callable[[], T]) -> T:
        """Run ``work``; an index that can't be opened, read or written is ``Unavailable``."""
        try:
            return work()
        except (OSError, ValueError) as error:  # tantivy reports I/O and corruption as these
            log.warning("embedded search index unusable: %s", error)
            with self._lock:
                self._index = self._index_name = self._stamp = None
            raise Unavailable("search") from error

    # writes --------------------------------------------------------------------------------
    def _writer(self, index: tantivy.Index) -> tantivy.IndexWriter:
        """Tantivy allows one writer per index across processes: wait for a busy lock."""
        deadline = time.monotonic() + self.LOCK_WAIT_SECONDS
        while True:
            try:
                return index.writer(self.WRITER_HEAP, 1)
            except ValueError as error:
                if "lock" not in str(error).lower() or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def _commit(self, index: tantivy.Index, apply: Callable[[tantivy.IndexWriter], Any]) -> None:
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
    def _document(doc: TopicDoc, tokens: str) -> tantivy.Document:
        import tantivy

        document = tantivy.Document()
        document.add_unsigned("id", doc.id)
        document.add_bytes("subject", doc.subject.encode("utf-8"))
        document.add_text("tokens", tokens)
        document.add_unsigned("exam", int(doc.is_exam))
        millis = int(doc.update_time.timestamp() * 1000)
        document.add_unsigned("recency", (millis << 20) | (doc.id & 0xFFFFF))
        return document

    def _apply_upserts(self, writer: tantivy.IndexWriter, docs: Sequence[TopicDoc]) -> None:
        prepared = [self._document(doc, index_tokens(doc.subject)) for doc in docs]
        self._apply_deletes(writer, [doc.id for doc in docs])  # an upsert replaces
        for document in prepared:
            writer.add_document(document)

    def _apply_deletes(self, writer: tantivy.IndexWriter, ids: Sequence[int]) -> None:
        import tantivy

        if ids:
            # by query: delete_documents_by_term doesn't match unsigned fields (tantivy-py 0.27)
            writer.delete_documents_by_query(tantivy.Query.term_set_query(self._schema(), "id", [int(i) for i in ids]))

    def upsert(self, docs: Sequence[TopicDoc]) -> None:
        if docs:
            segmenter()
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

        def check() -> None:
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
        query = (
            tantivy.Query.boolean_query(
                [(tantivy.Occur.Should, tantivy.Query.term_query(schema, "tokens", term)) for term in terms]
            )
            if terms
            else tantivy.Query.all_query()
        )
        if not include_exam:  # the students' rule, applied while matching and counting
            query = tantivy.Query.boolean_query(
                [
                    (tantivy.Occur.Must, query),
                    (tantivy.Occur.MustNot, tantivy.Query.term_query(schema, "exam", 1)),
                ]
            )
        searcher = index.searcher()
        # tantivy allocates for offset + limit up front (2^31 aborts the process, 2^63 panics):
        # the window is bounded where the request is parsed; past it, count only.
        offset = min(max(offset, 0), MAX_RESULT_WINDOW)
        limit = max(0, min(limit, MAX_RESULT_WINDOW - offset))
        if limit == 0:
            return SearchPage(searcher.search(query, 1, count=True).count, [])  # type: ignore[attr-defined]
        if terms:  # BM25, best first
            result = searcher.search(query, limit, count=True, offset=offset)
        else:
            result = searcher.search(query, limit, count=True, order_by_field="recency", offset=offset)
        hits = []
        for _key, address in result.hits:
            document = searcher.doc(address)
            subject = document["subject"][0].decode("utf-8")
            hits.append(Hit(document["id"][0], highlight(subject, terms) if terms else escape_html(subject)))
        # tantivy-py's stub omits ``count`` (set by ``count=True``); the runtime class has it
        return SearchPage(result.count, hits)  # type: ignore[attr-defined]

    def more_like_this(self, text: str, *, exclude_ids: Sequence[int], limit: int) -> list[int]:
        """An OR of the text's words (BM25 ranks the topics sharing most of them first), minus the
        excluded ids and every exam topic."""
        terms = like_terms(text)
        if not terms or limit <= 0:
            return []
        return self._guard(lambda: self._more_like_this(terms, exclude_ids, min(limit, MAX_RESULT_WINDOW)))

    def _more_like_this(self, terms: list[str], exclude_ids: Sequence[int], limit: int) -> list[int]:
        import tantivy

        index = self._live()
        schema = index.schema
        should = [(tantivy.Occur.Should, tantivy.Query.term_query(schema, "tokens", term)) for term in terms]
        clauses = [
            (tantivy.Occur.Must, tantivy.Query.boolean_query(should)),
            (tantivy.Occur.MustNot, tantivy.Query.term_query(schema, "exam", 1)),
        ]
        if exclude_ids:
            ids = [int(i) for i in exclude_ids]
            clauses.append((tantivy.Occur.MustNot, tantivy.Query.term_set_query(schema, "id", ids)))
        searcher = index.searcher()
        result = searcher.search(tantivy.Query.boolean_query(clauses), limit)
        return [searcher.doc(address)["id"][0] for _score, address in result.hits]

    # rebuild -------------------------------------------------------------------------------
    def start_rebuild(self) -> _Generation:
        def work() -> _Generation:
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
        def work() -> None:
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
