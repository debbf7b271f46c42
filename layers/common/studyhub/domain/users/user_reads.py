"""One user (API.md §2 ``GET /users/users/{id}``): who may see whom, and a user's JSON, on Core.

The row and its group ids in one statement built and compiled once (``core.prepared``) on the
``studyhub.tables`` tables: neither the ORM nor the request schemas are imported to answer it (a
function's first answer doesn't pay for them). ``render_user`` is the one shape of a user's JSON
(``accounts.serialize_user`` renders a ``User`` row with it) and ``check_visible`` the one rule of
who sees a user (``users.visible_user`` applies it to ORM rows)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from studyhub.core import errors
from studyhub.core.times import isoformat
from studyhub.domain.access import Caller

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy.engine import Connection

    from studyhub.core.prepared import Prepared


def check_visible(caller: Caller, user_id: int, is_active: bool) -> None:
    """Self, or anyone for teacher+; others are 404 so ids can't be probed. A deactivated user is
    visible to superusers alone (to read and reactivate), 404 for everyone else."""
    if caller.is_superuser:
        return
    if not is_active or (user_id != caller.id and not caller.is_teacher_or_superuser):
        raise errors.NotFound()


def avatar_url(key: str | None) -> str | None:
    if not key:
        return None
    from studyhub.clients.storage import get_storage

    return get_storage().url(key)


def render_user(user: Any, group_ids: Iterable[int]) -> dict[str, Any]:
    """API.md §2 User JSON of a ``User`` row or a row of the same columns; the password hash
    never leaves."""
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "is_superuser": bool(user.is_superuser),
        "is_active": bool(user.is_active),
        "groups": sorted(group_ids),
        "avatar": avatar_url(user.avatar),
        "date_joined": isoformat(user.date_joined),
        "last_login": isoformat(user.last_login),
    }


@cache
def _user_statement() -> Prepared:
    """The user's public columns and group ids, one row per group (one row with NULL without any)."""
    from sqlalchemy import bindparam, select

    from studyhub.core.prepared import Prepared
    from studyhub.tables.users import user_groups, users

    c = users.c
    return Prepared(
        select(
            c.id,
            c.username,
            c.email,
            c.first_name,
            c.is_superuser,
            c.is_active,
            c.avatar,
            c.date_joined,
            c.last_login,
            user_groups.c.group_id,
        )
        .select_from(users.outerjoin(user_groups, user_groups.c.user_id == c.id))
        .where(c.id == bindparam("user_id"))
    )


def detail(conn: Connection, caller: Caller, user_id: int) -> dict[str, Any]:
    """``user_id``'s JSON if ``caller`` may see it; 404 otherwise, as for a user that doesn't exist."""
    rows = _user_statement().all(conn, {"user_id": user_id})
    if not rows:
        raise errors.NotFound()
    user = rows[0]
    check_visible(caller, user.id, bool(user.is_active))
    return render_user(user, {row.group_id for row in rows if row.group_id is not None})
