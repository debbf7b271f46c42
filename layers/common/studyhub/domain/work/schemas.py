"""Request bodies of the work group (pydantic): what may be sent, and its limits."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BeforeValidator, Field

from studyhub.domain.schema import Body, Id, Public, no_bool

# TEXT columns hold 65,535 bytes on MySQL: 16,000 characters of 4-byte utf8mb4 always fit.
LONG_TEXT = 16000
SUBJECT_MAX = 5000

TopicType = Annotated[int, Field(ge=0, le=4), BeforeValidator(no_bool)]
Score = Annotated[float, Field(ge=0, le=10000, allow_inf_nan=False), BeforeValidator(no_bool)]


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


# --- responses (API.md §4; what labels/topics serialize) -------------------------------------


class LabelPublic(Public):
    id: int
    name: str
    user: int
    create_time: datetime
    update_time: datetime


class TopicPublic(Public):
    """A topic; ``answer`` is absent (not null) for a student. In search results ``subject`` is
    HTML: the text escaped, matched terms in ``<span style='color:red;'>``."""

    id: int
    subject: str
    type: int = Field(ge=0, le=4, description="0 单选，1 多选，2 判断，3 填空，4 问答")
    score: float | None
    description: str | None
    answer: str | None = Field(default=None, description="学生看不到（字段不存在）")
    label: int
    label_name: str | None
    user: int
    create_time: datetime
    update_time: datetime


class TopicFilters(Body):
    label: Id | None = Field(default=None, description="标签 id")
    type: int | None = Field(default=None, ge=0, le=4, description="题型 0-4")


class TopicSearch(Body):
    subject: str | None = Field(default=None, max_length=SUBJECT_MAX, description="搜索的文字；为空时按时间列出")
