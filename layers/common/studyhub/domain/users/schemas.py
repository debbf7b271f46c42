"""Request bodies of the users group (pydantic): what may be sent, and its limits."""

from __future__ import annotations

from pydantic import Field, StrictBool

from studyhub.domain.schema import Body, Id
from studyhub.domain.users.passwords import GivenPassword, NewPassword
from studyhub.domain.users.usernames import NewUsername

MOBILE_PATTERN = r"^1[3-9]\d{9}$"


class UserCreate(Body):
    username: NewUsername
    password: NewPassword
    email: str = Field(default="", max_length=254, pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$")
    first_name: str = Field(default="", max_length=150)
    groups: list[Id] = Field(default_factory=list)
    is_superuser: StrictBool = False


class UserUpdate(Body):
    email: str | None = Field(default=None, max_length=254, pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$")
    first_name: str | None = Field(default=None, max_length=150)
    groups: list[Id] | None = None
    is_active: StrictBool | None = None
    is_superuser: StrictBool | None = None


class PasswordChange(Body):
    old_password: GivenPassword
    new_password: NewPassword


class AddressIn(Body):
    province: Id
    city: Id
    district: Id
    place: str = Field(min_length=1, max_length=200)
    receiver: str = Field(min_length=1, max_length=30)
    mobile: str = Field(pattern=MOBILE_PATTERN)


class AddressPatch(Body):
    province: Id | None = None
    city: Id | None = None
    district: Id | None = None
    place: str | None = Field(default=None, min_length=1, max_length=200)
    receiver: str | None = Field(default=None, min_length=1, max_length=30)
    mobile: str | None = Field(default=None, pattern=MOBILE_PATTERN)
