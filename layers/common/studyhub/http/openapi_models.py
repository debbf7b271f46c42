"""The shapes every group shares on the wire, as pydantic models for the OpenAPI document: the
error body, the paginated list, the pagination parameters, health and discovery.

Documentation only: the binder builds these answers as dicts (``responses.py``, ``pagination.py``).
"""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class ErrorBody(BaseModel):
    """Every error: a message for people (Chinese), a stable code for programs, and for a ``400``
    the message(s) of each field that was wrong."""

    model_config = ConfigDict(defer_build=True)

    detail: str = Field(examples=["请求参数有误"])
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$", examples=["invalid"])
    errors: dict[str, list[str]] | None = Field(default=None, examples=[{"username": ["该字段是必填项。"]}])


class Page(BaseModel, Generic[T]):
    """A list endpoint's answer: ``next``/``previous`` are paths under ``/api`` keeping the query."""

    model_config = ConfigDict(defer_build=True)

    count: int = Field(ge=0)
    next: str | None = Field(examples=["/api/work/labels?page=2"])
    previous: str | None
    results: list[T]


class PageQuery(BaseModel):
    """``page``/``size`` or ``limit``/``offset`` (not both styles); ``page × size`` and
    ``offset + limit`` may not pass 10,000 (``400 invalid_pagination``)."""

    model_config = ConfigDict(defer_build=True)

    page: int | None = Field(default=None, ge=1, le=10_000, description="页码，从 1 开始")
    size: int | None = Field(default=None, ge=1, description="每页条数，默认 10；超过 100 按 100 返回")
    limit: int | None = Field(default=None, ge=1, description="条数，默认 10；超过 100 按 100 返回")
    offset: int | None = Field(default=None, ge=0, le=9_999, description="跳过的条数")


class HealthPublic(BaseModel):
    model_config = ConfigDict(defer_build=True)

    status: str = Field(pattern="^(ok|unavailable)$")
    function: str
    checks: dict[str, str] = Field(examples=[{"database": "ok", "cache": "ok"}])


class DiscoveryPublic(BaseModel):
    """``GET /api/``: what this server is and where its reference lives."""

    model_config = ConfigDict(defer_build=True)

    name: str = Field(examples=["StudyHub"])
    version: str
    groups: list[str]
    openapi: str = Field(examples=["/api/openapi.json"])
    docs: str = Field(examples=["/api/docs"])
