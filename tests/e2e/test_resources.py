"""The WSGI server's own limits (API.md §1 "Slow or hung backends", "Limits on input", issue 11
findings 5 and 8) against a real ``studyhub serve`` subprocess (embedded stack, private var dir):
one client's 1,100 idle connections don't lock anyone else out, idle connections are closed after
30 s, and what waitress refuses itself answers in the contract's JSON."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from conftest import BASE_ENV_KEYS, free_port, report
from hardening_results import record

pytestmark = pytest.mark.slow

IDLE_CONNECTIONS = 1100
OTHER_CLIENT = "127.0.0.2"  # another source address on Linux loopback: another client


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no output)"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``studyhub serve --function users --no-jobs`` on a free port of 0.0.0.0 (so 127.0.0.2
    reaches it too), embedded stack, a body limit of 1 MiB."""
    base = tmp_path_factory.mktemp("resources")
    env = {k: v for k, v in os.environ.items() if k not in BASE_ENV_KEYS and k != "MAX_BODY_BYTES"}
    env.update(
        {
            "STUDYHUB_VAR_DIR": str(base / "var"),
            "JWT_SECRET": "resources-test-secret-" + uuid.uuid4().hex * 2,
            "MAX_BODY_BYTES": str(1024 * 1024),
            "PYTHONUNBUFFERED": "1",
        }
    )
    port = free_port()
    out = base / "serve.out"
    with out.open("wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "studyhub.ops.cli", "serve", "--function", "users", "--no-jobs"]
            + ["--host", "0.0.0.0", "--port", str(port), "--threads", "4"],
            env=env,
            cwd=base,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 90  # the first start migrates and loads the areas
        while True:
            assert proc.poll() is None, f"studyhub serve exited:\n{_tail(out)}"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/users/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"studyhub serve not ready:\n{_tail(out)}"
            time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def raw_exchange(port: int, request: bytes, timeout: float = 5.0) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (no client-side checks), read the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        (b"GARBAGE\r\n\r\n", 400, "bad_request"),
        (
            b"GET /api/users/area HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 263_000 + b"\r\n\r\n",
            431,
            "headers_too_large",
        ),
        (
            b"POST /api/users/login HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n" + b"x" * 100,
            413,
            "payload_too_large",
        ),
        (b"POST /api/users/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "not_implemented"),
    ],
    ids=["malformed-request-line", "headers-too-large", "body-too-large", "unknown-transfer-encoding"],
)
def test_errors_the_http_server_answers_itself_are_the_contracts_json(server, request_bytes, status, code):
    got, headers, body = raw_exchange(server, request_bytes)
    assert got == status, body
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert headers["x-content-type-options"] == "nosniff"
    assert json.loads(body)["code"] == code and json.loads(body)["detail"]


def _other_client_get(port: int) -> tuple[int, float]:
    started = time.monotonic()
    sock = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(OTHER_CLIENT, 0))
    with sock:
        sock.sendall(b"GET /api/users/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return int(data.split()[1]), time.monotonic() - started


def test_another_client_is_served_while_one_client_holds_1100_idle_connections(server):
    from local.wsgi_server import PER_CLIENT_CONNECTIONS

    idle: list[socket.socket] = []
    try:
        for _ in range(IDLE_CONNECTIONS):
            sock = socket.socket()
            sock.settimeout(5)
            sock.connect(("127.0.0.1", server))
            idle.append(sock)
        time.sleep(1)  # let the server accept (and refuse) them all
        status, elapsed = _other_client_get(server)
        assert status == 200
        assert elapsed < 2.0, f"another client waited {elapsed:.2f}s"
        # the server kept at most the cap of them open: the rest were closed at once
        kept = 0
        for sock in idle:
            sock.setblocking(False)
            try:
                kept += sock.recv(1) != b""
            except BlockingIOError:
                kept += 1  # still open, nothing to read
            except OSError:
                pass
        assert kept <= PER_CLIENT_CONNECTIONS
    finally:
        for sock in idle:
            sock.close()
    report(
        f"resources: {IDLE_CONNECTIONS} idle connections from one client, {kept} kept; another client in {elapsed * 1000:.0f} ms"
    )
    record(
        "resources",
        {
            "idle_connections_from_one_client": IDLE_CONNECTIONS,
            "kept_open_by_the_server": kept,
            "per_client_cap": PER_CLIENT_CONNECTIONS,
            "other_client_answer_ms": round(elapsed * 1000, 1),
        },
    )


def test_an_idle_connection_is_closed_after_30_seconds(server):
    with socket.create_connection(("127.0.0.1", server), timeout=45) as sock:
        started = time.monotonic()
        assert sock.recv(1) == b""  # the server closed it
        waited = time.monotonic() - started
    assert 29 <= waited <= 35, waited
    record("resources", {"idle_connection_closed_after_s": round(waited, 1)})
