"""A group's Chalice app: per-request state kept per thread, binary types for uploads and images."""

from __future__ import annotations

import gc
import threading
from typing import Any

from chalice import Chalice
from chalice.app import RestAPIEventHandler

from studyhub.core.logs import safe_request_id
from studyhub.http import snapstart
from studyhub.http.response_headers import for_request, merge, preflight

# Binary on API Gateway both ways: responses (captcha, media) and request bodies (uploads).
BINARY_TYPES = [
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/octet-stream",
    "multipart/form-data",
]


class StudyHubApp(Chalice):
    """A Chalice app whose per-request state lives in a thread-local, not on the shared app.

    Chalice keeps ``current_request`` on the app object; the local runtime serves requests on
    several threads, so each thread needs its own.
    """

    _local: threading.local

    def __init__(self, app_name: str, *, schemas: str | tuple[str, ...] = (), **kwargs: Any) -> None:
        object.__setattr__(self, "_local", threading.local())
        super().__init__(app_name, **kwargs)
        self.openapi_operations: list[Any] = []  # studyhub.http.routedoc.Operation, one per api.route
        # The modules whose models the routes name by a string ("studyhub.domain.work.schemas"),
        # in lookup order: resolved by the OpenAPI generator, never imported here (routedoc).
        self.schemas: tuple[str, ...] = (schemas,) if isinstance(schemas, str) else tuple(schemas)
        self.api.binary_types = list(BINARY_TYPES)
        snapstart.install(self)  # on Lambda with SnapStart only: preload before, re-seed after

    @property
    def current_request(self) -> Any:
        return getattr(self._local, "request", None)

    @current_request.setter
    def current_request(self, value: Any) -> None:
        self._local.request = value

    @property
    def lambda_context(self) -> Any:
        return getattr(self._local, "context", None)

    @lambda_context.setter
    def lambda_context(self, value: Any) -> None:
        self._local.context = value

    def __call__(self, event: Any, context: Any) -> dict[str, Any]:
        """Chalice's own entry point, with the handler below in place of ``RestAPIEventHandler``."""
        self.lambda_context = context
        handler = _RestHandler(
            self.routes, self.api, self.log, self.debug, middleware_handlers=self._get_middleware_handlers("http")
        )
        self.current_request = handler.create_request_object(event, context)
        request_headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        if event.get("httpMethod") == "OPTIONS":
            # A preflight (API Gateway sends OPTIONS here: infra/aws/package.py): answered from
            # the route's methods, so CORS works in Lambda as on every other front door.
            methods = list(self.routes.get(event.get("resource") or "", {}))
            request_id = safe_request_id(request_headers.get("x-request-id"))
            headers = {**preflight(request_headers, methods), "X-Request-Id": request_id}
            result: dict[str, Any] = {"statusCode": 204, "headers": headers, "body": ""}
        else:
            result = handler(event, context)
        result["headers"] = dict(merge((result.get("headers") or {}).items(), for_request(request_headers)))
        _freeze_once()
        return result


_frozen = False


def _freeze_once() -> None:
    """After the first answer what the function needs is imported (its routes' modules load on first
    use, core.lazy): ``gc.freeze()`` parks it outside the collector (O(1)), so no later collection,
    nor the interpreter's shutdown, walks it. Under SnapStart the snapshot is frozen already."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()


class _RestHandler(RestAPIEventHandler):
    """Chalice refuses a binary answer (the PNG captcha) unless ``Accept`` names a binary type,
    with its own ``{"Code", "Message"}`` 400 and no Content-Type. The contract serves the PNG
    whatever the ``Accept`` (an ``<img>``, a bare ``curl``), and its errors are the binder's JSON:
    every answer a view gave stands."""

    def _validate_binary_response(self, request_headers: Any, response_headers: Any) -> bool:
        return True
