"""Per-client rate limits (API.md §1 Rate limits): a fixed-window counter per client address in
the cache, so every process (and every function) counts against the same window.

The caller passes the client's address (``Req.client_address``: the socket's peer, or the
client behind a trusted proxy). Over the limit is ``429 rate_limited`` with ``Retry-After``, the
seconds until the window ends.
"""

from __future__ import annotations

from studyhub.clients.cache import get_cache
from studyhub.core import errors
from studyhub.core.config import RateLimit, get_settings

KEY = "ratelimit:{bucket}:{client}"


def enforce(bucket: str, client: str, limit: RateLimit) -> None:
    """Count one request of ``client`` in ``bucket``; 429 once the window holds more than allowed."""
    count, remaining = get_cache().incr_window(KEY.format(bucket=bucket, client=client), limit.window_seconds)
    if count > limit.count:
        raise errors.RateLimited(retry_after=remaining)


def limit_captcha(client: str) -> None:
    """Captcha images: each costs a render and a cache entry kept for minutes."""
    enforce("captcha", client, get_settings().rate_limit_captcha)


def limit_login(client: str) -> None:
    """Login attempts, counted across all usernames (a spray of many names from one client)."""
    enforce("login", client, get_settings().rate_limit_login)
