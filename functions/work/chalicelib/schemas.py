"""Request bodies of the work group (pydantic): what may be sent, and its limits."""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _no_bool(value):
    # JSON true/false are not topic types or ids (pydantic's lax mode would read them as 1/0)
    if isinstance(value, bool):
        raise ValueError("请填写合法的整数值。")
    return value


# TEXT columns hold 65,535 bytes on MySQL: 16,000 characters of 4-byte utf8mb4 always fit.
LONG_TEXT = 16000
SUBJECT_MAX = 5000

TopicType = Annotated[int, BeforeValidator(_no_bool), Field(ge=0, le=4)]
Id = Annotated[int, BeforeValidator(_no_bool), Field(ge=1)]
Score = Annotated[float, BeforeValidator(_no_bool), Field(ge=0, le=10000, allow_inf_nan=False)]


class Body(BaseModel):
    # defer_build: schemas are built on first use, not at import (cold start)
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, defer_build=True)


class LabelIn(Body):
    name: str = Field(min_length=1, max_length=100)


class TopicIn(Body):
    subject: str = Field(min_length=1, max_length=SUBJECT_MAX)
    type: TopicType
    score: Score | None = None
    description: str | None = Field(default=None, max_length=LONG_TEXT)
    answer: str | None = Field(default=None, max_length=LONG_TEXT)
    label: Id


class TopicPatch(Body):
    subject: str | None = Field(default=None, min_length=1, max_length=SUBJECT_MAX)
    type: TopicType | None = None
    score: Score | None = None
    description: str | None = Field(default=None, max_length=LONG_TEXT)
    answer: str | None = Field(default=None, max_length=LONG_TEXT)
    label: Id | None = None
