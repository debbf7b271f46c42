"""Role and owner checks every group's rules share (API.md §1 Roles), and ``Caller``: what a rule
may read of the one calling."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from studyhub.core.errors import Forbidden


class Caller(Protocol):
    """The authenticated caller as rules read it, never to be changed through it.

    Requests give a light read-only record (``http/auth.py``'s ``SignedIn``: no ORM row, no
    groups relationship); jobs, commands and tests may pass a ``User`` row. A rule that changes
    the caller's own account (profile, password, avatar) loads the row itself with
    ``session.get(User, caller.id)``.
    """

    @property
    def id(self) -> int: ...
    @property
    def username(self) -> str: ...
    @property
    def is_superuser(self) -> bool: ...
    @property
    def is_active(self) -> bool: ...
    @property
    def is_teacher(self) -> bool: ...
    @property
    def is_student(self) -> bool: ...
    @property
    def is_teacher_or_superuser(self) -> bool: ...
    @property
    def tokens_valid_after(self) -> datetime | None: ...


def require_teacher(user: Caller) -> None:
    if not user.is_teacher_or_superuser:
        raise Forbidden("仅老师或管理员可执行该操作")


def require_superuser(user: Caller) -> None:
    if not user.is_superuser:
        raise Forbidden("仅管理员可执行该操作")


def require_owner_or_superuser(user: Caller, owner_id: int) -> None:
    """For rows everyone may read but only the owner may change: others get 403."""
    if user.id != owner_id and not user.is_superuser:
        raise Forbidden("您没有修改权限")
