"""Password rules (API.md §2): at least 8 characters on every route or command that sets one.

A password is taken as typed: never trimmed (``str_strip_whitespace`` of the request bodies
would otherwise store ``"secret12 "`` as ``"secret12"`` and the login, which doesn't trim,
would then refuse the password the user chose).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, StringConstraints
from pydantic_core import PydanticCustomError

from studyhub.core import errors

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
PASSWORD_TOO_SHORT = f"密码至少 {MIN_PASSWORD_LENGTH} 位"
PASSWORD_TOO_LONG = f"密码不能超过 {MAX_PASSWORD_LENGTH} 位"


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return PASSWORD_TOO_SHORT
    if len(password) > MAX_PASSWORD_LENGTH:
        return PASSWORD_TOO_LONG
    return None


def check_new_password(password: str, field: str = "password") -> None:
    """For callers without a request body (the command line, domain functions)."""
    problem = password_problem(password)
    if problem:
        raise errors.Invalid.field(field, problem, code="invalid_password")


def _password_length(value: Any) -> Any:
    if isinstance(value, str):
        problem = password_problem(value)
        if problem:
            raise PydanticCustomError("invalid_password", problem)
    return value


# A new password in a request body: as typed, 8 to 128 characters, with the contract's message.
NewPassword = Annotated[
    str,
    StringConstraints(strip_whitespace=False, min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH),
    BeforeValidator(_password_length),
]
# A password to check against the stored hash (the old one): as typed, never trimmed.
GivenPassword = Annotated[str, StringConstraints(strip_whitespace=False, min_length=1, max_length=1024)]
