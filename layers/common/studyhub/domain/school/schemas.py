"""Request bodies of the school group (pydantic): what may be sent, and its limits."""

from __future__ import annotations

from pydantic import Field

from studyhub.domain.schema import Body, Id
from studyhub.domain.users.usernames import NewUsername

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class ClassIn(Body):
    name: str = Field(min_length=1, max_length=30)
    slogan: str | None = None
    member: list[Id] | None = None


class ClassPatch(Body):
    name: str | None = Field(default=None, min_length=1, max_length=30)
    slogan: str | None = None
    member: list[Id] | None = None


class StudentIn(Body):
    username: NewUsername
    email: str = Field(max_length=254, pattern=EMAIL_PATTERN)
    classes: Id
    first_name: str = Field(default="", max_length=150)
