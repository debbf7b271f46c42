"""``studyhub serve`` on several processes by default (issue 15): one server per CPU core on the
one port, forked after import; a server that dies is forked again; SIGTERM to the parent stops
every server and the port closes. Embedded stack (SQLite + embedded cache), writes from both
processes at once included, as subprocesses in a var dir of their own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
from conftest import BASE_ENV_KEYS, free_port
from test_frontdoor_nginx import _die_with_parent, _stop, _tail


def _env(base: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in BASE_ENV_KEYS}
    env.update(
        {
            "STUDYHUB_VAR_DIR": str(base / "var"),
            "JWT_SECRET": "serve-processes-secret-" + uuid.uuid4().hex * 2,
            "RATE_LIMIT_CAPTCHA": "100000/minute",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except FileNotFoundError:
        return []
    return [int(p) for p in text.split()]


def _start(base: Path, *args: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    out = base / "serve.out"
    with out.open("wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "studyhub.ops.cli", "serve", "--no-jobs", "--port", str(port), *args],
            env=_env(base),
            cwd=base,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"studyhub serve exited with {proc.returncode}:\n{_tail(out)}", pytrace=False)
        try:
            if httpx.get(f"{url}/api/users/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    _stop(proc)
    pytest.fail(f"studyhub serve not healthy in 120 s:\n{_tail(out)}", pytrace=False)


def _wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_serve_forks_one_server_per_core_by_default(tmp_path):
    proc, url = _start(tmp_path)
    try:
        cores = os.cpu_count() or 1
        servers = _children(proc.pid)
        assert len(servers) == (cores if cores > 1 else 0), servers  # one core: the parent serves itself
        assert httpx.get(f"{url}/api/", timeout=5).status_code == 200
    finally:
        _stop(proc)


def test_two_processes_share_the_port_survive_a_killed_server_and_stop_together(tmp_path):
    proc, url = _start(tmp_path, "--processes", "2", "--threads", "4")
    try:
        servers = _children(proc.pid)
        assert len(servers) == 2, servers

        # writes from both servers at once: captchas stored in the one embedded cache, all 200
        statuses: list[int] = []

        def client() -> None:
            with httpx.Client(base_url=url, timeout=15) as http:
                for _ in range(25):
                    answer = http.get(f"/api/users/image/verification/{uuid.uuid4()}", headers={"Accept": "image/png"})
                    statuses.append(answer.status_code)

        crowd = [threading.Thread(target=client) for _ in range(6)]
        for thread in crowd:
            thread.start()
        for thread in crowd:
            thread.join(timeout=120)
        assert statuses == [200] * 150, sorted(set(statuses))
        busy = {pid for pid in servers if int(Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].split()[11]) > 0}
        assert busy == set(servers), "a server that never ran a request"  # utime > 0: both served

        os.kill(servers[0], signal.SIGKILL)
        assert _wait_for(lambda: len(_children(proc.pid)) == 2 and servers[0] not in _children(proc.pid), 10)
        with httpx.Client(base_url=url, timeout=10) as http:
            assert all(http.get("/api/users/health").status_code == 200 for _ in range(20))

        current = _children(proc.pid)
        proc.send_signal(signal.SIGTERM)  # the parent alone, as systemd's KillMode=mixed does
        proc.wait(timeout=30)
        assert proc.returncode == 0, _tail(tmp_path / "serve.out")
        assert _wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in current), 10), current
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/api/users/health", timeout=2)
    finally:
        _stop(proc)


def test_a_port_taken_is_refused_before_the_database_is_touched(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "studyhub.ops.cli", "serve", "--processes", "2", "--port", str(port)],
            env=_env(tmp_path),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"can't listen on 127.0.0.1:{port}: Address already in use" in result.stderr
    assert not (tmp_path / "var" / "studyhub.sqlite3").exists()
