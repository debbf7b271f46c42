"""Request bodies of the school group (pydantic): what may be sent, and its limits."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from studyhub.domain.schema import Body, Id, Public
from studyhub.domain.users.schemas import UserPublic
from studyhub.domain.users.usernames import NewUsername

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
# A TEXT column holds 65,535 bytes on MySQL: 5,000 characters fit even at 4 bytes each (utf8mb4).
SLOGAN_MAX = 5000
# Ids of one request go into one IN (...) query: SQLite binds at most 32,766 parameters.
MEMBERS_MAX = 2000


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
    email: str = Field(max_length=254, pattern=EMAIL_PATTERN)
    classes: Id
    first_name: str = Field(default="", max_length=150)


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
    """A student in the teachers' list: the User JSON plus its classes."""

    classes: list[int]


class StudentCreated(Public):
    id: int
    username: str
    email: str
    first_name: str
    classes: int


class StudentFilters(Body):
    classes: Id | None = Field(default=None, description="班级 id")
