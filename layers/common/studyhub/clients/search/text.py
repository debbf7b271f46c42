"""Escaping, highlighting and Chinese word segmentation, the same for both backends."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from types import ModuleType

from studyhub.clients.search.base import MAX_QUERY_CHARS, POST_TAG, PRE_TAG

log = logging.getLogger("studyhub.search")


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

_jieba: ModuleType | None = None
_jieba_lock = threading.Lock()


def segmenter() -> ModuleType:
    """The ``jieba`` module, initialised once per process (its dictionary takes a moment)."""
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
    return [part for word in segmenter().cut_for_search(text) for part in _WORD_RE.findall(word.lower())]


def index_tokens(text: str) -> str:
    """The words of ``text`` for the index, separated by spaces."""
    return " ".join(_words(text))


def query_terms(text: str) -> list[str]:
    """The query's distinct words; function words go unless nothing else is left."""
    terms = list(dict.fromkeys(_words(text[:MAX_QUERY_CHARS])))
    meaningful = [t for t in terms if t not in STOPWORDS]
    return (meaningful or terms)[:32]


def like_terms(text: str, limit: int = 32) -> list[str]:
    """The most frequent meaningful words of a longer text (a more-like-this query)."""
    from collections import Counter

    counts = Counter(w for w in _words(text) if w not in STOPWORDS)
    return [word for word, _ in counts.most_common(limit)]
