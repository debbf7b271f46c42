"""Request bodies of the users group (pydantic): what may be sent, and its limits."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, StrictBool

from studyhub.domain.schema import Body, Id, Public
from studyhub.domain.users.passwords import GivenPassword, NewPassword
from studyhub.domain.users.usernames import NewUsername

MOBILE_PATTERN = r"^1[3-9]\d{9}$"
GROUPS_MAX = 20  # there are two groups; a bounded list never becomes a huge IN (...) query


class UserCreate(Body):
    username: NewUsername
    password: NewPassword
    email: str = Field(default="", max_length=254, pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$")
    first_name: str = Field(default="", max_length=150)
    groups: list[Id] = Field(default_factory=list, max_length=GROUPS_MAX)
    is_superuser: StrictBool = False


class UserUpdate(Body):
    email: str | None = Field(default=None, max_length=254, pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$")
    first_name: str | None = Field(default=None, max_length=150)
    groups: list[Id] | None = Field(default=None, max_length=GROUPS_MAX)
    is_active: StrictBool | None = None
    is_superuser: StrictBool | None = None


class PasswordChange(Body):
    """Self: both; a superuser setting another user's password: ``new_password`` alone."""

    old_password: GivenPassword | None = None
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


# --- responses (API.md §2; what accounts/addresses/areas/login serialize) -------------------


class LoginIn(Body):
    """``POST /users/login``: the captcha (``uuid`` of the image fetched, ``verify`` its text) and
    the credentials. Missing captcha → ``captcha_required``."""

    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=128)
    uuid: str = Field(min_length=1, max_length=64)
    verify: str = Field(min_length=1, max_length=16)


class LoginResult(Public):
    token: str
    id: int
    username: str
    avatar: str | None


class UserPublic(Public):
    id: int
    username: str
    email: str
    first_name: str
    is_superuser: bool
    is_active: bool
    groups: list[int]
    avatar: str | None
    date_joined: datetime
    last_login: datetime | None


class AreaPublic(Public):
    id: int
    name: str


class AreaDetailPublic(Public):
    id: int
    name: str
    parent: int | None
    subs: list[AreaPublic]


class AddressPublic(Public):
    id: int
    user: int
    province: int
    city: int
    district: int
    province_name: str
    city_name: str
    district_name: str
    place: str
    receiver: str
    mobile: str
    create_time: datetime
    update_time: datetime


class UserFilters(Body):
    groups: Id | None = Field(default=None, description="分组 id：1 老师，2 学生")
    search: str | None = Field(default=None, max_length=150, description="用户名包含")
    is_active: bool | None = Field(default=None, description="false：已停用的用户（仅超级用户）")


class TokenPublic(Public):
    token: str


class MessagePublic(Public):
    detail: str
