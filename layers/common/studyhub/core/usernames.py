"""The one canonical form of a username (API.md §2 "Usernames") and the form a new name must have.

Two spellings are the same account when their canonical forms are equal: Unicode NFKC (full-width
``Ａ`` is ``A``, ligatures split) then case-folded (``ALICE`` is ``alice``, ``ß`` is ``ss``).
Accents are kept (``víctor`` is not ``victor``). Pure text rules here, so every layer can use
them: the model's column, the uniqueness check, login, lockout and rate limits.
"""

from __future__ import annotations

import unicodedata

MAX_USERNAME_LENGTH = 150
# Cc: C0/C1 controls (NUL, newline, ...); Cf: invisible format characters (zero-width space,
# bidi overrides) that make look-alike names; Cs: lone surrogates (not storable text).
_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})


def canonical_username(name: str) -> str:
    """NFKC, then case-folded. Callers trim a name typed at login first; a stored name has no
    outer whitespace, so its canonical form never ends in one either."""
    return unicodedata.normalize("NFKC", name).casefold()


def username_problem(name: str) -> str | None:
    """Why ``name`` can't be a new username (a message for the user), or None when it can."""
    if not name:
        return "用户名不能为空。"
    if len(name) > MAX_USERNAME_LENGTH or len(canonical_username(name)) > MAX_USERNAME_LENGTH:
        # The canonical form can be longer (one ligature expands to up to 18 letters); it is stored too.
        return f"用户名不能超过 {MAX_USERNAME_LENGTH} 个字符。"
    if name != name.strip():
        return "用户名首尾不能有空格。"
    if any(unicodedata.category(char) in _CONTROL_CATEGORIES for char in name):
        return "用户名不能包含控制字符。"
    return None
