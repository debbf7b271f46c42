"""User rules shared by several functions (users, school): rendering, creating, loading."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from studyhub.clients import caller_versions
from studyhub.core import errors
from studyhub.core.security import hash_password
from studyhub.domain.users.passwords import check_new_password
from studyhub.domain.users.user_reads import avatar_url, render_user  # noqa: F401 - avatar_url: imported from here
from studyhub.domain.users.usernames import (
    USERNAME_TAKEN,
    canonical_username,
    check_new_username,
    taken_usernames,
    username_taken,
)
from studyhub.models.base import utcnow
from studyhub.models.users import Group, User

# Every module that writes users imports this one: from here on, a changed user is read again by
# every process's caller cache (``clients/caller_versions.py``).
caller_versions.watch()

# Stored instead of a hash until an account's first password is set (``create_users``; a roster
# import leaves it to the credentials email job): no password verifies against it.
PASSWORD_NOT_SET = "!"


def serialize_user(user: User) -> dict[str, Any]:
    """API.md §2 User JSON (``user_reads.render_user``); the password hash never leaves."""
    return render_user(user, user.group_ids)


def load_groups(session: Session, ids: list[int]) -> list[Group]:
    ids = sorted(set(ids))
    groups = list(session.scalars(select(Group).where(Group.id.in_(ids)))) if ids else []
    missing = set(ids) - {g.id for g in groups}
    if missing:
        raise errors.Invalid.field("groups", f"无效的分组：{sorted(missing)}", code="invalid_group")
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
    age: int | None = None,
    sex: int | None = None,
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
        age=age,
        sex=sex,
        is_superuser=is_superuser,
        groups=load_groups(session, group_ids or []),
    )
    try:
        with session.begin_nested():  # only this insert is undone if another request took the name
            session.add(user)
    except IntegrityError:
        raise errors.Invalid.field("username", USERNAME_TAKEN, code="username_taken") from None
    return user


@dataclass(frozen=True)
class NewAccount:
    """One account of ``create_users``."""

    username: str
    email: str = ""
    first_name: str = ""
    age: int | None = None
    sex: int | None = None


def create_users(session: Session, accounts: list[NewAccount], *, group_ids: list[int]) -> list[User]:
    """Many accounts at once (a class roster): ``create_user``'s rules for every name, the names
    neither repeated among themselves nor taken (canonical forms, a query per 500 names), and one
    flush for all (one create_user each would be thousands of statements for a class list).

    No password yet (``PASSWORD_NOT_SET``): the caller arranges the first one (argon2 for a
    thousand accounts would take minutes here). Any clash is a 400 and nothing is added."""
    for account in accounts:
        check_new_username(account.username)
    canonical = [canonical_username(a.username) for a in accounts]
    if len(set(canonical)) < len(canonical) or taken_usernames(session, canonical):
        raise errors.Invalid.field("username", USERNAME_TAKEN, code="username_taken")
    groups = load_groups(session, group_ids)
    users = [
        User(
            username=a.username,
            password=PASSWORD_NOT_SET,
            email=a.email,
            first_name=a.first_name,
            age=a.age,
            sex=a.sex,
            groups=list(groups),
        )
        for a in accounts
    ]
    try:
        with session.begin_nested():  # a name taken by another request meanwhile undoes them all
            session.add_all(users)
    except IntegrityError:
        raise errors.Invalid.field("username", USERNAME_TAKEN, code="username_taken") from None
    return users


def set_password(user: User, password: str, *, field: str = "password") -> None:
    """Every way a password is set after creation (change, reset, the command line): the rules,
    the hash, and every token issued before now refused (API.md §2 "Password reset and sessions")."""
    check_new_password(password, field)
    user.password = hash_password(password)
    user.tokens_valid_after = utcnow()


def get_active_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise errors.NotFound()
    return user
