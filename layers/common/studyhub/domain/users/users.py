"""User accounts: list, create, read, update, deactivate, password change, avatar."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from studyhub.core import errors
from studyhub.core.config import get_settings
from studyhub.core.db import on_commit, on_rollback
from studyhub.core.security import verify_password
from studyhub.domain.access import Caller, require_superuser, require_teacher
from studyhub.domain.images import check_image
from studyhub.domain.users.accounts import create_user, get_active_user, load_groups, serialize_user, set_password
from studyhub.domain.users.user_reads import check_visible
from studyhub.domain.users.usernames import canonical_username
from studyhub.models.users import User, user_groups

from .schemas import PasswordChange, UserCreate, UserUpdate


def users_query(
    caller: Caller, *, group_id: int | None = None, search: str = "", is_active: bool | None = None
) -> Select[User]:
    """Active users by default; deactivated ones (``is_active=False``) only for a superuser, for
    everyone else that filter finds nothing."""
    require_teacher(caller)
    active = True if is_active is None else is_active
    stmt = select(User).where(User.is_active.is_(active))
    if not caller.is_superuser:
        stmt = stmt.where(User.is_active.is_(True))
    if group_id is not None:
        stmt = stmt.where(User.id.in_(select(user_groups.c.user_id).where(user_groups.c.group_id == group_id)))
    if search:
        # On the canonical form: any case or width finds the name, the same on SQLite and MySQL.
        stmt = stmt.where(User.username_canonical.contains(canonical_username(search), autoescape=True))
    return stmt.order_by(User.date_joined.desc(), User.id.desc())


def visible_user(session: Session, caller: Caller, user_id: int) -> User:
    """The ``User`` row of ``user_id`` if ``caller`` may see it (``user_reads.check_visible``);
    404 otherwise, as for a user that doesn't exist."""
    user = session.get(User, user_id)
    if user is None:
        raise errors.NotFound()
    check_visible(caller, user.id, user.is_active)
    return user


def create(session: Session, caller: Caller, body: UserCreate) -> dict[str, Any]:
    require_superuser(caller)
    user = create_user(
        session,
        username=body.username,
        password=body.password,
        email=body.email,
        first_name=body.first_name,
        group_ids=body.groups,
        is_superuser=body.is_superuser,
    )
    return serialize_user(user)


def update(session: Session, caller: Caller, user_id: int, body: UserUpdate) -> dict[str, Any]:
    user = visible_user(session, caller, user_id)
    if user.id != caller.id and not caller.is_superuser:
        raise errors.Forbidden("只能修改自己的资料")
    sent = body.model_fields_set
    if "email" in sent and body.email is not None:
        user.email = body.email
    if "first_name" in sent and body.first_name is not None:
        user.first_name = body.first_name
    if caller.is_superuser:  # the rest is read-only for everyone else (ignored, as DRF does)
        if "groups" in sent and body.groups is not None:
            user.groups = load_groups(session, body.groups)
        if "is_active" in sent and body.is_active is not None:
            user.is_active = body.is_active
        if "is_superuser" in sent and body.is_superuser is not None:
            user.is_superuser = body.is_superuser
    session.flush()
    return serialize_user(user)


def deactivate(session: Session, caller: Caller, user_id: int) -> None:
    require_superuser(caller)
    user = get_active_user(session, user_id)
    user.is_active = False


def change_password(session: Session, caller: Caller, user_id: int, body: PasswordChange) -> None:
    """Self with the old password (a superuser too: a stolen token alone can't take an account);
    a superuser for anyone else with the new one alone. Every token of that user issued before now
    is refused afterwards, the caller's own included."""
    user = visible_user(session, caller, user_id)
    if user.id != caller.id and not caller.is_superuser:
        raise errors.Forbidden("只能修改自己的密码")
    if user.id == caller.id:
        if body.old_password is None:
            # required for one's own password only, so the document can't mark it: its own code
            raise errors.Invalid.field("old_password", "修改自己的密码需要原密码。", code="old_password_required")
        if not verify_password(body.old_password, user.password):
            raise errors.Invalid.field("old_password", "原密码错误", code="wrong_password")
    set_password(user, body.new_password, field="new_password")


def upload_avatar(session: Session, caller: Caller, user_id: int, files: dict) -> dict[str, str]:
    from studyhub.clients.storage import get_storage

    user = visible_user(session, caller, user_id)
    if user.id != caller.id and not caller.is_superuser:
        raise errors.Forbidden("只能修改自己的头像")
    upload = files.get("file")
    if upload is None:
        raise errors.Invalid.field("file", "没有提交文件。", code="file_required")
    extension, mime = check_image(upload.data, max_bytes=get_settings().avatar_max_bytes)
    storage = get_storage()
    key = storage.save(upload.data, prefix=f"avatars/{user.id}", extension=extension, content_type=mime)
    old_key, user.avatar = user.avatar, key
    # Nothing is lost: the new file goes if the transaction fails, the old one once it commits.
    on_rollback(session, lambda: storage.delete(key))
    if old_key:
        on_commit(session, lambda: storage.delete(old_key))
    return {"data": storage.url(key)}
