"""The error tree and its JSON form: the one place errors become responses.

    StudyHubError                    {"detail": ..., "code": ...}
     ├── Invalid              400    + "errors": {field: [messages]}
     ├── Unauthorized         401
     ├── Forbidden            403
     ├── NotFound             404
     ├── MethodNotAllowed     405
     ├── Conflict             409
     ├── PayloadTooLarge      413
     ├── UnsupportedMediaType 415
     ├── RateLimited          429    + Retry-After header
     └── Unavailable          503    a backing service can't be reached (named in detail)

Business code raises these; the route binder (``studyhub.http.binder``) renders them. Driver errors that
mean "can't reach it" are turned into ``Unavailable`` by the client modules or the binder.
"""

from __future__ import annotations

from typing import Any


class StudyHubError(Exception):
    status = 500
    code = "server_error"
    detail = "服务器内部错误"

    def __init__(self, detail: str | None = None, *, code: str | None = None) -> None:
        self.detail = detail or type(self).detail
        self.code = code or type(self).code
        super().__init__(self.detail)

    def body(self) -> dict[str, Any]:
        return {"detail": self.detail, "code": self.code}

    def headers(self) -> dict[str, str]:
        return {}

    #: When set, the error is answered as this plain text instead of JSON: for callers that
    #: aren't JSON clients (Alipay's webhook expects ``failure``).
    text: str | None = None


class Invalid(StudyHubError):
    status = 400
    code = "invalid"
    detail = "请求参数有误"

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        errors: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(detail, code=code)
        self.errors = errors

    @classmethod
    def field(cls, name: str, message: str, *, code: str | None = None) -> Invalid:
        return cls(message, code=code, errors={name: [message]})

    def body(self) -> dict[str, Any]:
        body = super().body()
        if self.errors:
            body["errors"] = self.errors
        return body


class Unauthorized(StudyHubError):
    status = 401
    code = "not_authenticated"
    detail = "身份认证信息未提供或已失效"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}  # RFC 6750: the scheme the client should use


class Forbidden(StudyHubError):
    status = 403
    code = "permission_denied"
    detail = "您没有执行该操作的权限"


class NotFound(StudyHubError):
    status = 404
    code = "not_found"
    detail = "未找到"


class MethodNotAllowed(StudyHubError):
    status = 405
    code = "method_not_allowed"
    detail = "方法不被允许"


class Conflict(StudyHubError):
    status = 409
    code = "conflict"
    detail = "状态冲突"


class PayloadTooLarge(StudyHubError):
    status = 413
    code = "payload_too_large"
    detail = "请求体过大"


class UnsupportedMediaType(StudyHubError):
    status = 415
    code = "unsupported_media_type"
    detail = "不支持的媒体类型"


class RateLimited(StudyHubError):
    status = 429
    code = "rate_limited"
    detail = "请求过于频繁，请稍后再试"

    def __init__(self, detail: str | None = None, *, retry_after: int = 60, code: str | None = None):
        super().__init__(detail, code=code)
        self.retry_after = max(1, int(retry_after))

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class Unavailable(StudyHubError):
    status = 503
    code = "service_unavailable"

    SERVICE_NAMES = {
        "database": "数据库",
        "cache": "缓存",
        "search": "搜索",
        "storage": "文件存储",
        "queue": "任务队列",
        "payment": "支付",
        "meta": "接口文档",  # the meta function (/api/, /api/openapi.json, /api/docs)
    }

    def __init__(self, service: str, detail: str | None = None) -> None:
        self.service = service
        name = self.SERVICE_NAMES.get(service, service)
        super().__init__(detail or f"{name}服务暂不可用（{service}），请稍后再试")
