"""The cache interface on both backends: Redis and the embedded (diskcache) cache."""

import subprocess
import sys
import time

import pytest
from conftest import REDIS_URL, RUN_ID, require_service


@pytest.fixture(params=["embedded", "redis"])
def cache(request, tmp_path):
    from studyhub.clients.cache import EmbeddedCache, RedisCache

    if request.param == "redis":
        require_service("Redis", "127.0.0.1", 6379)
        backend = RedisCache(REDIS_URL, f"test:{RUN_ID}:cache:")
    else:
        backend = EmbeddedCache(str(tmp_path / "cache"), "t:")
    yield backend
    backend.flush_prefix()


def test_set_get_delete_roundtrip_keeps_types(cache):
    cache.set("k", {"a": [1, "二"]}, ttl=60)
    assert cache.get("k") == {"a": [1, "二"]}
    cache.delete("k")
    assert cache.get("k") is None


def test_values_expire(cache):
    cache.set("short", "x", ttl=1)
    assert cache.get("short") == "x"
    time.sleep(1.2)
    assert cache.get("short") is None


def test_pop_returns_once(cache):
    cache.set("captcha", "AbC1", ttl=60)
    assert cache.pop("captcha") == "AbC1"
    assert cache.pop("captcha") is None


def test_incr_counts_in_a_fixed_window(cache):
    assert [cache.incr("n", ttl=60) for _ in range(3)] == [1, 2, 3]
    assert 55 <= cache.ttl("n") <= 60
    time.sleep(1.1)
    cache.incr("n", ttl=60)
    assert cache.ttl("n") <= 59  # the window is not extended by later hits


def test_embedded_cache_is_shared_between_processes(tmp_path):
    from studyhub.clients.cache import EmbeddedCache

    directory = str(tmp_path / "shared")
    EmbeddedCache(directory, "p:").set("from-parent", "hello", ttl=60)
    code = (
        f"from studyhub.clients.cache import EmbeddedCache; c = EmbeddedCache({directory!r}, 'p:');"
        "print(c.get('from-parent')); c.set('from-child', 42, ttl=60)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "hello"
    assert EmbeddedCache(directory, "p:").get("from-child") == 42
