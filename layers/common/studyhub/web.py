"""The route binder every function goes through: request parsing, auth, one DB session per
request, the error tree rendered as the contract's JSON, one log line per request.

Chalice middleware sees finished responses, not exceptions, so errors are mapped here, where
views are registered. ``app.current_request`` is kept per thread: the local runtime serves
requests on several threads and Chalice stores the request on the app object.
"""
from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, urlencode

from chalice import Chalice, Response

from . import errors
from .config import get_settings

if TYPE_CHECKING:
    from pydantic import BaseModel
    from sqlalchemy.orm import Session

    from .models.users import User

log = logging.getLogger("studyhub.request")
M = TypeVar("M", bound="BaseModel")

PUBLIC_PREFIX = "/api"
JSON_TYPE = "application/json; charset=utf-8"
# Binary on API Gateway both ways: responses (captcha, media) and request bodies (uploads).
BINARY_TYPES = [
    "image/png", "image/jpeg", "image/gif", "image/webp", "application/octet-stream",
    "multipart/form-data",
]
# Chalice's own 415 check is switched off (``*/*``): the binder answers in the contract's JSON.
ANY_CONTENT = ["*/*"]


class StudyHubApp(Chalice):
    """A Chalice app whose per-request state lives in a thread-local, not on the shared app."""

    _local: threading.local

    def __init__(self, app_name: str, **kwargs: Any) -> None:
        object.__setattr__(self, "_local", threading.local())
        super().__init__(app_name, **kwargs)
        self.api.binary_types = list(BINARY_TYPES)

    @property  # type: ignore[override]
    def current_request(self):
        return getattr(self._local, "request", None)

    @current_request.setter
    def current_request(self, value) -> None:
        self._local.request = value

    @property  # type: ignore[override]
    def lambda_context(self):
        return getattr(self._local, "context", None)

    @lambda_context.setter
    def lambda_context(self, value) -> None:
        self._local.context = value


# --- JSON ----------------------------------------------------------------------------------

def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False, default=_default, separators=(",", ":"))


_zone = None


def isoformat(value: datetime | None) -> str | None:
    """Aware datetimes shown in ``TIME_ZONE`` with their offset, to the second."""
    global _zone
    if value is None:
        return None
    if _zone is None:
        from zoneinfo import ZoneInfo

        _zone = ZoneInfo(get_settings().time_zone)
    return value.astimezone(_zone).replace(microsecond=0).isoformat()


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=dumps(body),
        status_code=status,
        headers={"Content-Type": JSON_TYPE, **(headers or {})},
    )


def error_response(error: errors.StudyHubError, request_id: str | None = None) -> Response:
    headers = dict(error.headers())
    if request_id:
        headers["X-Request-Id"] = request_id
    return json_response(error.body(), error.status, headers)


class Created:
    def __init__(self, body: Any) -> None:
        self.body = body


class NoContent:
    pass


# --- the request as route code sees it -----------------------------------------------------

class Req:
    """What a view gets: the parsed request, the caller (lazily authenticated), a session."""

    def __init__(self, request, request_id: str, session_factory: Callable[[], "Session"]):
        self.raw = request
        self.request_id = request_id
        self._session_factory = session_factory
        self._session: Session | None = None
        self._user: User | None = None
        self._json: Any = None
        self.user_id: int | None = None

    @property
    def method(self) -> str:
        return self.raw.method

    @property
    def headers(self):
        return self.raw.headers

    @property
    def query(self) -> dict[str, str]:
        return dict(self.raw.query_params or {})

    @property
    def public_path(self) -> str:
        """The path the client called, under ``/api`` (for pagination links)."""
        path = self.raw.to_original_event().get("path") or self.raw.path
        if not path.startswith(PUBLIC_PREFIX + "/"):
            path = PUBLIC_PREFIX + path
        return path.rstrip("/") or "/"

    @property
    def session(self) -> "Session":
        if self._session is None:
            self._session = self._session_factory()
        return self._session

    # auth ------------------------------------------------------------------------------
    @property
    def user(self) -> "User":
        """The authenticated caller; 401 when there is none."""
        user = self.optional_user
        if user is None:
            raise errors.Unauthorized()
        return user

    @property
    def optional_user(self) -> "User | None":
        if self._user is None:
            from .auth import token_from_header, user_from_token

            token = token_from_header(self.headers.get("authorization"))
            if token is None:
                return None
            self._user = user_from_token(self.session, token)
            self.user_id = self._user.id
        return self._user

    # bodies ----------------------------------------------------------------------------
    @property
    def content_type(self) -> str:
        return (self.headers.get("content-type") or "").split(";")[0].strip().lower()

    def body_bytes(self) -> bytes:
        body = self.raw.raw_body or b""
        if len(body) > get_settings().max_body_bytes:
            raise errors.PayloadTooLarge()
        return body

    def json(self) -> dict[str, Any]:
        if self._json is None:
            raw = self.body_bytes()
            if not raw.strip():
                self._json = {}
            elif self.content_type not in ("application/json", ""):
                if self.content_type == "application/x-www-form-urlencoded":
                    self._json = dict(parse_qsl(raw.decode("utf-8", "replace")))
                else:
                    raise errors.UnsupportedMediaType(f"不支持的媒体类型：{self.content_type}")
            else:
                try:
                    self._json = json.loads(raw)
                except ValueError:
                    raise errors.Invalid("JSON 格式错误", code="parse_error") from None
            if not isinstance(self._json, dict):
                raise errors.Invalid("请求体必须是 JSON 对象", code="parse_error")
        return self._json

    def parse(self, model: type[M]) -> M:
        """Validate the JSON body with a pydantic model; errors become the contract's 400.

        Partial updates (PATCH) use models whose fields are optional and read
        ``model_fields_set`` to know what was sent.
        """
        return validate(model, self.json())

    def form(self) -> tuple[dict[str, str], dict[str, "UploadedFile"]]:
        """Parse a ``multipart/form-data`` body (Chalice has no multipart parser)."""
        from .uploads import parse_multipart

        if self.content_type != "multipart/form-data":
            raise errors.UnsupportedMediaType("请使用 multipart/form-data 上传")
        return parse_multipart(self.headers.get("content-type", ""), self.body_bytes())


class UploadedFile:
    def __init__(self, filename: str | None, content_type: str | None, data: bytes) -> None:
        self.filename = filename
        self.content_type = content_type
        self.data = data


# --- validation ------------------------------------------------------------------------------

_MESSAGES = {
    "missing": "该字段是必填项。",
    "string_type": "请输入字符串。",
    "int_type": "请填写合法的整数值。",
    "int_parsing": "请填写合法的整数值。",
    "bool_type": "请输入合法的布尔值。",
    "bool_parsing": "请输入合法的布尔值。",
    "list_type": "请输入列表。",
    "string_too_short": "该字段不能为空。",
    "string_too_long": "长度超出限制。",
    "string_pattern_mismatch": "格式不正确。",
    "value_error": "值不合法。",
    "greater_than_equal": "数值过小。",
    "less_than_equal": "数值过大。",
    "decimal_parsing": "请填写合法的数字。",
    "enum": "不是合法的选项。",
    "literal_error": "不是合法的选项。",
}


def validate(model: type[M], data: Any) -> M:
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as error:
        field_errors: dict[str, list[str]] = {}
        for item in error.errors():
            loc = [str(p) for p in item["loc"]]
            name = loc[0] if loc else "non_field_errors"
            message = item.get("ctx", {}).get("message") if item["type"] == "value_error" else None
            field_errors.setdefault(name, []).append(
                str(message or _MESSAGES.get(item["type"], item["msg"]))
            )
        raise errors.Invalid("请求参数有误", code="invalid", errors=field_errors) from None


# --- pagination ------------------------------------------------------------------------------

def _positive_int(query: dict[str, str], name: str, default: int, *, allow_zero: bool = False) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise errors.Invalid.field(name, "请填写合法的整数值。", code="invalid_pagination") from None
    if value < 0 or (value == 0 and not allow_zero):
        raise errors.Invalid.field(name, "必须是正整数。", code="invalid_pagination")
    return value


def int_param(query: dict[str, str], name: str, *, low: int | None = None, high: int | None = None) -> int | None:
    """An integer filter from the query string (``?label=3``); absent → None, bad → 400."""
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise errors.Invalid.field(name, "请填写合法的整数值。", code="invalid_filter") from None
    if (low is not None and value < low) or (high is not None and value > high):
        message = f"必须是 {low} 到 {high} 之间的整数。" if high is not None else "不是合法的选项。"
        raise errors.Invalid.field(name, message, code="invalid_filter")
    return value


def page_window(req: Req, *, default_size: int = 10, max_size: int = 100) -> tuple[int, int, str]:
    """``(offset, limit, style)`` from ``page``/``size`` or ``limit``/``offset``."""
    query = req.query
    if "limit" in query or "offset" in query:
        limit = min(_positive_int(query, "limit", default_size), max_size)
        offset = _positive_int(query, "offset", 0, allow_zero=True)
        return offset, limit, "limit"
    size = min(_positive_int(query, "size", default_size), max_size)
    page = _positive_int(query, "page", 1)
    return (page - 1) * size, size, "page"


def page_links(req: Req, offset: int, limit: int, style: str, count: int) -> tuple[str | None, str | None]:
    query = req.query

    def link(new_offset: int) -> str:
        params = dict(query)
        if style == "limit":
            params["limit"] = str(limit)
            params["offset"] = str(new_offset)
            if new_offset == 0:
                params.pop("offset")  # as DRF does for the first page
        else:
            params["page"] = str(new_offset // limit + 1)
            if new_offset == 0:
                params.pop("page")
        qs = urlencode(params)
        return req.public_path + ("?" + qs if qs else "")

    nxt = link(offset + limit) if offset + limit < count else None
    prev = link(max(0, offset - limit)) if offset > 0 else None
    return nxt, prev


def paginate(req: Req, stmt, serialize: Callable[[list], list[dict]]) -> dict[str, Any]:
    """Run ``stmt`` (a ``select()`` of ORM rows) one page at a time; the contract's list shape.

    ``serialize`` gets the whole page, so it can batch-load related rows in a fixed number of
    queries instead of one per row.
    """
    from sqlalchemy import func, select

    offset, limit, style = page_window(req)
    session = req.session
    count = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = list(session.scalars(stmt.offset(offset).limit(limit)).unique()) if count else []
    nxt, prev = page_links(req, offset, limit, style, count or 0)
    return {"count": count or 0, "next": nxt, "previous": prev, "results": serialize(rows)}


# --- the binder ------------------------------------------------------------------------------

def _to_response(result: Any) -> Response:
    if isinstance(result, Response):
        return result
    if isinstance(result, Created):
        return json_response(result.body, 201)
    if isinstance(result, NoContent):
        return Response(body="", status_code=204, headers={})
    return json_response(result)


def _map_backend_error(error: BaseException) -> errors.StudyHubError | None:
    """Driver errors meaning "can't reach it" → 503, wherever they were raised."""
    module = type(error).__module__
    if module.startswith("sqlalchemy"):
        from .db import is_unreachable

        if is_unreachable(error):
            return errors.Unavailable("database")
    if module.startswith("redis"):
        return errors.Unavailable("cache")
    if module.startswith(("botocore", "urllib3")) and "Connect" in type(error).__name__:
        return errors.Unavailable("storage")
    return None


class Api:
    """Registers routes on a group's Chalice app through the shared binder."""

    def __init__(self, app: StudyHubApp, group: str) -> None:
        self.app = app
        self.group = group

    def route(
        self,
        path: str,
        methods: list[str] | None = None,
        *,
        db: bool = True,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        methods = methods or ["GET"]

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            @wraps(view)
            def handler(**params: Any) -> Response:
                return self.dispatch(view, params, db=db)

            self.app.route(path, methods=methods, content_types=ANY_CONTENT)(handler)
            return view

        return decorator

    def dispatch(self, view: Callable[..., Any], params: dict[str, Any], *, db: bool) -> Response:
        from contextlib import ExitStack

        request = self.app.current_request
        request_id = (request.headers.get("x-request-id") or uuid.uuid4().hex)[:64]
        started = time.perf_counter()
        req = Req(request, request_id, lambda: None)  # type: ignore[arg-type]
        status = 500
        try:
            with ExitStack() as stack:
                if db:
                    from .db import session_scope

                    req._session_factory = lambda: stack.enter_context(session_scope())
                result = view(req, **params)
                response = _to_response(result)
            status = response.status_code
        except errors.StudyHubError as error:
            response = error_response(error, request_id)
            status = error.status
        except Exception as error:  # noqa: BLE001 - the one place that turns anything into JSON
            mapped = _map_backend_error(error)
            if mapped is None:
                log.exception("unhandled error id=%s %s %s", request_id, request.method, request.path)
                mapped = errors.StudyHubError()
            else:
                log.warning("backend unavailable id=%s: %s", request_id, type(error).__name__)
            response = error_response(mapped, request_id)
            status = mapped.status
        response.headers["X-Request-Id"] = request_id
        log.info(
            "request",
            extra={
                "request_id": request_id,
                "method": request.method,
                "path": req.public_path,
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "user_id": req.user_id,
                "function": self.group,
            },
        )
        return response

    def health(self, checks: dict[str, Callable[[], None]] | None = None) -> None:
        """``GET /<group>/health``: database and cache by default, plus the group's own checks."""
        group = self.group

        def check_database() -> None:
            from sqlalchemy import text

            from .db import session_scope

            with session_scope() as session:
                session.execute(text("SELECT 1"))

        def check_cache() -> None:
            from .cache import get_cache

            get_cache().ping()

        all_checks = {"database": check_database, "cache": check_cache, **(checks or {})}

        @self.route(f"/{group}/health", db=False)
        def health(req: Req):
            results: dict[str, str] = {}
            for name, check in all_checks.items():
                try:
                    check()
                    results[name] = "ok"
                except Exception as error:  # noqa: BLE001 - a failing check is reported, not raised
                    results[name] = "unavailable"
                    log.warning("health check %s failed: %s", name, type(error).__name__)
            ok = all(v == "ok" for v in results.values())
            body = {"status": "ok" if ok else "unavailable", "function": group, "checks": results}
            return json_response(body, 200 if ok else 503)


def create_app(group: str) -> tuple[StudyHubApp, Api]:
    from .logs import setup_logging

    setup_logging()
    app = StudyHubApp(app_name=f"studyhub-{group}")
    return app, Api(app, group)
