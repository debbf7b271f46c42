"""Request bodies of the work group (pydantic): what may be sent, and its limits."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema

from studyhub.domain.schema import WHOLE_NUMBER, Body, Id, Public, exact_decimal, no_bool, not_null

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
    subject: str | None = Field(default=None, min_length=1, max_length=SUBJECT_MAX, json_schema_extra=not_null)
    type: TopicType | None = Field(default=None, json_schema_extra=not_null)
    score: Score | None = None
    description: str | None = Field(default=None, max_length=LONG_TEXT)
    answer: str | None = Field(default=None, max_length=LONG_TEXT)
    label: Id | None = Field(default=None, json_schema_extra=not_null)


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


# --- homework, exams and practice (API.md §9) ------------------------------------------------

# A positive decimal with at most one place (JSON number or string); scores answer as numbers.
SCORE_TEXT = r"^0*[0-9]{1,4}(\.[0-9])?$"  # "5", "2.5", "9999.9": no sign, exponent or spaces
POSITIVE_SCORE_TEXT = r"^(?!0*\.?0*$)0*[0-9]{1,4}(\.[0-9])?$"  # ... and not zero
ItemScoreIn = Annotated[
    Decimal,
    exact_decimal(1, POSITIVE_SCORE_TEXT),
    Field(gt=0, le=Decimal("9999.9"), decimal_places=1, allow_inf_nan=False),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0, "maximum": 9999.9, "multipleOf": 0.1},
                {"type": "string", "pattern": POSITIVE_SCORE_TEXT},
            ]
        }
    ),
]
MarkScore = Annotated[
    Decimal,
    exact_decimal(1, SCORE_TEXT),
    Field(ge=0, le=Decimal("9999.9"), decimal_places=1, allow_inf_nan=False),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": 9999.9, "multipleOf": 0.1},
                {"type": "string", "pattern": SCORE_TEXT},
            ]
        }
    ),
]


def _iso_text(value: Any) -> Any:
    """A time is ISO 8601 text, as documented: pydantic would also read a number as a Unix time."""
    if not isinstance(value, (str, datetime)):
        raise ValueError("请填写 ISO 8601 格式的时间。")
    return value


IsoTime = Annotated[datetime, BeforeValidator(_iso_text)]
AnswerText = Annotated[str | None, Field(default=None, max_length=LONG_TEXT)]
AssignmentKind = Literal["homework", "exam"]
Reveal = Literal["after_submit", "after_end", "never"]
MAX_PAPER_ITEMS = 200


class PaperItemIn(Body):
    topic: Id
    score: ItemScoreIn | None = Field(default=None, description="省略时取题目自身的分值")


class PaperIn(Body):
    title: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=LONG_TEXT)
    items: list[PaperItemIn] = Field(min_length=1, max_length=MAX_PAPER_ITEMS)


class PaperPatch(Body):
    title: str | None = Field(default=None, min_length=1, max_length=100, json_schema_extra=not_null)
    description: str | None = Field(default=None, max_length=LONG_TEXT)
    items: list[PaperItemIn] | None = Field(
        default=None, min_length=1, max_length=MAX_PAPER_ITEMS, json_schema_extra=not_null
    )


class AssignmentIn(Body):
    paper: Id
    title: str | None = Field(default=None, min_length=1, max_length=100, description="省略时取试卷标题")
    kind: AssignmentKind
    classes: list[Id] = Field(min_length=1, max_length=100)
    start_time: IsoTime
    end_time: IsoTime
    time_limit_minutes: Annotated[int, Field(ge=1, le=10080), WHOLE_NUMBER] | None = Field(
        default=None, description="仅考试可设"
    )
    reveal: Reveal | None = Field(default=None, description="省略时：作业 after_submit，考试 after_end")


class AssignmentPatch(Body):
    paper: Id | None = Field(default=None, json_schema_extra=not_null)
    title: str | None = Field(default=None, min_length=1, max_length=100, json_schema_extra=not_null)
    kind: AssignmentKind | None = Field(default=None, json_schema_extra=not_null)
    classes: list[Id] | None = Field(default=None, min_length=1, max_length=100, json_schema_extra=not_null)
    start_time: IsoTime | None = Field(default=None, json_schema_extra=not_null)
    end_time: IsoTime | None = Field(default=None, json_schema_extra=not_null)
    time_limit_minutes: Annotated[int, Field(ge=1, le=10080), WHOLE_NUMBER] | None = None
    reveal: Reveal | None = Field(default=None, json_schema_extra=not_null)


class AnswerIn(Body):
    topic: Id
    answer: AnswerText


class AnswersIn(Body):
    answers: list[AnswerIn] = Field(max_length=MAX_PAPER_ITEMS)


class SubmitIn(Body):
    answers: list[AnswerIn] | None = Field(default=None, max_length=MAX_PAPER_ITEMS)


class MarkIn(Body):
    topic: Id
    score: MarkScore
    comment: str | None = Field(default=None, max_length=LONG_TEXT)


class MarksIn(Body):
    marks: list[MarkIn] = Field(min_length=1, max_length=MAX_PAPER_ITEMS)


class PracticeIn(Body):
    answer: AnswerText


class PracticeQuery(Body):
    size: int | None = Field(default=None, ge=1, description="默认 10；超过 50 按 50 返回")


class AssignmentFilters(Body):
    kind: AssignmentKind | None = None


class PaperTopicPublic(Public):
    id: int
    subject: str
    type: int = Field(ge=0, le=4)
    score: float | None
    description: str | None
    answer: str | None = Field(default=None, description="仅老师可见")


class PaperItemPublic(Public):
    topic: PaperTopicPublic
    score: float


class PaperPublic(Public):
    id: int
    title: str
    description: str | None
    items: list[PaperItemPublic]
    total_score: float
    user: int
    create_time: datetime
    update_time: datetime


class AssignmentPublic(Public):
    id: int
    paper: int
    title: str
    kind: AssignmentKind
    classes: list[int]
    start_time: datetime
    end_time: datetime
    time_limit_minutes: int | None
    reveal: Reveal
    user: int
    create_time: datetime


class AssignmentPaperPublic(Public):
    assignment: int
    title: str
    kind: AssignmentKind
    total_score: float
    items: list[PaperItemPublic]


class AttemptPublic(Public):
    started_at: datetime
    deadline: datetime
    status: Literal["in_progress", "submitted"]
    answers: list[dict[str, Any]] = Field(description="草稿中的答案 [{topic, answer}]")
    submission: int | None = Field(description="交卷后的提交 id")


class SubmissionItemPublic(Public):
    topic: PaperTopicPublic
    full_score: float
    answer: str | None
    score: float
    correct: bool | None = Field(default=None, description="按 reveal 规则对学生隐藏（字段不存在）")
    comment: str | None
    key: str | None = Field(default=None, description="题目答案；按 reveal 规则对学生隐藏（字段不存在）")


class SubmissionPublic(Public):
    id: int
    assignment: int
    student: int
    status: Literal["submitted", "graded"]
    score: float
    total_score: float
    submitted_at: datetime
    items: list[SubmissionItemPublic]


class RosterRowPublic(Public):
    student: int
    username: str
    status: Literal["not_started", "in_progress", "submitted", "graded"]
    score: float | None
    submission: int | None
    submitted_at: datetime | None


class ItemStatsPublic(Public):
    topic: int
    answered: int
    correct_rate: float
    mean_score: float | None


class StatsPublic(Public):
    students: int
    submitted: int
    graded: int
    mean: float | None
    median: float | None
    max: float | None
    min: float | None
    distribution: list[int] = Field(min_length=10, max_length=10, description="得分率 [0,10%) … [90%,100%] 的人数")
    items: list[ItemStatsPublic]


class MistakePublic(Public):
    topic: TopicPublic
    my_answer: str | None
    wrong_count: int
    last_wrong_at: datetime
    next_review_at: datetime


class PracticeTopicPublic(TopicPublic):
    reason: Literal["review", "similar"]


class PracticeResultPublic(Public):
    correct: bool | None
    score_ratio: float | None
    answer: str | None
