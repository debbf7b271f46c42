"""The version of each user that a process may serve from its caller cache (``http/auth.py``).

Every authenticated request needs its caller (active? teacher? superuser? tokens valid after?).
Reading it costs a SELECT per request; a process keeps the callers it has read, each under the
**version** of that user it read them at: a random token in the shared cache (Redis, or the
embedded cache every local process shares), fetched in the same round trip as the token's
denylist entry. Any change to what a caller is made of — the user's name, ``is_active``,
``is_superuser``, groups, ``tokens_valid_after``, a new or deleted user — deletes the user's version
key, inside the transaction (a cache that can't be reached fails the write: 503, nothing changed)
and again after the commit (``watch``: every flush of the process is looked at). The next request of that user finds no version, sets a new one
(``SET NX``) *before* reading the row, and so never serves what any process read before the change:
a deactivated user's token is refused at once, by every process (API.md §2).

The delete after the commit closes the one race: a request that read the row between the first
delete and the commit, under a version of its own. Should that second delete fail (the cache
lost exactly then), such an entry lives at most ``LOCAL_SECONDS`` (``http/auth.py``).
"""

from __future__ import annotations

import secrets
import sys
from typing import TYPE_CHECKING, Any

from studyhub.clients.cache import get_cache

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

KEY = "auth:caller:{user_id}"
# A version unused this long expires: the next request sets a new one (a reload, nothing else).
TTL_SECONDS = 24 * 3600
# What a caller is made of (``http/auth.SignedIn``): a change to any of these is a new version.
CALLER_ATTRIBUTES = ("username", "is_active", "is_superuser", "tokens_valid_after", "groups")


def key(user_id: int) -> str:
    return KEY.format(user_id=user_id)


def claim(user_id: int) -> str | None:
    """The user has no version: set a new one, unless another request just did (then that one).
    ``None`` only if it vanished in between: then nothing may be kept under it."""
    version = secrets.token_hex(8)
    cache = get_cache()
    if cache.add(key(user_id), version, TTL_SECONDS):
        return version
    current = cache.get(key(user_id))
    return current if isinstance(current, str) else None


def forget(user_ids: set[int]) -> None:
    """Every process reads these users again (one round trip for all)."""
    if user_ids:
        get_cache().delete_many([key(user_id) for user_id in sorted(user_ids)])


def _is_user(obj: Any) -> bool:
    # by table name: the clients layer doesn't import the models
    return getattr(getattr(type(obj), "__table__", None), "name", None) == "users"


def _changed_users(session: Session) -> set[int]:
    from sqlalchemy import inspect

    changed: set[int] = set()
    for obj in (*session.new, *session.deleted):
        if _is_user(obj) and obj.id is not None:
            changed.add(obj.id)
    for obj in session.dirty:
        if _is_user(obj) and obj.id is not None:
            state: Any = inspect(obj)
            if any(state.attrs[name].history.has_changes() for name in CALLER_ATTRIBUTES):
                changed.add(obj.id)
    return changed


def _after_flush(session: Session, _context: Any) -> None:
    # (the session's new/dirty/deleted still show what this flush wrote, ids assigned)
    changed = _changed_users(session)
    if not changed:
        return
    from studyhub.core.db import on_commit

    forget(changed)
    on_commit(session, lambda: forget(changed))


_watching = False


def watch() -> None:
    """Forget changed users on every flush of every session of this process (idempotent). Called
    by ``domain/users/accounts.py`` (every module that writes users imports it) and by the first
    caller lookup (``http/auth.py``): wherever users are written or served from the cache. A
    process that hasn't imported the ORM has no session to watch yet: the listener is registered
    when the first one is made (``core.db.when_sessions``), so a Core-only request doesn't import it."""
    global _watching
    if _watching:
        return
    if "sqlalchemy.orm" not in sys.modules:
        from studyhub.core.db import when_sessions

        when_sessions(watch)
        return
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    event.listen(Session, "after_flush", _after_flush)
    _watching = True
