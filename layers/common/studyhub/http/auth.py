"""The caller of a request: the bearer token from its header, and the active user it names, unless
the token was revoked (a logout, or a password change after it was issued).

The user is read with one statement (its columns the rules read and its group ids) into a frozen
``SignedIn``, not loaded as an ORM row with its groups, and kept by the process under the user's
version (``clients/caller_versions.py``): a request of a user already seen costs one cache
round trip (its token's denylist entry and that version together) and no SQL, and any change to
the user is seen by every process at once (issue 15: the lookup was a fifth of a list's CPU)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from studyhub.clients import caller_versions, token_denylist
from studyhub.clients.cache import get_cache
from studyhub.core.errors import Unauthorized
from studyhub.core.security import decode_token

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.engine import Connection

    from studyhub.core.prepared import Prepared


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The authenticated user as rules read it (``domain/access.py``'s ``Caller``), read-only."""

    id: int
    username: str
    is_superuser: bool
    is_active: bool
    is_teacher: bool
    is_student: bool
    tokens_valid_after: datetime | None

    @property
    def is_teacher_or_superuser(self) -> bool:
        return self.is_superuser or self.is_teacher


def token_from_header(header: str | None) -> str | None:
    """``Bearer <token>``, or ``JWT <token>`` as the old frontend sends."""
    if not header:
        return None
    parts = header.split()
    if len(parts) != 2 or parts[0].lower() not in ("bearer", "jwt"):
        raise Unauthorized("认证头格式错误", code="token_invalid")
    return parts[1]


@cache
def _caller_statement() -> Prepared:
    """The user's columns and group ids, one row per group (one row with NULL without any); built
    and compiled once (``core.prepared``), so each request pays only for running it."""
    from sqlalchemy import bindparam, select

    from studyhub.core.prepared import Prepared
    from studyhub.tables.users import user_groups, users

    return Prepared(
        select(
            users.c.id,
            users.c.username,
            users.c.is_superuser,
            users.c.is_active,
            users.c.tokens_valid_after,
            user_groups.c.group_id,
        )
        .select_from(users.outerjoin(user_groups, user_groups.c.user_id == users.c.id))
        .where(users.c.id == bindparam("user_id"))
    )


def load_caller(conn: Connection, user_id: int) -> SignedIn | None:
    """The user ``user_id`` as a ``SignedIn``, active or not; ``None`` when there is no such user.
    Core on ``conn`` (a session's ``connection()`` too): the ORM isn't imported for it."""
    from studyhub.tables.users import STUDENT_GROUP_ID, TEACHER_GROUP_ID

    rows = _caller_statement().all(conn, {"user_id": user_id})
    if not rows:
        return None
    first = rows[0]
    groups = {row.group_id for row in rows}
    return SignedIn(
        id=first.id,
        username=first.username,
        is_superuser=bool(first.is_superuser),
        is_active=bool(first.is_active),
        is_teacher=TEACHER_GROUP_ID in groups,
        is_student=STUDENT_GROUP_ID in groups,
        tokens_valid_after=first.tokens_valid_after,
    )


def user_from_token(connect: Callable[[], Connection], token: str) -> SignedIn:
    """The active user ``token`` names; 401 otherwise. ``connect()`` gives the connection of the
    request's transaction, asked for only when the user has to be read."""
    claims = decode_token(token)
    jti = claims.get("jti")
    try:
        user_id = int(claims["sub"])
    except (TypeError, ValueError):
        raise Unauthorized("令牌无效", code="token_invalid") from None
    if not isinstance(jti, str) or not jti:  # a token without an id could never be logged out
        raise Unauthorized("令牌无效", code="token_invalid")
    # One cache round trip: the token's denylist entry (a logout) and the user's current version
    # (a cache outage is a 503, never a pass).
    revoked, version = get_cache().get_many([token_denylist.key(jti), caller_versions.key(user_id)])
    user = _callers.get(user_id, version, claims.get("username"))
    if user is None:
        caller_versions.watch()  # this process's own writes to users forget them too
        if not isinstance(version, str):
            version = caller_versions.claim(user_id)  # before the row is read: see caller_versions
        user = load_caller(connect(), user_id)
        if user is not None and version is not None:
            _callers.put(user_id, version, user)
    if user is None or not user.is_active:
        raise Unauthorized("用户不存在或已停用", code="user_inactive")
    # Revoked: issued before the last password change (the row read: no extra query), or logged out.
    if issued_before(claims, user.tokens_valid_after) or revoked is not None:
        raise Unauthorized("令牌已失效，请重新登录", code="token_revoked")
    return user


class _CallerCache:
    """This process's callers, each under the user's version it was read at (``caller_versions``):
    served only while that version is still the user's, and for ``LOCAL_SECONDS`` at most."""

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._entries: dict[int, tuple[str, float, SignedIn]] = {}

    def get(self, user_id: int, version: Any, username: Any) -> SignedIn | None:
        entry = self._entries.get(user_id)
        if entry is None or entry[0] != version or entry[1] < time.monotonic():
            return None
        user = entry[2]
        # the name in the token is the user's: anything else is read again (a renamed user)
        return user if user.username == username else None

    def put(self, user_id: int, version: str, user: SignedIn) -> None:
        if len(self._entries) >= self._size:
            try:  # the oldest entry makes room (dicts keep insertion order)
                del self._entries[next(iter(self._entries))]
            except (KeyError, StopIteration, RuntimeError):
                pass
        self._entries[user_id] = (version, time.monotonic() + LOCAL_SECONDS, user)


# The longest a process keeps a caller without reading the user again, should the cache have lost
# the delete that follows a change's commit (``caller_versions``); otherwise until a change.
LOCAL_SECONDS = 60.0
_callers = _CallerCache()


def issued_before(claims: dict, valid_after: datetime | None) -> bool:
    if valid_after is None:
        return False
    try:
        issued_at = float(claims["iat"])
    except (TypeError, ValueError):
        raise Unauthorized("令牌无效", code="token_invalid") from None
    return issued_at < valid_after.timestamp()
