"""A real ``studyhub serve`` in a subprocess (embedded stack, a private var dir), for the tests that
need a real socket and a process to measure: its URL, pid and a way to run the CLI beside it."""

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
from conftest import BASE_ENV_KEYS, free_port


@dataclass
class Served:
    url: str
    pid: int
    base: Path
    env: dict[str, str]

    @property
    def media(self) -> Path:
        return self.base / "var" / "media"

    def cli(self, *args: str) -> str:
        """``studyhub <args>`` against the same database and secret; its stdout."""
        result = subprocess.run(
            [sys.executable, "-m", "studyhub.ops.cli", *args],
            env=self.env,
            cwd=self.base,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def superuser_token(self, username: str = "root") -> str:
        self.cli("createsuperuser", "--username", username, "--password", "a-long-password-1")
        return self.cli("token", username)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no output)"


@contextmanager
def served(base: Path, settings: dict[str, str] | None = None, *args: str) -> Iterator[Served]:
    """``studyhub serve --function users --no-jobs <args>`` on a free port of 127.0.0.1."""
    env = {k: v for k, v in os.environ.items() if k not in BASE_ENV_KEYS}
    env.update(
        {
            "STUDYHUB_VAR_DIR": str(base / "var"),
            "JWT_SECRET": "served-test-secret-" + uuid.uuid4().hex * 2,
            "PYTHONUNBUFFERED": "1",
            **(settings or {}),
        }
    )
    port = free_port()
    out = base / "serve.out"
    with out.open("wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "studyhub.ops.cli", "serve", "--function", "users", "--no-jobs"]
            + ["--host", "127.0.0.1", "--port", str(port), *args],
            env=env,
            cwd=base,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120  # the first start migrates and loads the areas
        while True:
            assert proc.poll() is None, f"studyhub serve exited:\n{_tail(out)}"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/users/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"studyhub serve not ready:\n{_tail(out)}"
            time.sleep(0.2)
        yield Served(f"http://127.0.0.1:{port}", proc.pid, base, env)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
