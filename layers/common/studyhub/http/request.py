"""``Req``: what a view gets — the parsed request, the caller (authenticated on first use) and
the transaction the binder runs it in: its Core ``connection`` or its ORM ``session``, both begun
on first use (``core.db.Transaction``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl

from studyhub.core import errors
from studyhub.core.config import get_settings
from studyhub.http.validation import validate

if TYPE_CHECKING:
    from pydantic import BaseModel
    from sqlalchemy.engine import Connection
    from sqlalchemy.orm import Session

    from studyhub.core.db import Transaction
    from studyhub.http.auth import SignedIn
    from studyhub.http.uploads import UploadedFile

M = TypeVar("M", bound="BaseModel")
PUBLIC_PREFIX = "/api"


def _no_transaction() -> Transaction:
    raise RuntimeError("this route was registered with db=False")


class Req:
    """The request as a view sees it."""

    def __init__(self, request: Any, request_id: str) -> None:
        self.raw = request
        self.request_id = request_id
        self._open_transaction: Callable[[], Transaction] = _no_transaction
        self._transaction: Transaction | None = None
        self._user: SignedIn | None = None
        self._json: Any = None
        self.user_id: int | None = None

    def use_transaction(self, factory: Callable[[], Transaction]) -> None:
        """Start a new transaction's view of the request: a new transaction (``factory`` opens it
        on first use), the caller read again."""
        self._open_transaction = factory
        self._transaction = None
        self._user = None

    def use_session(self, factory: Callable[[], Session]) -> None:
        """``use_transaction`` over a session opened elsewhere (a retried attempt's, a view's own)."""
        from studyhub.core.db import Transaction

        self.use_transaction(lambda: Transaction.over(factory()))

    @property
    def method(self) -> str:
        return str(self.raw.method)

    @property
    def headers(self) -> Any:
        return self.raw.headers

    @property
    def query(self) -> dict[str, str]:
        return dict(self.raw.query_params or {})

    @property
    def public_path(self) -> str:
        """The path the client called, under ``/api`` (for pagination links)."""
        path: str = self.raw.to_original_event().get("path") or self.raw.path
        if not path.startswith(PUBLIC_PREFIX + "/"):
            path = PUBLIC_PREFIX + path
        return path.rstrip("/") or "/"

    @property
    def client_address(self) -> str:
        """Who is calling, for per-client limits: see ``http/client_address.py``."""
        from studyhub.http.client_address import client_address

        identity = (self.raw.context or {}).get("identity") or {}
        forwarded_for = self.headers.get("x-forwarded-for")
        return client_address(identity.get("sourceIp"), forwarded_for, get_settings().trusted_proxies)

    @property
    def session(self) -> Session:
        """The ORM session of the request's transaction."""
        return self._current_transaction().session

    @property
    def connection(self) -> Connection:
        """The Core connection of the request's transaction (the ORM isn't imported for it)."""
        return self._current_transaction().connection

    def _current_transaction(self) -> Transaction:
        if self._transaction is None:
            self._transaction = self._open_transaction()
        return self._transaction

    # auth ------------------------------------------------------------------------------------
    @property
    def user(self) -> SignedIn:
        """The authenticated caller, read-only (a rule changing the account loads its row); 401
        when there is none."""
        user = self.optional_user
        if user is None:
            raise errors.Unauthorized()
        return user

    @property
    def optional_user(self) -> SignedIn | None:
        if self._user is None:
            from studyhub.http.auth import token_from_header, user_from_token

            token = token_from_header(self.headers.get("authorization"))
            if token is None:
                return None
            self._user = user_from_token(lambda: self.connection, token)
            self.user_id = self._user.id
        return self._user

    # bodies ----------------------------------------------------------------------------------
    @property
    def content_type(self) -> str:
        return str(self.headers.get("content-type") or "").split(";")[0].strip().lower()

    def body_bytes(self) -> bytes:
        body: bytes = self.raw.raw_body or b""
        if len(body) > get_settings().max_body_bytes:
            raise errors.PayloadTooLarge()
        return body

    def json(self) -> dict[str, Any]:
        if self._json is None:
            from studyhub.http.text_input import check_json_depth, check_json_text

            raw = self.body_bytes()
            body: Any
            if not raw.strip():
                body = {}
            elif self.content_type not in ("application/json", ""):
                if self.content_type == "application/x-www-form-urlencoded":
                    body = dict(parse_qsl(raw.decode("utf-8", "replace")))
                elif self.content_type == "multipart/form-data":  # a form's fields, as DRF accepts them
                    body = self.form()[0]
                else:
                    raise errors.UnsupportedMediaType(f"不支持的媒体类型：{self.content_type}")
            else:
                check_json_depth(raw)  # before json.loads recurses into it
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise errors.Invalid("JSON 格式错误", code="parse_error") from None
            if not isinstance(body, dict):
                raise errors.Invalid("请求体必须是 JSON 对象", code="parse_error")
            check_json_text(body)  # keys and values: no NUL, no lone surrogate
            self._json = body
        return self._json

    def parse(self, model: type[M]) -> M:
        """Validate the JSON body with a pydantic model; errors become the contract's 400.

        Partial updates (PATCH) use models whose fields are optional and read
        ``model_fields_set`` to know what was sent.
        """
        return validate(model, self.json())

    def form_fields(self) -> dict[str, str]:
        """A form-encoded body as it came (webhooks), blank values kept."""
        return dict(parse_qsl(self.body_bytes().decode("utf-8", "replace"), keep_blank_values=True))

    def form(self) -> tuple[dict[str, str], dict[str, UploadedFile]]:
        """Parse a ``multipart/form-data`` body (Chalice has no multipart parser)."""
        from studyhub.http.uploads import parse_multipart

        if self.content_type != "multipart/form-data":
            raise errors.UnsupportedMediaType("请使用 multipart/form-data 上传")
        return parse_multipart(self.headers.get("content-type", ""), self.body_bytes())
