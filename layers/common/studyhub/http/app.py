"""A group's Chalice app: per-request state kept per thread, binary types for uploads and images."""

from __future__ import annotations

import threading
from typing import Any

from chalice import Chalice

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

    def __init__(self, app_name: str, **kwargs: Any) -> None:
        object.__setattr__(self, "_local", threading.local())
        super().__init__(app_name, **kwargs)
        self.openapi_operations: list[Any] = []  # studyhub.http.routedoc.Operation, one per api.route
        self.api.binary_types = list(BINARY_TYPES)

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
