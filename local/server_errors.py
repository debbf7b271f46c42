"""The errors the HTTP server answers itself (before the application sees the request), in the
contract's JSON: malformed request line or headers 400, headers too large 431, body too large 413,
unknown transfer coding 501, and a 500 when the application failed before answering."""

from __future__ import annotations

import uuid
from http import HTTPStatus

from waitress.task import ErrorTask

from studyhub.core.errors import Invalid, PayloadTooLarge, StudyHubError
from studyhub.http.responses import dumps


def contract_error(status: int) -> StudyHubError:
    """The contract's error for a status the server answers itself."""
    if status == 413:
        return PayloadTooLarge()
    if status == 431:
        return Invalid("请求头过大", code="headers_too_large")
    if status == 501:
        return StudyHubError("不支持的传输编码", code="not_implemented")
    if 400 <= status < 500:
        return Invalid("请求格式错误", code="bad_request")
    return StudyHubError()


class JsonErrorTask(ErrorTask):
    """waitress's error answer (plain text) in the contract's JSON; the connection closes after it."""

    def execute(self) -> None:
        status = int(self.request.error.code)
        error = contract_error(status)
        body = dumps(error.body()).encode()
        self.status = f"{status} {HTTPStatus(status).phrase}"
        self.response_headers.extend(
            [
                ("Content-Type", "application/json; charset=utf-8"),
                ("X-Content-Type-Options", "nosniff"),
                ("X-Request-Id", uuid.uuid4().hex),
            ]
        )
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)
