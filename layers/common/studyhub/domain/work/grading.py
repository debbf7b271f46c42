"""Auto-grading (API.md §9): pure functions, one per topic type, no database.

Answers and keys are compared after Unicode NFKC, trimming and case folding. Every score is a
decimal with one place, rounded half up (half of 1.5 is 0.8).
"""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

SINGLE, MULTIPLE, TRUE_FALSE, FILL, QUESTION = 0, 1, 2, 3, 4
ONE_PLACE = Decimal("0.1")
ZERO = Decimal("0.0")

TRUE_WORDS = frozenset({"对", "正确", "是", "t", "true", "√", "1"})
FALSE_WORDS = frozenset({"错", "错误", "否", "f", "false", "×", "0"})
_LETTER = re.compile(r"[a-z]")


class Grade(NamedTuple):
    score: Decimal
    correct: bool | None  # None: waits for the teacher's mark
    needs_mark: bool


def round_score(value: Decimal) -> Decimal:
    return value.quantize(ONE_PLACE, rounding=ROUND_HALF_UP)


def normalize(text: str | None) -> str:
    if text is None:
        return ""
    return unicodedata.normalize("NFKC", text).strip().casefold()


def is_answered(answer: str | None) -> bool:
    return normalize(answer) != ""


def _letters(text: str) -> frozenset[str]:
    return frozenset(_LETTER.findall(normalize(text)))


def _truth(text: str) -> bool | None:
    word = normalize(text)
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def _right(full: Decimal) -> Grade:
    return Grade(round_score(full), True, False)


def _wrong() -> Grade:
    return Grade(ZERO, False, False)


def grade_single(key: str, answer: str, full: Decimal) -> Grade:
    return _right(full) if normalize(answer) == normalize(key) else _wrong()


def grade_multiple(key: str, answer: str, full: Decimal) -> Grade:
    """Equal sets: full; a non-empty subset without a wrong letter: half (少选得一半); else 0."""
    wanted, given = _letters(key), _letters(answer)
    if given and given == wanted:
        return _right(full)
    if given and given < wanted:
        return Grade(round_score(full / 2), False, False)
    return _wrong()


def grade_true_false(key: str, answer: str, full: Decimal) -> Grade:
    expected = _truth(key)
    if expected is None:  # a key outside both word lists: compared as text
        return grade_single(key, answer, full)
    return _right(full) if _truth(answer) is expected else _wrong()


def grade_fill(key: str, answer: str, full: Decimal) -> Grade:
    """Blanks separated by ``|``, alternatives within a blank by ``/``; proportional."""
    blanks = [{normalize(alt) for alt in blank.split("/")} for blank in normalize(key).split("|")]
    given = [normalize(part) for part in normalize(answer).split("|")]
    right = sum(1 for i, alternatives in enumerate(blanks) if i < len(given) and given[i] in alternatives)
    if right == len(blanks):
        return _right(full)
    return Grade(round_score(full * right / len(blanks)), False, False)


GRADERS = {SINGLE: grade_single, MULTIPLE: grade_multiple, TRUE_FALSE: grade_true_false, FILL: grade_fill}


def grade(topic_type: int, key: str | None, answer: str | None, full: Decimal) -> Grade:
    """One item. Unanswered: 0, needs no mark. A question-and-answer item, or an auto-gradable
    one whose topic has no key, waits for the teacher (score 0 until marked)."""
    if not is_answered(answer):
        return _wrong()
    assert answer is not None
    grader = GRADERS.get(topic_type)
    if grader is None or not is_answered(key):
        return Grade(ZERO, None, True)
    assert key is not None
    return grader(key, answer, full)
