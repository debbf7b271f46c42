"""CORS (API.md §1): the one rule every front door applies, from ``CORS_ALLOW_ORIGINS``.

An allowed ``Origin`` gets ``Access-Control-Allow-Origin: <that origin>`` (echoed, never ``*``:
one header value works for a list), ``Access-Control-Expose-Headers`` on every answer and, on a
preflight, the route's methods, the request headers a frontend sends and a 10-minute cache. A
disallowed origin gets no ``Access-Control-*`` header at all: the browser then blocks the call.
Tokens travel in ``Authorization``, never in cookies, so credentials mode is never allowed.

The allowed origins compile to one regular expression (``CorsPolicy.pattern``) that both Python
and Nginx's PCRE read, so the generated Nginx config answers its own errors by the same rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from studyhub.core.config import get_settings

ALLOW_HEADERS = "Authorization, Content-Type, X-Request-Id, X-Requested-With"
EXPOSE_HEADERS = "X-Request-Id, Retry-After"
MAX_AGE_SECONDS = 600
ANY_PORT = ":*"


def origin_pattern(origins: Iterable[str]) -> str | None:
    """The regular expression of the allowed origins (matched case-insensitively), ``None`` for
    none. ``*`` is any origin; ``scheme://host:*`` is that host on any port (or none)."""
    alternatives = []
    for origin in origins:
        if origin == "*":
            return r"^\S+$"
        if origin.endswith(ANY_PORT):
            alternatives.append(re.escape(origin[: -len(ANY_PORT)]) + "(:[0-9]+)?")
        else:
            alternatives.append(re.escape(origin))
    if not alternatives:
        return None
    return "^(" + "|".join(alternatives) + ")$"


class CorsPolicy:
    def __init__(self, origins: Iterable[str]) -> None:
        self.pattern = origin_pattern(origins)
        self._regex = re.compile(self.pattern, re.IGNORECASE) if self.pattern else None

    def allows(self, origin: str | None) -> bool:
        return bool(origin and self._regex and self._regex.match(origin))

    def headers(self, origin: str | None) -> dict[str, str]:
        """What every answer to a request from ``origin`` carries (nothing for a disallowed one)."""
        if not self.allows(origin):
            return {}
        assert origin is not None
        return {"Access-Control-Allow-Origin": origin, "Access-Control-Expose-Headers": EXPOSE_HEADERS}

    def preflight_headers(self, origin: str | None, methods: Iterable[str]) -> dict[str, str]:
        """A preflight's answer (status 204) for a route serving ``methods``."""
        if not self.allows(origin):
            return {}
        return {
            **self.headers(origin),
            "Access-Control-Allow-Methods": ", ".join(methods),
            "Access-Control-Allow-Headers": ALLOW_HEADERS,
            "Access-Control-Max-Age": str(MAX_AGE_SECONDS),
        }


_policies: dict[tuple[str, ...], CorsPolicy] = {}


def cors_policy() -> CorsPolicy:
    """The policy of the current settings (compiled once per setting value)."""
    origins = get_settings().cors_allow_origins
    policy = _policies.get(origins)
    if policy is None:
        policy = _policies[origins] = CorsPolicy(origins)
    return policy
