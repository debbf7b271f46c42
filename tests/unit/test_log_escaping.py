"""API.md §1 Headers: request ids and paths written to logs are escaped, so a request can't forge a
log line in var/logs/studyhub.log; the echoed X-Request-Id is printable ASCII, at most 64 long."""

import json
import logging
import re

import pytest

FORGED = "INFO 2030-01-01 00:00:00,000 studyhub.request FORGED admin logged in"
# Every physical line of the text log is a record (level first) or an indented traceback line.
RECORD_START = re.compile(r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL) \d{4}-\d\d-\d\d |^    ")
LINE_BREAKERS = ["\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


def log_lines(platform) -> list[str]:
    return (platform.var_dir / "logs" / "studyhub.log").read_text(encoding="utf-8").splitlines()


def captcha_path(tail: str) -> str:
    return "/api/users/image/verification/" + tail


@pytest.mark.parametrize("encoded", ["%0a", "%0d", "%0d%0a", "%0b", "%0c", "%1e", "%c2%85", "%e2%80%a8"])
def test_a_line_break_in_a_path_cannot_start_a_log_line(client, platform, encoded):
    forged = FORGED.replace(" ", "%20")
    response = client.get(captcha_path(f"x{encoded}{forged}"), headers={"Accept": "*/*"})
    assert response.status_code == 400
    lines = log_lines(platform)
    assert not any(line.startswith(FORGED) for line in lines)
    assert all(RECORD_START.match(line) for line in lines), [line for line in lines if not RECORD_START.match(line)]
    request_id = response.headers["x-request-id"]
    (record,) = [line for line in lines if f"request_id={request_id}" in line]
    assert "FORGED admin logged in" in record  # kept, escaped, on the request's own line


def test_the_path_is_logged_with_its_line_breaks_escaped(client, platform):
    response = client.get(captcha_path("a%0ab%0dc%09d%1b"), headers={"Accept": "*/*"})
    (record,) = [line for line in log_lines(platform) if f"request_id={response.headers['x-request-id']}" in line]
    assert "path=/api/users/image/verification/a\\nb\\rc\\td\\x1b " in record


@pytest.mark.parametrize(
    "sent",
    ["ok\x1b[2Jforged", "tab\tin-id", "with space", "x" * 65, ""],
    ids=["escape-sequence", "tab", "space", "too-long", "empty"],
)
def test_an_unprintable_or_overlong_request_id_is_replaced_by_a_new_one(client, platform, sent):
    response = client.get("/api/users/area", headers={"X-Request-Id": sent})
    echoed = response.headers["x-request-id"]
    assert echoed != sent and re.fullmatch(r"[0-9a-f]{32}", echoed)
    assert any(f"request_id={echoed}" in line for line in log_lines(platform))
    own = client.get("/api/nope", headers={"X-Request-Id": sent})  # the front door's own answer
    assert own.status_code == 404 and re.fullmatch(r"[0-9a-f]{32}", own.headers["x-request-id"])


def test_a_printable_request_id_up_to_64_characters_is_kept(client):
    sent = "req-" + "A1b2~!#$%&'*+.^_`|" + "z" * 42
    assert len(sent) == 64
    assert client.get("/api/users/area", headers={"X-Request-Id": sent}).headers["x-request-id"] == sent


def test_an_exception_message_cannot_forge_a_line_either(platform):
    log = logging.getLogger("studyhub.test")
    try:
        raise ValueError(f"bad input\n{FORGED}")
    except ValueError:
        log.exception("front door error %s %s", "GET", f"/x\n{FORGED}")
    lines = log_lines(platform)
    assert all(RECORD_START.match(line) for line in lines)
    assert not any(line.startswith(FORGED) for line in lines)
    assert any(line.startswith("    ValueError: bad input\\nINFO") for line in lines)


@pytest.mark.parametrize("breaker", LINE_BREAKERS, ids=[f"U+{ord(b[0]):04X}" for b in LINE_BREAKERS])
def test_escape_leaves_no_line_break_for_any_reader(breaker):
    from studyhub.core.logs import escape

    escaped = escape(f"a{breaker}{FORGED}")
    assert escaped.splitlines() == [escaped] and "\x1b" not in escape("\x1b")


@pytest.fixture
def json_log(platform, monkeypatch, tmp_path):
    from studyhub.core import config
    from studyhub.core.logs import setup_logging

    path = tmp_path / "studyhub.jsonl"
    monkeypatch.setenv("LOG_FORMAT", "json")
    monkeypatch.setenv("LOG_FILE", str(path))
    config.reset()
    setup_logging(force=True)
    yield path
    monkeypatch.undo()
    config.reset()
    setup_logging(force=True)


def test_json_lines_stay_one_record_per_line(client, json_log):
    for encoded in ("%0a", "%c2%85", "%e2%80%a8", "%e2%80%a9"):
        client.get(captcha_path(f"x{encoded}{FORGED.replace(' ', '%20')}"), headers={"Accept": "*/*"})
    lines = json_log.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]  # every line is one whole record
    paths = [r["path"] for r in records if r.get("path", "").startswith("/api/users/image/verification/x")]
    assert len(paths) == 4 and all(FORGED in p for p in paths)
