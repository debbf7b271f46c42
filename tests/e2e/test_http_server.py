"""The HTTP server of ``studyhub serve`` (local/wsgi_server.py), both engines, on real sockets in
this process, with small WSGI apps: HTTP/1.1 as clients speak it (keep-alive, pipelining, a
request in pieces, chunked bodies, ``Expect: 100-continue``, HTTP/1.0, ``Connection: close``), the
errors it answers itself in the contract's JSON, and the guarantees that keep one client from
stalling the others: a slow reader or a half-sent request costs no thread, idle connections close,
a cap per client address, a limit overall. Through ``studyhub serve`` itself:
tests/e2e/test_resources.py."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from local.wsgi_server import create_server

ENGINES = ["epoll", "waitress"]


def echo(environ: dict, start_response: Callable) -> list[bytes]:
    body = environ["wsgi.input"].read()
    answer = json.dumps({"path": environ["PATH_INFO"], "query": environ["QUERY_STRING"], "body": body.decode()})
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))])
    return [answer.encode()]


@contextmanager
def running(app: Callable, engine: str, **options: Any) -> Iterator[Any]:
    options.setdefault("threads", 4)
    server = create_server(app, host="127.0.0.1", port=0, engine=engine, **options)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        if engine == "epoll":
            server.close()
        else:  # waitress's loop ends when its map is empty
            from waitress import wasyncore

            server.task_dispatcher.shutdown()
            wasyncore.close_all(server._map)
        thread.join(timeout=10)
        assert not thread.is_alive(), "the server did not stop"


class Client:
    """A connection to the server, and the bytes read past the last answer (pipelined answers)."""

    def __init__(self, server: Any) -> None:
        self.sock = socket.create_connection(("127.0.0.1", server.effective_port), timeout=5)
        self.buffer = bytearray()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def sendall(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _more(self, what: str) -> None:
        chunk = self.sock.recv(65536)
        assert chunk, f"closed {what}: {self.buffer[:200]!r}"
        self.buffer += chunk  # a bytearray: grows in place

    def answer(self) -> tuple[int, dict[str, str], bytes]:
        """One HTTP answer (Content-Length or chunked)."""
        while b"\r\n\r\n" not in self.buffer:
            self._more("before the headers")
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
        if status in (100, 204):
            return status, headers, b""
        if headers.get("transfer-encoding") == "chunked":
            body = b""
            while True:
                while b"\r\n" not in self.buffer:
                    self._more("inside a chunk size")
                size_line, self.buffer = self.buffer.split(b"\r\n", 1)
                size = int(size_line, 16)
                while len(self.buffer) < size + 2:
                    self._more("inside a chunk")
                body, self.buffer = body + self.buffer[:size], self.buffer[size + 2 :]
                if size == 0:
                    return status, headers, body
        length = int(headers["content-length"])
        while len(self.buffer) < length:
            self._more("inside the body")
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return status, headers, body

    def closed_by_server(self, within: float = 5) -> bool:
        self.sock.settimeout(within)
        try:
            while self.sock.recv(65536):
                pass
            return True
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False

    def close(self) -> None:
        self.sock.close()


def connect(server: Any) -> Client:
    return Client(server)


def request(method: str, path: str, body: bytes = b"", headers: str = "", version: str = "1.1") -> bytes:
    length = f"Content-Length: {len(body)}\r\n" if body else ""
    return f"{method} {path} HTTP/{version}\r\nHost: t\r\n{headers}{length}\r\n".encode() + body


# --- HTTP as clients speak it ------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_one_connection_carries_many_requests_and_pipelined_ones_are_answered_in_order(engine):
    with running(echo, engine) as server, connect(server) as sock:
        for n in range(3):
            sock.sendall(request("GET", f"/one?n={n}"))
            status, _, body = sock.answer()
            assert status == 200 and json.loads(body)["query"] == f"n={n}"
        sock.sendall(b"".join(request("POST", f"/p{n}", body=f"body {n}".encode()) for n in range(5)))
        answers = [json.loads(sock.answer()[2]) for _ in range(5)]
        assert [(a["path"], a["body"]) for a in answers] == [(f"/p{n}", f"body {n}") for n in range(5)]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_request_that_arrives_a_byte_at_a_time_is_answered(engine):
    raw = request("POST", "/slow", body=b'{"a": 1}')
    with running(echo, engine) as server, connect(server) as sock:
        for byte in raw:
            sock.sock.send(bytes([byte]))
            time.sleep(0.001)
        status, _, body = sock.answer()
    assert status == 200 and json.loads(body) == {"path": "/slow", "query": "", "body": '{"a": 1}'}


@pytest.mark.parametrize("engine", ENGINES)
def test_a_chunked_body_and_expect_100_continue(engine):
    with running(echo, engine) as server, connect(server) as sock:
        sock.sendall(
            b"POST /chunked HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
        )
        assert json.loads(sock.answer()[2])["body"] == "hello world"
        sock.sendall(b"PUT /continue HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
        status, _, _ = sock.answer()
        assert status == 100
        sock.sendall(b"data")
        assert json.loads(sock.answer()[2])["body"] == "data"


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "raw",
    [request("GET", "/old", version="1.0"), request("GET", "/bye", headers="Connection: close\r\n")],
    ids=["http-1.0", "connection-close"],
)
def test_the_connection_closes_after_the_answer_when_the_client_asks(engine, raw):
    with running(echo, engine) as server, connect(server) as sock:
        sock.sendall(raw)
        assert sock.answer()[0] == 200
        assert sock.closed_by_server()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_file_answer_and_an_answer_larger_than_the_socket_buffers_arrive_whole(engine, tmp_path):
    big = bytes(range(256)) * (32 * 1024)  # 8 MiB
    (tmp_path / "f.bin").write_bytes(big)

    def app(environ: dict, start_response: Callable) -> Any:
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        if environ["PATH_INFO"] == "/file":
            return environ["wsgi.file_wrapper"]((tmp_path / "f.bin").open("rb"))
        return [big[: len(big) // 2], big[len(big) // 2 :]]

    with running(app, engine) as server:
        for path in ("/file", "/bytes"):  # a Content-Length from the file; chunked, then closed
            with connect(server) as sock:
                for _ in range(2 if path == "/file" else 1):
                    sock.sendall(request("GET", path))
                    status, _, body = sock.answer()
                    assert status == 200 and body == big


# --- errors the server answers itself ----------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (b"GARBAGE\r\n\r\n", 400, "bad_request"),
        (b"GET / HTTP/1.1\r\nHost: t\r\nno colon here\r\n\r\n", 400, "bad_request"),
        (b"GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 263_000 + b"\r\n\r\n", 431, "headers_too_large"),
        (b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999\r\n\r\n", 413, "payload_too_large"),
        (b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "not_implemented"),
    ],
    ids=["request-line", "header-line", "headers-too-large", "body-too-large", "transfer-coding"],
)
def test_what_the_server_refuses_is_answered_in_the_contracts_json_then_closed(engine, raw, status, code):
    with running(echo, engine, max_request_body_size=1024 * 1024) as server, connect(server) as sock:
        sock.sendall(raw)
        got, headers, body = sock.answer()
        assert (got, json.loads(body)["code"]) == (status, code)
        assert headers["content-type"].startswith("application/json")
        assert headers["x-content-type-options"] == "nosniff"
        assert sock.closed_by_server()


@pytest.mark.parametrize("engine", ENGINES)
def test_an_application_that_raises_is_a_500_in_json_and_the_server_goes_on(engine, captured):
    def app(environ: dict, start_response: Callable) -> list[bytes]:
        if environ["PATH_INFO"] == "/boom":
            raise RuntimeError("boom")
        return echo(environ, start_response)

    with running(app, engine) as server:
        with connect(server) as sock:
            sock.sendall(request("GET", "/boom"))
            status, _, body = sock.answer()
        assert status == 500 and json.loads(body)["code"]
        with connect(server) as sock:
            sock.sendall(request("GET", "/fine"))
            assert sock.answer()[0] == 200
    assert any(record.exc_info and "boom" in str(record.exc_info[1]) for record in captured.records)


# --- one client can't stall the others -----------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_a_client_that_does_not_read_its_answer_and_one_that_half_sends_hold_no_thread(engine):
    big = b"x" * (32 * 1024 * 1024)  # more than both sockets' buffers hold

    def app(environ: dict, start_response: Callable) -> list[bytes]:
        if environ["PATH_INFO"] == "/big":
            start_response("200 OK", [("Content-Length", str(len(big)))])
            return [big]
        return echo(environ, start_response)

    with running(app, engine, threads=1) as server:
        stalled = connect(server)
        stalled.sendall(request("GET", "/big"))  # and reads nothing for now
        half = connect(server)
        half.sendall(b"POST /half HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly part")
        time.sleep(0.3)
        started = time.monotonic()
        with connect(server) as other:
            other.sendall(request("GET", "/other"))
            assert other.answer()[0] == 200
        assert time.monotonic() - started < 2
        status, _, body = stalled.answer()  # the answer is still whole when read at last
        assert status == 200 and body == big
        stalled.close()
        half.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_an_idle_connection_is_closed_and_a_busy_one_is_not(engine):
    def slow(environ: dict, start_response: Callable) -> list[bytes]:
        time.sleep(1.5)
        return echo(environ, start_response)

    with running(slow, engine, channel_timeout=1, cleanup_interval=0.2) as server:
        idle, busy = connect(server), connect(server)
        busy.sendall(request("GET", "/slow"))
        assert busy.answer()[0] == 200  # 1.5 s in the application, longer than the idle timeout
        assert idle.closed_by_server(within=3)
        idle.close()
        busy.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_client_address_gets_its_cap_of_connections_and_others_are_still_served(engine, captured):
    with running(echo, engine, per_client_connections=3) as server:
        kept = [connect(server) for _ in range(3)]
        extra = connect(server)
        assert extra.closed_by_server(within=3)
        for sock in kept:
            sock.sendall(request("GET", "/kept"))
            assert sock.answer()[0] == 200
        kept.pop().close()
        time.sleep(0.2)
        with connect(server) as again:
            again.sendall(request("GET", "/again"))
            assert again.answer()[0] == 200
        for sock in kept + [extra]:
            sock.close()
    assert any("cap per client" in record.getMessage() for record in captured.records)


def test_beyond_the_connection_limit_a_new_connection_waits_until_one_closes():
    with running(echo, "epoll", connection_limit=2) as server:
        first, second = connect(server), connect(server)
        time.sleep(0.2)
        third = connect(server)  # the kernel completes the handshake; the server doesn't take it yet
        third.sendall(request("GET", "/third"))
        third.sock.settimeout(0.5)
        with pytest.raises(TimeoutError):
            third.sock.recv(1)
        first.close()
        third.sock.settimeout(5)
        assert third.answer()[0] == 200
        for sock in (second, third):
            sock.close()


def test_many_clients_at_once_each_get_their_own_answers():
    """Worker threads share one epoll set: no answer may reach another connection."""
    clients, rounds = 24, 40
    failures: list[str] = []

    def client(number: int) -> None:
        try:
            with connect(server) as sock:
                for n in range(rounds):
                    body = f"{number}:{n}".encode() * (1 + n % 7)
                    sock.sendall(request("POST", f"/c{number}", body=body))
                    answer = json.loads(sock.answer()[2])
                    if (answer["path"], answer["body"]) != (f"/c{number}", body.decode()):
                        failures.append(f"client {number} round {n}: {answer}")
        except Exception as error:  # noqa: BLE001 - reported below
            failures.append(f"client {number}: {error!r}")

    with running(echo, "epoll", threads=8) as server:
        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert failures == []


def test_the_epoll_engine_logs_through_the_studyhub_handlers(captured):
    def app(environ: dict, start_response: Callable) -> list[bytes]:
        start_response("200 OK", [("Content-Length", "2")])
        return [b"too long"]  # waitress's task warns: more than Content-Length

    with running(app, "epoll") as server, connect(server) as sock:
        sock.sendall(request("GET", "/"))
        assert sock.answer()[2] == b"to"
    assert any("exceeded the number of bytes" in record.getMessage() for record in captured.records)
    assert logging.getLogger("waitress").handlers  # adopted


def test_servers_sharing_one_socket_take_an_even_share_of_new_connections():
    """``serve --processes N``'s processes share one listening socket; without the share, 32
    connections opened at once went 26/6 or 5/27 (whichever process woke first took them)."""
    from local.epoll_server import ConnectionShare

    listener = socket.create_server(("127.0.0.1", 0), backlog=128)
    share = ConnectionShare(2)
    servers = [
        create_server(echo, sockets=[listener], threads=4, engine="epoll", share=share.at(index)) for index in (0, 1)
    ]
    threads = [threading.Thread(target=server.run, daemon=True) for server in servers]
    for thread in threads:
        thread.start()
    clients = []
    try:
        clients = [connect(servers[0]) for _ in range(32)]  # at once, as a load generator does
        for client in clients:
            client.sendall(request("GET", "/"))
        assert [client.answer()[0] for client in clients] == [200] * 32
        held = sorted(len(server.connections) for server in servers)
        assert sum(held) == 32 and held[0] >= 16 - ConnectionShare.SLACK, held
        assert list(share.counts) == [len(server.connections) for server in servers]
    finally:
        for client in clients:
            client.close()
        for server in servers:
            server.close()
        listener.close()


def test_a_process_over_its_share_leaves_a_connection_to_the_others_only_for_a_moment():
    from local.epoll_server import ConnectionShare

    share = ConnectionShare(3)
    mine = share.at(0)
    share.counts[0], share.counts[1], share.counts[2] = 6, 3, 9
    assert mine.defer()  # 6 > 3 + 2: another process takes it if it can
    time.sleep(ConnectionShare.DEFER_SECONDS * 2)
    assert not mine.defer()  # nobody did: this one takes it
    share.counts[0] = 5
    assert not mine.defer()  # within the slack
