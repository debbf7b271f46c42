"""The caller of a request: the bearer token from its header, and the active user it names, unless
the token was revoked (a logout, or a password change after it was issued)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from studyhub.clients import token_denylist
from studyhub.core.errors import Unauthorized
from studyhub.core.security import decode_token

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from studyhub.models.users import User


def token_from_header(header: str | None) -> str | None:
    """``Bearer <token>``, or ``JWT <token>`` as the old frontend sends."""
    if not header:
        return None
    parts = header.split()
    if len(parts) != 2 or parts[0].lower() not in ("bearer", "jwt"):
        raise Unauthorized("认证头格式错误", code="token_invalid")
    return parts[1]


def user_from_token(session: Session, token: str) -> User:
    from studyhub.models.users import User

    claims = decode_token(token)
    jti = claims.get("jti")
    try:
        user_id = int(claims["sub"])
    except (TypeError, ValueError):
        raise Unauthorized("令牌无效", code="token_invalid") from None
    if not isinstance(jti, str) or not jti:  # a token without an id could never be logged out
        raise Unauthorized("令牌无效", code="token_invalid")
    user = session.get(User, user_id)
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
