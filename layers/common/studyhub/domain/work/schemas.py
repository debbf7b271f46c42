"""Request bodies of the work group (pydantic): what may be sent, and its limits."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field

from studyhub.domain.schema import Body, Id, no_bool

# TEXT columns hold 65,535 bytes on MySQL: 16,000 characters of 4-byte utf8mb4 always fit.
LONG_TEXT = 16000
SUBJECT_MAX = 5000

TopicType = Annotated[int, BeforeValidator(no_bool), Field(ge=0, le=4)]
Score = Annotated[float, BeforeValidator(no_bool), Field(ge=0, le=10000, allow_inf_nan=False)]


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
