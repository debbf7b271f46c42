"""The caller of a request: the bearer token from its header, and the active user it names."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
    try:
        user_id = int(claims["sub"])
    except (TypeError, ValueError):
        raise Unauthorized("令牌无效", code="token_invalid") from None
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise Unauthorized("用户不存在或已停用", code="user_inactive")
    return user
