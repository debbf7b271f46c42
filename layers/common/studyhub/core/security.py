"""Password hashing and JWT tokens (issued and decoded).

Tokens are HS256 only (``none`` and every other algorithm are refused). Passwords use argon2id.
PyJWT and argon2 are imported on first use so a cold start that serves no auth stays light.
"""

from __future__ import annotations

import secrets
import time
from typing import Any, Protocol

from studyhub.core.config import get_settings
from studyhub.core.errors import Unauthorized
from studyhub.core.lazy import Lazy


class TokenSubject(Protocol):
    """What a token names: a user's id and username (a ``User`` row fits, and the read-only
    caller of a request)."""

    @property
    def id(self) -> int: ...
    @property
    def username(self) -> str: ...


def _build_hasher() -> Any:  # argon2.PasswordHasher, imported on first use
    from argon2 import PasswordHasher

    return PasswordHasher()  # argon2id, 64 MiB, t=3: the library's RFC 9106 profile


_password_hasher = Lazy(_build_hasher).get


def hash_password(password: str) -> str:
    return _password_hasher().hash(password)


def verify_password(password: str, hashed: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _password_hasher().verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


# A real hash to verify against when the username is unknown: the same work either way, so the
# response time doesn't tell which usernames exist.
_DUMMY_HASH: str | None = None


def burn_password_check(password: str) -> None:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password("studyhub-timing-equaliser")
    verify_password(password, _DUMMY_HASH)


def issue_token(user: TokenSubject, *, now: float | None = None) -> str:
    """``iat`` keeps its fraction of a second (a JWT NumericDate may): a password change revokes
    the tokens issued before it, and a login a moment later, in the same second, must survive it.
    ``jti`` names this one token, so a logout can revoke it alone."""
    import jwt

    settings = get_settings()
    iat = now if now is not None else time.time()
    payload = {
        "sub": str(user.id),
        "username": user.username,
        "iat": iat,
        "exp": iat + settings.jwt_expire_seconds,
        "jti": secrets.token_urlsafe(16),
    }
    return jwt.encode(payload, settings.jwt_secret, algorithm="HS256")


def decode_token(token: str) -> dict:
    """The claims of a valid token. A token's signature is checked once per process: the claims
    are kept (``_verified``, keyed by the secret and the token's bytes) and only ``exp`` is checked
    again on later requests, the one claim that changes with time (PyJWT cost a tenth of a list
    request's CPU, issue 15). ``iat`` and ``nbf`` were in the past when it was checked, and stay so."""
    secret = get_settings().jwt_secret
    claims = _verified.get((secret, token))
    if claims is not None:
        if float(claims["exp"]) <= time.time():
            _verified.pop((secret, token), None)
            raise Unauthorized("令牌已过期", code="token_expired")
        return dict(claims)
    claims = _decode(token, secret)
    if len(_verified) >= _VERIFIED_SIZE:
        _verified.clear()  # rare (that many live tokens in one process): start again
    _verified[(secret, token)] = claims
    return dict(claims)


_VERIFIED_SIZE = 10_000
_verified: dict[tuple[str, str], dict] = {}


def _decode(token: str, secret: str) -> dict:
    import jwt

    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["sub", "exp", "iat"]})
    except jwt.ExpiredSignatureError:
        raise Unauthorized("令牌已过期", code="token_expired") from None
    except jwt.PyJWTError:
        raise Unauthorized("令牌无效", code="token_invalid") from None
    try:
        float(claims["exp"])
    except (TypeError, ValueError):  # PyJWT checks it is an integer; kept numeric for the cache
        raise Unauthorized("令牌无效", code="token_invalid") from None
    return claims
