"""Request bodies of the school group (pydantic): what may be sent, and its limits."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

USERNAME_PATTERN = r"^[\w.@+-]+$"  # Django's username rule, as the users group
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class Body(BaseModel):
    # defer_build: schemas are built on first use, not at import (cold start)
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, defer_build=True)


class ClassIn(Body):
    name: str = Field(min_length=1, max_length=30)
    slogan: str | None = None
    member: list[int] | None = None


class ClassPatch(Body):
    name: str | None = Field(default=None, min_length=1, max_length=30)
    slogan: str | None = None
    member: list[int] | None = None


class StudentIn(Body):
    username: str = Field(min_length=1, max_length=150, pattern=USERNAME_PATTERN)
    email: str = Field(max_length=254, pattern=EMAIL_PATTERN)
    classes: int
    first_name: str = Field(default="", max_length=150)
