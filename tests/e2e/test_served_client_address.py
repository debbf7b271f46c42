"""API.md §1 Rate limits and Headers through a real ``studyhub serve`` (waitress, real sockets): the
peer's address is the socket's, X-Forwarded-For reaches the app and is believed only from a trusted
proxy, and what a raw request writes can't forge a line of ``var/logs/studyhub.log``."""

from __future__ import annotations

import re
import socket
import uuid

import httpx
import pytest
from served import served

pytestmark = pytest.mark.slow

LIMIT = 5


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    settings = {"RATE_LIMIT_CAPTCHA": f"{LIMIT}/minute", "TRUSTED_PROXIES": "127.0.0.1"}
    with served(tmp_path_factory.mktemp("client-address"), settings) as running:
        yield running


def captcha(server, headers=None, local_address="127.0.0.1"):
    transport = httpx.HTTPTransport(local_address=local_address)
    with httpx.Client(base_url=server.url, transport=transport, timeout=10) as http:
        return http.get(
            f"/api/users/image/verification/{uuid.uuid4()}", headers={"Accept": "image/png", **(headers or {})}
        )


def test_behind_a_trusted_proxy_the_forwarded_client_is_limited(server):
    nginx = {"X-Forwarded-For": "203.0.113.9"}  # the local Nginx (127.0.0.1) names its client
    assert [captcha(server, nginx).status_code for _ in range(LIMIT)] == [200] * LIMIT
    limited = captcha(server, nginx)
    assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert captcha(server, {"X-Forwarded-For": "198.51.100.4"}).status_code == 200  # another client


def test_an_untrusted_peer_is_limited_whatever_it_forwards(server):
    # 127.0.0.2 is another peer on the loopback, not in TRUSTED_PROXIES
    statuses = [captcha(server, {"X-Forwarded-For": f"10.0.0.{n}"}, "127.0.0.2").status_code for n in range(LIMIT + 1)]
    assert statuses == [200] * LIMIT + [429]


def raw_get(server, target: bytes, request_id: bytes) -> bytes:
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nAccept: */*\r\nX-Request-Id: " + request_id + b"\r\n")
        conn.sendall(b"Connection: close\r\n\r\n")
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer


def test_raw_bytes_in_a_path_or_request_id_cannot_forge_a_log_line(server):
    forged = b"INFO%202030-01-01%2000:00:00,000%20studyhub.request%20FORGED"
    answer = raw_get(server, b"/api/users/image/verification/x%0a%0d%c2%85" + forged, b"id-\x85\xe2\x80\xa8-x")
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    assert head.startswith("HTTP/1.1 400") and b'"invalid_uuid"' in answer, answer  # the app answered
    (echoed,) = re.findall(r"(?im)^x-request-id: (.*)$", head)
    assert re.fullmatch(r"[0-9a-f]{32}", echoed.strip())
    lines = (server.base / "var" / "logs" / "studyhub.log").read_text(encoding="utf-8").splitlines()
    assert [line for line in lines if "FORGED" in line]
    assert all(re.match(r"(DEBUG|INFO|WARNING|ERROR|CRITICAL) \d{4}-|    ", line) for line in lines)
    assert not any("FORGED" in line and not line.startswith("INFO") for line in lines)
    assert not any(line.startswith("INFO 2030-01-01") for line in lines)
