"""Request bodies of the school group (pydantic): what may be sent, and its limits."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from studyhub.domain.schema import Body, Id, Public, no_bool, not_null
from studyhub.domain.users.schemas import UserPublic
from studyhub.domain.users.usernames import NewUsername

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
# A TEXT column holds 65,535 bytes on MySQL: 5,000 characters fit even at 4 bytes each (utf8mb4).
SLOGAN_MAX = 5000
# Ids of one request go into one IN (...) query: SQLite binds at most 32,766 parameters.
MEMBERS_MAX = 2000
# A student is in a handful of classes; the list is replaced as a whole.
STUDENT_CLASSES_MAX = 50

# The original's student profile (API.md §3): age 1-120, sex 0 女 / 1 男; never a JSON true/false.
Age = Annotated[int, Field(ge=1, le=120, description="年龄（1–120）"), BeforeValidator(no_bool)]
Sex = Annotated[Literal[0, 1], Field(description="性别：0 女，1 男"), BeforeValidator(no_bool)]
Email = Annotated[str, Field(max_length=254, pattern=EMAIL_PATTERN)]
FirstName = Annotated[str, Field(max_length=150)]


class ClassIn(Body):
    name: str = Field(min_length=1, max_length=30)
    slogan: str | None = Field(default=None, max_length=SLOGAN_MAX)
    member: list[Id] | None = Field(default=None, max_length=MEMBERS_MAX)


class ClassPatch(Body):
    name: str | None = Field(default=None, min_length=1, max_length=30)
    slogan: str | None = Field(default=None, max_length=SLOGAN_MAX)
    member: list[Id] | None = Field(default=None, max_length=MEMBERS_MAX)


class StudentIn(Body):
    username: NewUsername
    email: Email
    classes: Id
    first_name: FirstName = ""
    age: Age | None = None
    sex: Sex | None = None


class RosterRow(Body):
    """One row of an imported roster: the rules of one registration, the class from the URL."""

    username: NewUsername
    email: Email
    first_name: FirstName = ""
    age: Age | None = None
    sex: Sex | None = None


class StudentUpdate(Body):
    """PUT: the whole editable profile (the username is the student's login: not changed here)."""

    email: Email
    first_name: FirstName = ""
    age: Age | None = None
    sex: Sex | None = None
    classes: list[Id] = Field(max_length=STUDENT_CLASSES_MAX, description="所在班级（整体替换）")


class StudentPatch(Body):
    """PATCH: what is sent changes (``model_fields_set``); ``age``/``sex`` may be set to null."""

    email: Email | None = Field(default=None, json_schema_extra=not_null)
    first_name: FirstName | None = Field(default=None, json_schema_extra=not_null)
    age: Age | None = None
    sex: Sex | None = None
    classes: list[Id] | None = Field(
        default=None, max_length=STUDENT_CLASSES_MAX, description="所在班级（整体替换）", json_schema_extra=not_null
    )


# --- responses (API.md §3; what classes/students serialize) ----------------------------------


class MemberDetailPublic(Public):
    teachers: list[UserPublic]
    students: list[UserPublic]


class ClassPublic(Public):
    id: int
    name: str
    slogan: str | None
    member: list[int]
    memberDetail: MemberDetailPublic  # noqa: N815 - the original's field name
    create_time: datetime
    update_time: datetime


class StudentPublic(UserPublic):
    """A student in the teachers' list: the User JSON plus its classes and profile."""

    classes: list[int]
    age: int | None
    sex: Literal[0, 1] | None


class StudentCreated(Public):
    id: int
    username: str
    email: str
    first_name: str
    classes: int
    age: int | None
    sex: Literal[0, 1] | None


class StudentDetail(Public):
    """One student (``/school/students/{id}``)."""

    id: int
    username: str
    email: str
    first_name: str
    age: int | None
    sex: Literal[0, 1] | None
    classes: list[int]
    is_active: bool


class RosterImported(Public):
    created: int = Field(description="新建的学生人数")


class StudentFilters(Body):
    classes: Id | None = Field(default=None, description="班级 id")
