"""Sessions (API.md §2 "Password reset and sessions"): logout revokes the token it is sent with,
refresh gives the caller a fresh one.

Revocation has two halves, both read on every authenticated request by ``http/auth.py``: the
token's id in the cache's denylist until it expires (a logout, here), and the user's
``tokens_valid_after`` (a password change or reset, ``accounts.set_password``).
"""

from __future__ import annotations

from typing import Any

from studyhub.clients import token_denylist
from studyhub.core import errors
from studyhub.core.security import decode_token, issue_token
from studyhub.domain.access import Caller


def logout(caller: Caller, token: str | None) -> None:
    """``token``: the one ``caller`` was authenticated with on this request (so it is sound)."""
    claims = decode_token(token or "")
    if claims["sub"] != str(caller.id):
        raise errors.Unauthorized("令牌无效", code="token_invalid")
    token_denylist.revoke(str(claims["jti"]), float(claims["exp"]))


def refresh(caller: Caller) -> dict[str, Any]:
    """A new token with a new lifetime; the one sent stays valid until it expires or is logged out
    (a request still in flight with it must not fail)."""
    return {"token": issue_token(caller)}
