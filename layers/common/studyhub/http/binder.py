"""The route binder every function goes through: one transaction model, typed path parameters,
the error tree rendered as the contract's JSON, one log line per request.

A route declares how it runs:

- ``db=False``: no database session (health, pure reads of the cache);
- ``db=True`` (default): one session, opened on first use, committed when the view returns and
  rolled back when it raises;
- ``retry=True``: the whole view runs in a transaction retried on deadlock / Galera certification
  conflict (MySQL 1213/1205) and run once more after a duplicate key (a concurrent request inserted
  the row this one wanted: running again finds it); each attempt gets a fresh session and reads the
  caller again. Retries used up are ``503``.

Rules take the session and never commit. Chalice middleware sees finished responses, not
exceptions, so errors are mapped here, where views are registered — and only here.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Callable
from contextlib import ExitStack
from functools import wraps
from typing import Any

from chalice import Response

from studyhub.core import errors
from studyhub.core.logs import safe_request_id
from studyhub.http.app import StudyHubApp
from studyhub.http.params import check_single_values, path_id
from studyhub.http.request import Req
from studyhub.http.responses import error_response, json_response, to_response
from studyhub.http.routedoc import Operation, RouteDoc
from studyhub.http.text_input import check_params

log = logging.getLogger("studyhub.request")

# Chalice's own 415 check is switched off (``*/*``): the binder answers in the contract's JSON.
ANY_CONTENT = ["*/*"]
BUSY = "系统繁忙，请稍后重试"

View = Callable[..., Any]


def map_backend_error(error: BaseException) -> errors.StudyHubError | None:
    """Driver errors meaning "can't reach it" → 503, wherever they were raised."""
    module = type(error).__module__
    if module.startswith("sqlalchemy"):
        from studyhub.core.db import is_unreachable

        if is_unreachable(error):
            return errors.Unavailable("database")
    if module.startswith("redis"):
        return errors.Unavailable("cache")
    name = type(error).__name__
    if module.startswith(("botocore", "urllib3")) and ("Connect" in name or "Timeout" in name):
        return errors.Unavailable("storage")
    if module.startswith("elastic_transport"):  # connection refused, timed out
        return errors.Unavailable("search")
    return None


def _request_deadline() -> Any:
    """Every backend wait of one request ends within ``BACKEND_TIMEOUT_SECONDS`` of its start."""
    from studyhub.core import deadline
    from studyhub.core.config import get_settings

    return deadline.running(get_settings().backend_timeout_seconds)


def _id_params(view: View, path: str) -> set[str]:
    """The path parameters the view annotates as ``int``: parsed by the one id rule."""
    names = set()
    for name, param in inspect.signature(view).parameters.items():
        if "{" + name + "}" in path and param.annotation in (int, "int"):
            names.add(name)
    return names


class Api:
    """Registers routes on a group's Chalice app through the shared binder."""

    def __init__(self, app: StudyHubApp, group: str) -> None:
        self.app = app
        self.group = group

    def route(
        self, path: str, methods: list[str] | None = None, *, db: bool = True, retry: bool = False, **contract: Any
    ) -> Callable[[View], View]:
        """``contract``: what the route promises (``RouteDoc``'s fields), for the OpenAPI document only."""
        methods = methods or ["GET"]

        def decorator(view: View) -> View:
            ids = _id_params(view, path)
            doc = RouteDoc.of(view, contract)
            self.app.openapi_operations.append(Operation(path, tuple(methods), view.__name__, frozenset(ids), doc))

            @wraps(view)
            def handler(**params: Any) -> Response:
                with _request_deadline():
                    return self.dispatch(view, params, ids=ids, db=db, retry=retry)

            self.app.route(path, methods=methods, content_types=ANY_CONTENT)(handler)
            return view

        return decorator

    # running a view ---------------------------------------------------------------------------
    def dispatch(self, view: View, params: dict[str, Any], *, ids: set[str], db: bool, retry: bool) -> Response:
        request = self.app.current_request
        request_id = safe_request_id(request.headers.get("x-request-id"))  # echoed and logged: bounded
        started = time.perf_counter()
        req = Req(request, request_id)
        try:
            params = {k: path_id(v) if k in ids else v for k, v in params.items()}
            check_params({k: v for k, v in params.items() if k not in ids})  # no NUL, no lone surrogate
            check_params(req.query)
            check_single_values(request.query_params)
            if not db:
                response = to_response(view(req, **params))
            elif retry:
                response = self._run_retried(view, req, params)
            else:
                response = self._run_once(view, req, params)
        except errors.StudyHubError as error:
            response = error_response(error, request_id)
        except Exception as error:  # noqa: BLE001 - the one place that turns anything into JSON
            mapped = map_backend_error(error)
            if mapped is None:
                log.exception("unhandled error id=%s %s %s", request_id, request.method, request.path)
                mapped = errors.StudyHubError()
            else:
                log.warning("backend unavailable id=%s: %s", request_id, type(error).__name__)
            response = error_response(mapped, request_id)
        response.headers["X-Request-Id"] = request_id
        log.info(
            "request",
            extra={
                "request_id": request_id,
                "method": request.method,
                "path": req.public_path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "user_id": req.user_id,
                "function": self.group,
            },
        )
        return response

    @staticmethod
    def _run_once(view: View, req: Req, params: dict[str, Any]) -> Response:
        from studyhub.core.db import transaction_scope

        with ExitStack() as stack:
            req.use_transaction(lambda: stack.enter_context(transaction_scope()))
            return to_response(view(req, **params))

    @staticmethod
    def _run_retried(view: View, req: Req, params: dict[str, Any]) -> Response:
        from sqlalchemy.exc import DBAPIError, IntegrityError

        from studyhub.core.db import is_retryable, run_in_transaction

        def attempt(session: Any) -> Response:
            req.use_session(lambda: session)
            return to_response(view(req, **params))

        try:
            try:
                return run_in_transaction(attempt)
            except IntegrityError:
                return run_in_transaction(attempt)
        except DBAPIError as error:
            if is_retryable(error):
                raise errors.Unavailable("database", BUSY) from error
            raise

    # health -----------------------------------------------------------------------------------
    def health(
        self, checks: dict[str, Callable[[], None]] | None = None, *, prefix: str | None = None, backends: bool = True
    ) -> None:
        """``GET /<group>/health`` (``prefix``: another one): database and cache (unless ``backends``
        is false: a function that uses neither), plus the group's own checks."""
        group = self.group
        defaults = {"database": _check_database, "cache": _check_cache} if backends else {}
        all_checks = {**defaults, **(checks or {})}
        path = f"/{group}/health" if prefix is None else f"{prefix}/health"

        @self.route(path, db=False, auth="none", response="HealthPublic", summary="健康检查", errors=(503,))
        def health(_req: Req) -> Response:
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
    """The group's app and the binder its routes register through."""
    from studyhub.core.logs import setup_logging

    setup_logging()
    app = StudyHubApp(app_name=f"studyhub-{group}")
    return app, Api(app, group)


def _check_database() -> None:
    # Core on the engine: a cold function's health check doesn't import the ORM
    from studyhub.core.db import ping

    ping()


def _check_cache() -> None:
    from studyhub.clients.cache import get_cache

    get_cache().ping()
