"""Revoked tokens (a logout): each token's id (``jti``) in the cache until the token would have
expired anyway, so the list never outgrows the tokens still alive.

The cache is shared by every process and function (Redis, or the embedded cache on disk), so a
logout holds everywhere at once, on Lambda too. A cache that can't be reached raises
``Unavailable("cache")``: the check fails closed (503), a logged-out token never passes because
the denylist was down.
"""

from __future__ import annotations

import math
import time

from studyhub.clients.cache import get_cache

KEY = "auth:revoked:{jti}"


def revoke(jti: str, expires_at: float) -> None:
    ttl = math.ceil(expires_at - time.time())
    if ttl > 0:  # an expired token is refused anyway
        get_cache().set(key(jti), 1, ttl=ttl)


def key(jti: str) -> str:
    """The cache key of a revoked token (``http/auth.py`` reads it with the caller's version, in one
    ``MGET``: present means revoked)."""
    return KEY.format(jti=jti)


def is_revoked(jti: str) -> bool:
    """One cache GET of the entry alone (bench/revocation.py times it)."""
    return get_cache().get(key(jti)) is not None
