"""The embedded front door: one WSGI app that publishes every function under ``/api``.

``/api/<group>/...`` goes to that group's function (the same path without ``/api`` works too,
as Nginx forwards it); a trailing slash is tolerated; media files are served under
``/api/media/``; the function whose prefix is empty (meta: ``/api/``, ``/api/openapi.json``,
``/api/docs``) gets every other path and answers what it doesn't serve with the contract's JSON
404. Bodies over the limit are 413. A browser's GET of any other path is the web console
(``console/dist``, ``local/console.py``): ``/`` and deep links get its ``index.html``.
"""

from __future__ import annotations

import logging
import time
from http import HTTPStatus
from pathlib import Path

from studyhub.core.config import get_settings
from studyhub.core.errors import NotFound, PayloadTooLarge, StudyHubError
from studyhub.core.logs import safe_request_id
from studyhub.core.routing import load_routing
from studyhub.http.response_headers import for_request, merge

from .console import CONSOLE_DIST, ConsoleFiles, api_segments
from .gateway import FunctionGateway, GatewayResponse, error
from .loader import load_app

log = logging.getLogger("studyhub.frontdoor")
MEDIA_PREFIX = "/media/"
MEDIA_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif"}


class FrontDoor:
    def __init__(self, functions: list[str] | None = None, console_root: Path = CONSOLE_DIST) -> None:
        routing = load_routing()
        names = functions or list(routing.functions)
        self.prefix = routing.prefix
        self.console = ConsoleFiles(console_root, api_segments(routing))
        self.gateways: dict[str, FunctionGateway] = {}
        for name in names:
            self.gateways[routing.functions[name].prefix.strip("/")] = FunctionGateway(name, load_app(name))

    def route(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes, source_ip: str = "127.0.0.1"
    ) -> GatewayResponse:
        if self.console.owns(method, path, headers.get("Accept", "")):
            page = self.console.serve(path, headers.get("Accept-Encoding", ""))
            return page or error(NotFound("文件不存在", code="not_found"))
        if path.startswith(self.prefix + "/") or path == self.prefix:
            path = path[len(self.prefix) :] or "/"
        if len(path) > 1 and path.endswith("/"):
            path = path.rstrip("/")
        if path.startswith(MEDIA_PREFIX) and method in ("GET", "HEAD"):
            return self.media(path[len(MEDIA_PREFIX) :], method)
        group = path.split("/", 2)[1] if path.count("/") >= 1 else ""
        # the function with the empty prefix (meta) serves the root of /api and answers the rest
        gateway = self.gateways.get(group) or self.gateways.get("")
        if gateway is None:
            return error(NotFound("接口不存在", code="not_found"))
        return gateway.handle(method, path, query, headers, body, source_ip)

    def media(self, key: str, method: str) -> GatewayResponse:
        from studyhub.clients.storage import check_key, get_storage

        try:
            data = get_storage().open(check_key(key))  # a NUL or ".." names no file: 404, whatever the store
        except StudyHubError as err:
            return error(err)
        mime = MEDIA_TYPES.get(key.rsplit(".", 1)[-1].lower(), "application/octet-stream")
        headers = [
            ("Content-Type", mime),
            ("Cache-Control", "public, max-age=86400"),
            ("X-Content-Type-Options", "nosniff"),
        ]
        return GatewayResponse(200, headers, data)

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        method = environ["REQUEST_METHOD"].upper()
        path = environ.get("PATH_INFO") or "/"
        try:
            path = path.encode("latin-1").decode("utf-8")  # PEP 3333 hands bytes as latin-1
        except UnicodeError:
            pass
        query = environ.get("QUERY_STRING", "")
        headers = {
            key[5:].replace("_", "-").title(): value for key, value in environ.items() if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        headers["X-Request-Id"] = safe_request_id(headers.get("X-Request-Id"))  # echoed and logged: bounded
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > get_settings().max_body_bytes:
            response = error(PayloadTooLarge())
        else:
            body = environ["wsgi.input"].read(length) if length else b""
            try:
                response = self.route(method, path, query, headers, body, environ.get("REMOTE_ADDR") or "")
            except Exception:  # noqa: BLE001 - the front door must answer JSON whatever happens
                log.exception("front door error %s %s", method, path)
                response = error(StudyHubError())
        status_line = f"{response.status} {HTTPStatus(response.status).phrase}"
        # every answer, the front door's own (404, 413, media) included: nosniff, CORS, no-store
        out = merge(response.headers, for_request({k.lower(): v for k, v in headers.items()}))
        names = {k.lower() for k, _ in out}
        if "x-request-id" not in names:
            out.append(("X-Request-Id", headers["X-Request-Id"]))
        out.append(("Content-Length", str(len(response.body))))  # HEAD: the length GET would send
        start_response(status_line, out)
        log.debug("%s %s -> %s in %.1f ms", method, path, response.status, (time.perf_counter() - started) * 1000)
        return [b"" if method == "HEAD" else response.body]
