"""Role and owner checks every group's rules share (API.md §1 Roles)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from studyhub.core.errors import Forbidden

if TYPE_CHECKING:
    from studyhub.models.users import User


def require_teacher(user: User) -> None:
    if not user.is_teacher_or_superuser:
        raise Forbidden("仅老师或管理员可执行该操作")


def require_superuser(user: User) -> None:
    if not user.is_superuser:
        raise Forbidden("仅管理员可执行该操作")


def require_owner_or_superuser(user: User, owner_id: int) -> None:
    """For rows everyone may read but only the owner may change: others get 403."""
    if user.id != owner_id and not user.is_superuser:
        raise Forbidden("您没有修改权限")
