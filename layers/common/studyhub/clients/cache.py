"""The cache: Redis when ``REDIS_URL`` is set, otherwise an embedded cache on disk.

The embedded cache is ``diskcache`` (SQLite under ``var/cache``), so every local process shares
it and keys expire. Both backends speak the same small interface. A Redis that can't be reached
raises ``Unavailable("cache")`` within ``BACKEND_TIMEOUT_SECONDS`` (connect or answer), never hangs.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from studyhub.core.config import get_settings
from studyhub.core.errors import Unavailable
from studyhub.core.lazy import Lazy

T = TypeVar("T")


class Cache(Protocol):
    def get(self, key: str) -> Any: ...
    def get_many(self, keys: list[str]) -> list[Any]: ...
    def add(self, key: str, value: Any, ttl: int | None = None) -> bool: ...
    def set(self, key: str, value: Any, ttl: int | None = None) -> None: ...
    def delete(self, key: str) -> None: ...
    def delete_many(self, keys: list[str]) -> None: ...
    def pop(self, key: str) -> Any: ...
    def incr(self, key: str, ttl: int) -> int: ...
    def incr_window(self, key: str, window_seconds: int) -> tuple[int, int]: ...
    def ttl(self, key: str) -> int | None: ...
    def ping(self) -> None: ...


class RedisCache:
    """Values are JSON so Redis and the embedded cache return the same types."""

    def __init__(self, url: str, prefix: str, timeout: float = 5.0) -> None:
        import redis  # lazy: a function that never touches the cache doesn't import redis

        self._errors = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
        self._prefix = prefix
        self._client = redis.Redis.from_url(
            url,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
            health_check_interval=30,
            retry_on_timeout=False,
        )

    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return fn(*args)
        except self._errors as error:
            raise Unavailable("cache") from error

    def _k(self, key: str) -> str:
        return self._prefix + key

    def get(self, key: str) -> Any:
        raw = self._call(self._client.get, self._k(key))
        return None if raw is None else json.loads(raw)

    def get_many(self, keys: list[str]) -> list[Any]:
        """Several keys in one round trip (MGET), ``None`` for each missing one."""
        raws = self._call(self._client.mget, [self._k(key) for key in keys])
        return [None if raw is None else json.loads(raw) for raw in raws]

    def add(self, key: str, value: Any, ttl: int | None = None) -> bool:
        """Set ``key`` only if it is absent (SET NX); whether this call set it."""
        return bool(self._call(lambda: self._client.set(self._k(key), json.dumps(value), ex=ttl, nx=True)))

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        self._call(lambda: self._client.set(self._k(key), json.dumps(value), ex=ttl))

    def delete(self, key: str) -> None:
        self._call(self._client.delete, self._k(key))

    def delete_many(self, keys: list[str]) -> None:
        """Several keys in one round trip."""
        if keys:
            self._call(self._client.delete, *[self._k(key) for key in keys])

    def pop(self, key: str) -> Any:
        raw = self._call(self._client.getdel, self._k(key))  # atomic: a captcha is used once
        return None if raw is None else json.loads(raw)

    def incr(self, key: str, ttl: int) -> int:
        def run() -> int:
            pipe = self._client.pipeline()
            pipe.incr(self._k(key))
            pipe.expire(self._k(key), ttl, nx=True)  # fixed window from the first hit
            return pipe.execute()[0]

        return int(self._call(run))

    def incr_window(self, key: str, window_seconds: int) -> tuple[int, int]:
        """A fixed-window counter: ``(hits in this window, seconds until it ends)``, atomically."""

        def run() -> tuple[int, int]:
            pipe = self._client.pipeline(transaction=True)  # MULTI/EXEC: no other client in between
            pipe.incr(self._k(key))
            pipe.expire(self._k(key), window_seconds, nx=True)  # the window starts at its first hit
            pipe.ttl(self._k(key))
            count, _, remaining = pipe.execute()
            return int(count), int(remaining) if remaining and remaining > 0 else window_seconds

        return self._call(run)

    def ttl(self, key: str) -> int | None:
        remaining = self._call(self._client.ttl, self._k(key))
        return remaining if remaining and remaining > 0 else None

    def ping(self) -> None:
        self._call(self._client.ping)

    def flush_prefix(self) -> None:
        for key in self._call(lambda: list(self._client.scan_iter(self._prefix + "*"))):
            self._call(self._client.delete, key)


class EmbeddedCache:
    """diskcache: a real on-disk cache shared by every process that opens the same directory."""

    def __init__(self, directory: str, prefix: str) -> None:
        import diskcache

        self._prefix = prefix
        self._cache = diskcache.Cache(directory, timeout=5)

    def _k(self, key: str) -> str:
        return self._prefix + key

    def get(self, key: str) -> Any:
        return self._cache.get(self._k(key))

    def get_many(self, keys: list[str]) -> list[Any]:
        return [self._cache.get(self._k(key)) for key in keys]

    def add(self, key: str, value: Any, ttl: int | None = None) -> bool:
        return bool(self._cache.add(self._k(key), value, expire=ttl))

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        self._cache.set(self._k(key), value, expire=ttl)

    def delete(self, key: str) -> None:
        self._cache.delete(self._k(key))

    def delete_many(self, keys: list[str]) -> None:
        for key in keys:
            self._cache.delete(self._k(key))

    def pop(self, key: str) -> Any:
        return self._cache.pop(self._k(key), default=None)

    def incr(self, key: str, ttl: int) -> int:
        k = self._k(key)
        with self._cache.transact():
            current = self._cache.get(k, default=None, expire_time=True)
            value, expire_at = current if current else (None, None)
            if value is None:
                self._cache.set(k, 1, expire=ttl)
                return 1
            remaining = None if expire_at is None else max(0.001, expire_at - time.time())
            self._cache.set(k, value + 1, expire=remaining)
            return value + 1

    def incr_window(self, key: str, window_seconds: int) -> tuple[int, int]:
        """A fixed-window counter: ``(hits in this window, seconds until it ends)``. diskcache's
        ``transact`` is an SQLite write transaction, so concurrent processes count every hit once."""
        k = self._k(key)
        with self._cache.transact():
            value, expire_at = self._cache.get(k, default=None, expire_time=True) or (None, None)
            now = time.time()
            if value is None or expire_at is None or expire_at <= now:
                self._cache.set(k, 1, expire=window_seconds)
                return 1, window_seconds
            self._cache.set(k, value + 1, expire=expire_at - now)
            return value + 1, max(1, math.ceil(expire_at - now))

    def ttl(self, key: str) -> int | None:
        value, expire_at = self._cache.get(self._k(key), default=None, expire_time=True) or (None, None)
        if value is None or expire_at is None:
            return None
        return max(1, int(expire_at - time.time() + 0.999))

    def ping(self) -> None:
        self._cache.get("__ping__")

    def flush_prefix(self) -> None:
        for key in list(self._cache.iterkeys()):
            if isinstance(key, str) and key.startswith(self._prefix):
                self._cache.delete(key)


def _build_cache() -> Cache:
    settings = get_settings()
    if settings.redis_url:
        return RedisCache(settings.redis_url, settings.cache_key_prefix, settings.backend_timeout_seconds)
    return EmbeddedCache(str(settings.var_dir / "cache"), settings.cache_key_prefix)


_cache: Lazy[Cache] = Lazy(_build_cache)
get_cache = _cache.get
reset = _cache.reset
