"""The whole platform as a real ``studyhub serve`` subprocess (every function, no job worker) on one
of the two stacks, seeded with the demo data, for the suites that talk to it over a socket with
tools of their own (schemathesis, the fuzz suite, a browser): its URL, the CLI beside it, tokens.

``embedded``: SQLite and the embedded cache under a private var dir. ``mysql``: a private database
on the running MariaDB and a private key prefix on the running Redis, both removed afterwards.
Alipay is configured with throwaway keys, so the payment routes answer as in production instead
of ``503 payment not configured``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from conftest import BASE_ENV_KEYS, MYSQL_URL, REDIS_URL, free_port, require_service

ROOT = Path(__file__).resolve().parents[1]
DEMO_STUDENT = "student1"  # studyhub seed --demo
DEMO_SUPERUSER = "admin"
ALIPAY_ENV = ("ALIPAY_APP_ID", "ALIPAY_APP_PRIVATE_KEY", "ALIPAY_PUBLIC_KEY", "ALIPAY_RETURN_URL", "ALIPAY_NOTIFY_URL")


@dataclass
class Platform:
    stack: str
    url: str  # http://127.0.0.1:PORT (the API is under /api)
    proc: subprocess.Popen
    base: Path
    env: dict[str, str]

    @property
    def api(self) -> str:
        return self.url + "/api"

    def cli(self, *args: str) -> str:
        """``studyhub <args>`` against the same database and secret; its last line of output."""
        result = subprocess.run(
            [sys.executable, "-m", "studyhub.ops.cli", *args],
            env=self.env,
            cwd=self.base,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout.strip().splitlines()[-1]

    def token(self, username: str) -> str:
        return self.cli("token", username)

    def alive(self) -> bool:
        try:
            return self.proc.poll() is None and httpx.get(f"{self.api}/users/health", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False


def _alipay_keys(base: Path) -> dict[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    for name in ("app", "alipay"):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        public = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        (base / f"{name}.key").write_bytes(private)
        (base / f"{name}.pub").write_bytes(public)
    return {
        "ALIPAY_APP_ID": "2021000000000000",
        "ALIPAY_APP_PRIVATE_KEY": f"@{base / 'app.key'}",
        "ALIPAY_PUBLIC_KEY": f"@{base / 'alipay.pub'}",
        "ALIPAY_RETURN_URL": "http://127.0.0.1/order/success",
        "ALIPAY_NOTIFY_URL": "http://127.0.0.1/api/shopping/payments/notify",
    }


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no output)"


@contextmanager
def _database(stack: str) -> Iterator[dict[str, str]]:
    if stack != "mysql":
        yield {}
        return
    require_service("MariaDB", "127.0.0.1", 3306)
    require_service("Redis", "127.0.0.1", 6379)
    import sqlalchemy

    name = f"studyhub_served_{uuid.uuid4().hex[:12]}"
    prefix = f"served:{name}:"
    admin = sqlalchemy.create_engine(MYSQL_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    try:
        yield {
            "DATABASE_URL": f"{MYSQL_URL}/{name}?charset=utf8mb4",
            "REDIS_URL": REDIS_URL,
            "CELERY_BROKER_URL": REDIS_URL,
            "CACHE_KEY_PREFIX": prefix,
        }
    finally:
        from studyhub.clients.cache import RedisCache

        RedisCache(REDIS_URL, prefix).flush_prefix()
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        admin.dispose()


@contextmanager
def serve_platform(stack: str, base: Path, settings: dict[str, str] | None = None) -> Iterator[Platform]:
    """``studyhub serve --no-jobs`` on a free port of 127.0.0.1, migrated and ``seed --demo``-ed."""
    with _database(stack) as database:
        env = {k: v for k, v in os.environ.items() if k not in BASE_ENV_KEYS and k not in ALIPAY_ENV}
        env.update(
            {
                # This checkout's code, whatever else an editable install points `studyhub` at.
                "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "common"), str(ROOT), env.get("PYTHONPATH", "")]),
                "STUDYHUB_VAR_DIR": str(base / "var"),
                "JWT_SECRET": "served-platform-secret-" + uuid.uuid4().hex * 2,
                "PYTHONUNBUFFERED": "1",
                # These suites send thousands of requests from one address: the throttle is tested elsewhere.
                "RATE_LIMIT_CAPTCHA": "1000000/minute",
                "RATE_LIMIT_LOGIN": "1000000/minute",
                **_alipay_keys(base),
                **database,
                **(settings or {}),
            }
        )
        port = free_port()
        out = base / "serve.out"
        with out.open("wb") as fh:
            proc = subprocess.Popen(
                [sys.executable, "-m", "studyhub.ops.cli", "serve", "--no-jobs"]
                + ["--host", "127.0.0.1", "--port", str(port), "--threads", "8"],
                env=env,
                cwd=base,
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        platform = Platform(stack, f"http://127.0.0.1:{port}", proc, base, env)
        try:
            deadline = time.monotonic() + 120  # the first start migrates and loads the areas
            while not platform.alive():
                assert proc.poll() is None, f"studyhub serve exited:\n{_tail(out)}"
                assert time.monotonic() < deadline, f"studyhub serve not ready:\n{_tail(out)}"
                time.sleep(0.2)
            platform.cli("seed", "--demo")
            yield platform
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
