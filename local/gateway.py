"""What API Gateway does in front of a Lambda, for one function: match the route, build the
proxy event, call ``app(event, context)`` exactly as Lambda would, decode the response.

Unknown paths and methods answer the contract's JSON 404/405 (API Gateway's habit is 403).
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs

from chalice.local import MatchResult, RouteMatcher

from studyhub.core.errors import MethodNotAllowed, NotFound, StudyHubError
from studyhub.http.request import PUBLIC_PREFIX
from studyhub.http.responses import dumps


@dataclass
class GatewayResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def error(err: StudyHubError, extra: dict[str, str] | None = None) -> GatewayResponse:
    headers = [("Content-Type", "application/json; charset=utf-8"), *(extra or {}).items(), *err.headers().items()]
    return GatewayResponse(err.status, headers, dumps(err.body()).encode())


class LambdaContext:
    def __init__(self, function_name: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 512
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def _mime(value: str) -> str:
    return value.split(";")[0].strip().lower()


class PathMatcher(RouteMatcher):
    """Chalice's matcher reads the path through ``urlparse``, which cuts it at ``;`` and drops tabs
    and newlines: ``/orders/%3Bx`` matched ``/orders`` and ``/articles/%0A1`` matched article 1.
    API Gateway matches the decoded path as it is, segment by segment; so does this."""

    def match_route(self, url: str) -> MatchResult:
        path = url[:-1] if url != "/" and url.endswith("/") else url
        parts = path.split("/")
        for route_url in self.route_urls:
            pattern = route_url.split("/")
            if len(pattern) != len(parts):
                continue
            captured = {}
            for part, expected in zip(parts, pattern, strict=True):
                if expected.startswith("{") and expected.endswith("}"):
                    captured[expected[1:-1]] = part
                elif part != expected:
                    break
            else:
                return MatchResult(route_url, captured, {})
        raise ValueError(f"no route matches {url!r}")


class FunctionGateway:
    def __init__(self, name: str, app) -> None:
        self.name = name
        self.app = app
        self.routes = app.routes
        self.matcher = PathMatcher(list(app.routes))
        self.binary_types = {t.lower() for t in app.api.binary_types}

    def make_event(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes, source_ip: str = "127.0.0.1"
    ) -> dict:
        """``source_ip``: the socket's peer, where API Gateway puts the caller's address; the
        ``X-Forwarded-For`` header passes through (``Req.client_address`` decides whom to believe)."""
        match = self.matcher.match_route(path)  # ValueError: no route
        multi = parse_qs(query, keep_blank_values=True) if query else None
        lowered = {k.lower(): v for k, v in headers.items()}
        binary = _mime(lowered.get("content-type", "")) in self.binary_types
        return {
            "resource": match.route,
            "path": path,
            "httpMethod": method,
            "headers": lowered,
            "multiValueHeaders": {k: [v] for k, v in lowered.items()},
            "queryStringParameters": {k: v[-1] for k, v in multi.items()} if multi else None,
            "multiValueQueryStringParameters": multi or None,
            "pathParameters": match.captured or None,
            "stageVariables": None,
            "requestContext": {
                "resourcePath": match.route,
                "httpMethod": method,
                "path": PUBLIC_PREFIX + path,
                "stage": PUBLIC_PREFIX.strip("/"),
                "requestId": lowered.get("x-request-id") or str(uuid.uuid4()),
                "identity": {"sourceIp": source_ip},
            },
            "body": (base64.b64encode(body).decode() if binary else body.decode("utf-8", "replace")) if body else None,
            "isBase64Encoded": bool(body) and binary,
        }

    def handle(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes, source_ip: str = "127.0.0.1"
    ) -> GatewayResponse:
        try:
            event = self.make_event(method, path, query, headers, body, source_ip)
        except ValueError:
            return error(NotFound("接口不存在", code="not_found"))
        allowed = self.routes[event["resource"]]
        if method == "HEAD" and "GET" in allowed:
            event["httpMethod"] = event["requestContext"]["httpMethod"] = "GET"
        elif method not in allowed and method != "OPTIONS":  # OPTIONS: the app answers preflights
            return error(MethodNotAllowed(f"不支持的请求方法：{method}"), {"Allow": ", ".join(sorted(allowed))})
        result = self.app(event, LambdaContext(f"studyhub-{self.name}"))
        raw = result.get("body") or ""
        data = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode("utf-8")
        headers_out: list[tuple[str, str]] = []
        for key, value in (result.get("headers") or {}).items():
            headers_out.append((key, value))
        for key, values in (result.get("multiValueHeaders") or {}).items():
            headers_out.extend((key, v) for v in values)
        return GatewayResponse(int(result["statusCode"]), headers_out, data)
