"""Usernames in the domain: the rules a new name must pass (every creation path: the users and
school routes, the command line, the demo seed, roster imports) and its uniqueness, which is
decided on the canonical form (``canonical_username``, defined once in ``studyhub.core``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BeforeValidator, StringConstraints
from pydantic_core import PydanticCustomError

from studyhub.core import errors
from studyhub.core.usernames import MAX_USERNAME_LENGTH, canonical_username, username_problem

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = [
    "MAX_USERNAME_LENGTH",
    "NewUsername",
    "USERNAME_TAKEN",
    "canonical_username",
    "check_new_username",
    "taken_usernames",
    "username_taken",
]

USERNAME_PATTERN = r"^[\w.@+-]+$"  # Django's username rule, checked after the form rules below
USERNAME_TAKEN = "已存在一位使用该名字的用户。"
IN_QUERY_CHUNK = 500  # names per IN (...): far below every database's limit on bound parameters


def check_new_username(name: str) -> None:
    problem = username_problem(name)
    if problem:
        raise errors.Invalid.field("username", problem, code="invalid_username")


def username_taken(session: Session, name: str) -> bool:
    """Taken when any account, active or not, has the same canonical form."""
    # imported here: the schemas import NewUsername, and a cold function's schemas don't need the ORM
    from sqlalchemy import select

    from studyhub.models.users import User

    found = session.scalar(select(User.id).where(User.username_canonical == canonical_username(name)).limit(1))
    return found is not None


def taken_usernames(session: Session, canonical_names: list[str]) -> set[str]:
    """Which of these canonical forms an account (active or not) already has."""
    from sqlalchemy import select

    from studyhub.models.users import User

    taken: set[str] = set()
    for start in range(0, len(canonical_names), IN_QUERY_CHUNK):
        chunk = canonical_names[start : start + IN_QUERY_CHUNK]
        taken.update(session.scalars(select(User.username_canonical).where(User.username_canonical.in_(chunk))))
    return taken


def _username_form(value: Any) -> Any:
    """Before pydantic's own checks, so ``"name "`` is told about its space, not "bad format"."""
    if isinstance(value, str):
        problem = username_problem(value)
        if problem:
            raise PydanticCustomError("invalid_username", problem)
    return value


# A username in a request body that creates an account: never trimmed (a space is refused, not
# silently dropped), then the form rules with their own messages, then Django's pattern.
NewUsername = Annotated[
    str,
    StringConstraints(strip_whitespace=False, min_length=1, max_length=MAX_USERNAME_LENGTH, pattern=USERNAME_PATTERN),
    BeforeValidator(_username_form),
]
