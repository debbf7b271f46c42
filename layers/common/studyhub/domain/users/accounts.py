"""User rules shared by several functions (users, school): rendering, creating, loading."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from studyhub.core import errors
from studyhub.core.security import hash_password
from studyhub.core.times import isoformat
from studyhub.domain.users.passwords import check_new_password
from studyhub.domain.users.usernames import USERNAME_TAKEN, check_new_username, username_taken
from studyhub.models.users import Group, User


def avatar_url(key: str | None) -> str | None:
    if not key:
        return None
    from studyhub.clients.storage import get_storage

    return get_storage().url(key)


def serialize_user(user: User) -> dict[str, Any]:
    """API.md §2 User JSON; the password hash never leaves."""
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "is_superuser": user.is_superuser,
        "is_active": user.is_active,
        "groups": user.group_ids,
        "avatar": avatar_url(user.avatar),
        "date_joined": isoformat(user.date_joined),
        "last_login": isoformat(user.last_login),
    }


def load_groups(session: Session, ids: list[int]) -> list[Group]:
    ids = sorted(set(ids))
    groups = list(session.scalars(select(Group).where(Group.id.in_(ids)))) if ids else []
    missing = set(ids) - {g.id for g in groups}
    if missing:
        raise errors.Invalid.field("groups", f"无效的分组：{sorted(missing)}")
    return groups


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    email: str = "",
    first_name: str = "",
    group_ids: list[int] | None = None,
    is_superuser: bool = False,
) -> User:
    """Every way an account is created comes here: the name's form, the password's length, and
    the name's canonical form not taken (checked first, and by the unique index for a race)."""
    check_new_username(username)
    check_new_password(password)
    if username_taken(session, username):
        raise errors.Invalid.field("username", USERNAME_TAKEN, code="username_taken")
    user = User(
        username=username,
        password=hash_password(password),
        email=email,
        first_name=first_name,
        is_superuser=is_superuser,
        groups=load_groups(session, group_ids or []),
    )
    try:
        with session.begin_nested():  # only this insert is undone if another request took the name
            session.add(user)
    except IntegrityError:
        raise errors.Invalid.field("username", USERNAME_TAKEN, code="username_taken") from None
    return user


def get_active_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise errors.NotFound()
    return user
