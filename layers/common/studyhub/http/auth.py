"""The caller of a request: the bearer token from its header, and the active user it names, unless
the token was revoked (a logout, or a password change after it was issued).

The user is read with one Core statement (its columns the rules read and its group ids) into a
frozen ``SignedIn``, not loaded as an ORM row with its groups: that lookup runs on every
authenticated request and was a fifth of a list request's CPU (issue 15)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from studyhub.clients import token_denylist
from studyhub.core.errors import Unauthorized
from studyhub.core.security import decode_token

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


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
def _caller_statement() -> Any:
    """The user's columns and group ids, one row per group (one row with NULL without any); built
    once, so each request pays only for running it."""
    from sqlalchemy import bindparam, select

    from studyhub.models.users import User, user_groups

    users = User.__table__
    return (
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


def load_caller(session: Session, user_id: int) -> SignedIn | None:
    """The user ``user_id`` as a ``SignedIn``, active or not; ``None`` when there is no such user."""
    from studyhub.models.users import STUDENT_GROUP_ID, TEACHER_GROUP_ID

    rows = session.connection().execute(_caller_statement(), {"user_id": user_id}).all()
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


def user_from_token(session: Session, token: str) -> SignedIn:
    claims = decode_token(token)
    jti = claims.get("jti")
    try:
        user_id = int(claims["sub"])
    except (TypeError, ValueError):
        raise Unauthorized("令牌无效", code="token_invalid") from None
    if not isinstance(jti, str) or not jti:  # a token without an id could never be logged out
        raise Unauthorized("令牌无效", code="token_invalid")
    user = load_caller(session, user_id)
    if user is None or not user.is_active:
        raise Unauthorized("用户不存在或已停用", code="user_inactive")
    # Revoked: issued before the last password change (the row just read: no extra query), or
    # logged out (one cache GET; a cache outage is a 503, never a pass).
    if issued_before(claims, user.tokens_valid_after) or token_denylist.is_revoked(jti):
        raise Unauthorized("令牌已失效，请重新登录", code="token_revoked")
    return user


def issued_before(claims: dict, valid_after: datetime | None) -> bool:
    if valid_after is None:
        return False
    try:
        issued_at = float(claims["iat"])
    except (TypeError, ValueError):
        raise Unauthorized("令牌无效", code="token_invalid") from None
    return issued_at < valid_after.timestamp()
