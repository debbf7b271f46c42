"""The fuzz suite (issue 11, "make it stay fixed"): property-based requests over every operation of
the served ``/api/openapi.json`` (schemathesis's generators, valid and invalid data alike) as an
anonymous caller, a student and a superuser, plus the hostile inputs of issue 11 finding 4 sent on
purpose, against a real ``studyhub serve`` on both stacks. Every answer:

- is not a 5xx (a ``503`` would only be right with a backend down, and none is here);
- comes within ``SLOWEST_ALLOWED`` seconds;
- is in the contract's error shape when it is an error: JSON ``{detail, code, errors?}``, except
  the Alipay webhook's text/plain ``failure``;

and the server answers its health checks afterwards. Figures (requests sent, 5xx, slowest answer)
go to ``bench/results/hardening.json`` under ``fuzz``.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from conftest import report
from hardening_results import record
from served_platform import DEMO_STUDENT, DEMO_SUPERUSER, serve_platform

pytestmark = [pytest.mark.slow, pytest.mark.fuzz]

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3"))  # per operation, caller and mode (valid, invalid)
SLOWEST_ALLOWED = 5.0
CALLERS = ("anonymous", "student", "superuser")
WEBHOOK = "POST /shopping/payments/notify"
CODE = re.compile(r"^[a-z][a-z0-9_]*$")
BEYOND_2_64 = str(2**64 + 1)
GROUPS = ("users", "school", "work", "community", "shopping")


@pytest.fixture(scope="module", params=["embedded", "mysql"])
def live(request, tmp_path_factory):
    with serve_platform(request.param, tmp_path_factory.mktemp(f"fuzz-{request.param}")) as platform:
        yield platform


# --- what every answer must be ------------------------------------------------------------------


def shape_problem(label: str, status: int, content_type: str, body: bytes) -> str | None:
    """Why an answer breaks the contract's error shape, or None."""
    if status < 400:
        return None
    if label == WEBHOOK and content_type.startswith("text/plain") and body == b"failure":
        return None
    if not content_type.startswith("application/json"):
        return f"{status} with Content-Type {content_type!r}"
    try:
        error = json.loads(body)
    except ValueError:
        return f"{status} with a body that isn't JSON: {body[:80]!r}"
    if not isinstance(error, dict) or not isinstance(error.get("detail"), str) or not error["detail"]:
        return f"{status} without a detail: {body[:200]!r}"
    if not isinstance(error.get("code"), str) or not CODE.match(error["code"]):
        return f"{status} without a snake_case code: {body[:200]!r}"
    errors = error.get("errors")
    if errors is not None and not (
        isinstance(errors, dict)
        and all(isinstance(v, list) and all(isinstance(m, str) for m in v) for v in errors.values())
    ):
        return f"{status} with an errors map of the wrong shape: {body[:200]!r}"
    return None


@dataclass
class Tally:
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    slowest: float = 0.0
    slowest_request: str = ""
    problems: list[str] = field(default_factory=list)
    nothing_to_generate: list[str] = field(default_factory=list)

    def add(self, what: str, label: str, status: int, seconds: float, content_type: str, body: bytes) -> None:
        self.requests += 1
        self.statuses[status] += 1
        if seconds > self.slowest:
            self.slowest, self.slowest_request = seconds, what
        if status >= 500:
            self.problems.append(f"{what}: {status} {body[:200]!r}")
        elif seconds > SLOWEST_ALLOWED:
            self.problems.append(f"{what}: answered in {seconds:.1f} s")
        else:
            problem = shape_problem(label, status, content_type, body)
            if problem:
                self.problems.append(f"{what}: {problem}")

    def send(self, http: httpx.Client, label: str, method: str, url: str, **kwargs: Any) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = http.request(method, url, timeout=SLOWEST_ALLOWED + 5, **kwargs)
        except httpx.HTTPError as error:
            self.requests += 1
            self.problems.append(f"{method} {url[:200]}: no answer ({type(error).__name__})")
            return None
        elapsed = time.perf_counter() - started
        content_type = response.headers.get("content-type", "")
        self.add(f"{method} {url[:200]}", label, response.status_code, elapsed, content_type, response.content)
        return response


# --- callers ------------------------------------------------------------------------------------


class Callers:
    """A token per role, replaced when the fuzzing logged it out, demoted or deleted its user."""

    replacements = itertools.count(1)

    def __init__(self, live) -> None:
        self.live = live
        self.tokens: dict[str, str] = {}
        self.names = {"student": DEMO_STUDENT, "superuser": DEMO_SUPERUSER}

    def _valid(self, role: str) -> bool:
        token = self.tokens.get(role)
        if token is None:
            return False
        payload = token.split(".")[1]
        user_id = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"]
        me = httpx.get(f"{self.live.api}/users/users/{user_id}", headers={"Authorization": f"Bearer {token}"})
        return me.status_code == 200 and (role != "superuser" or me.json().get("is_superuser") is True)

    def headers(self, caller: str) -> dict[str, str]:
        if caller == "anonymous":
            return {}
        if not self._valid(caller):
            try:
                self.tokens[caller] = self.live.token(self.names[caller])
            except AssertionError:  # deactivated or deleted by the superuser's fuzzing: a new one
                self.names[caller] = self._new_user(caller)
                self.tokens[caller] = self.live.token(self.names[caller])
            if not self._valid(caller):  # still the name, no longer the role (demoted)
                self.names[caller] = self._new_user(caller)
                self.tokens[caller] = self.live.token(self.names[caller])
        return {"Authorization": f"Bearer {self.tokens[caller]}"}

    def _new_user(self, role: str) -> str:
        name = f"fuzz_{role}_{next(self.replacements)}"
        password = "fuzz-suite-pass-1"
        self.live.cli("createsuperuser", "--username", name, "--password", password)
        if role == "student":  # a superuser made a student: its groups set to 学生, superuser off
            token = self.live.token(name)
            user_id = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))["sub"]
            demoted = httpx.patch(
                f"{self.live.api}/users/users/{user_id}",
                json={"groups": [2], "is_superuser": False},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert demoted.status_code == 200, demoted.text
        return name


# --- generated requests -------------------------------------------------------------------------


def fuzz_operation(operation, mode, headers: dict[str, str], base_url: str, tally: Tally) -> None:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis.errors import Unsatisfiable

    @settings(
        max_examples=EXAMPLES,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def send(case) -> None:
        case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        case.headers.update(headers)
        started = time.perf_counter()
        try:
            response = case.call(base_url=base_url, timeout=SLOWEST_ALLOWED + 5)
        except Exception as error:  # noqa: BLE001 - a dropped connection is a finding, not a crash of the suite
            tally.requests += 1
            tally.problems.append(f"{operation.label}: no answer ({type(error).__name__}: {error})"[:300])
            return
        elapsed = time.perf_counter() - started
        content_type = (response.headers.get("content-type") or [""])[0]
        what = f"{operation.label} {case.path_parameters or ''} {case.query or ''}"[:300]
        tally.add(what, operation.label, response.status_code, elapsed, content_type, response.content)

    try:
        send()
    except Unsatisfiable:  # no invalid request exists for an operation without inputs (GET /api/)
        tally.nothing_to_generate.append(f"{operation.label} {mode.name.lower()}")


def test_generated_requests_on_every_operation_never_5xx_hang_or_leave_the_error_shape(live):
    import schemathesis
    from schemathesis import GenerationMode

    schema = schemathesis.openapi.from_url(f"{live.api}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    callers = Callers(live)
    tally = Tally()
    started = time.monotonic()
    for caller, operation, mode in itertools.product(
        CALLERS, operations, (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    ):
        fuzz_operation(operation, mode, callers.headers(caller), live.api, tally)
    seconds = time.monotonic() - started
    alive = live.alive() and all(
        httpx.get(f"{live.api}/{group}/health", timeout=10).status_code == 200 for group in GROUPS
    )
    figures = {
        "operations": len(operations),
        "callers": list(CALLERS),
        "requests_sent": tally.requests,
        "status_5xx": sum(n for status, n in tally.statuses.items() if status >= 500),
        "slowest_answer_ms": round(tally.slowest * 1000, 1),
        "slowest_request": tally.slowest_request,
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "problems": len(tally.problems),
        "without_invalid_inputs": len(set(tally.nothing_to_generate)),
        "seconds": round(seconds, 1),
        "server_alive_after": alive,
    }
    report(f"fuzz [{live.stack}] generated: {figures}")
    record("fuzz", {f"{live.stack}_generated": figures})
    assert not tally.problems, "\n".join(tally.problems[:40])
    assert alive, "the server stopped answering its health checks"


# --- the hostile inputs of issue 11 finding 4, on purpose ---------------------------------------


def nested_json(levels: int) -> bytes:
    return b'{"a":' * levels + b"1" + b"}" * levels


def json_routes(document: dict[str, Any]):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            content = (operation.get("requestBody") or {}).get("content", {})
            if "application/json" in content:
                yield method.upper(), path, operation


def list_routes(document: dict[str, Any]):
    for path, item in document["paths"].items():
        operation = item.get("get")
        names = {p["name"] for p in (operation or {}).get("parameters", [])}
        if {"page", "offset"} <= names:
            yield path, operation


def concrete(path: str) -> str:
    """A path template with its parameters filled (1 for ids, a fixed value otherwise)."""
    return re.sub(r"\{[^}]+\}", "1", path)


def test_hostile_inputs_answer_400_in_the_error_shape_and_the_server_stays_up(live):
    document = httpx.get(f"{live.api}/openapi.json").json()
    callers = Callers(live)
    tally = Tally()
    json_type = {"Content-Type": "application/json"}
    with httpx.Client(base_url=live.api) as http:
        # JSON nested 1,000 levels on every JSON route, as a student; the login anonymously too.
        deep = nested_json(1000)
        refused_deep = []
        for method, path, operation in json_routes(document):
            label = f"{method} {path}"
            headers = {**json_type, **(callers.headers("student") if operation.get("security") else {})}
            answer = tally.send(http, label, method, concrete(path), content=deep, headers=headers)
            if answer is not None and answer.status_code == 400:
                refused_deep.append(label)
        login = tally.send(http, "POST /users/login", "POST", "/users/login", content=deep, headers=json_type)
        assert login is not None and login.status_code == 400, login and login.text
        # A lone surrogate in the login's username and uuid: JSON escapes a Python string can't hold.
        for name in ("username", "uuid"):
            fields = {"username": "student1", "password": "x" * 8, "uuid": "0" * 32, "verify": "abcd"}
            text = json.dumps(fields).replace(json.dumps(fields[name]), '"a\\ud800b"')
            answer = tally.send(http, "POST /users/login", "POST", "/users/login", content=text, headers=json_type)
            assert answer is not None and answer.status_code == 400, (name, answer and answer.text)
            assert name in answer.json().get("errors", {}), answer.text
        # offset/page beyond 2^64 on every list, as a superuser (who may read every list), and
        # anonymously where a list is public (commodities).
        for path, operation in list_routes(document):
            label = f"GET {path}"
            for caller in ("superuser", "anonymous") if not operation.get("security") else ("superuser",):
                for parameter in ("offset", "page"):
                    answer = tally.send(
                        http,
                        label,
                        "GET",
                        concrete(path),
                        params={parameter: BEYOND_2_64},
                        headers=callers.headers(caller),
                    )
                    assert answer is not None and answer.status_code in (400, 404), (label, parameter, answer)
        # NUL in a media path, a query parameter and a body string.
        for media in ("/media/avatars/a%00b.png", "/media/%00", "/media/commodities/x.png%00.txt"):
            answer = tally.send(http, "GET /media", "GET", media)
            assert answer is not None and answer.status_code in (400, 404), (media, answer and answer.text)
        answer = tally.send(
            http, "GET /shopping/commodities", "GET", "/shopping/commodities", params={"search": "a\x00b"}
        )
        assert answer is not None and answer.status_code == 400, answer and answer.text
        body = json.dumps({"title": "a\x00b", "content": "正文"})
        answer = tally.send(
            http,
            "POST /community/articles",
            "POST",
            "/community/articles",
            content=body,
            headers={**json_type, **callers.headers("student")},
        )
        assert answer is not None and answer.status_code == 400, answer and answer.text
    alive = live.alive()
    figures = {
        "requests_sent": tally.requests,
        "json_routes_refusing_1000_levels": len(refused_deep),
        "status_5xx": sum(n for status, n in tally.statuses.items() if status >= 500),
        "slowest_answer_ms": round(tally.slowest * 1000, 1),
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "server_alive_after": alive,
    }
    report(f"fuzz [{live.stack}] hostile: {figures}")
    record("fuzz", {f"{live.stack}_hostile": figures})
    assert not tally.problems, "\n".join(tally.problems[:40])
    assert alive, "the server stopped answering its health checks"
