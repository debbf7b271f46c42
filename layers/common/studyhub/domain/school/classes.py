"""Classes: who sees which (teacher+ all, others the classes they are members of), and changes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from studyhub.core import errors
from studyhub.core.times import isoformat
from studyhub.domain.access import Caller, require_teacher
from studyhub.domain.users.accounts import serialize_user
from studyhub.models.base import utcnow
from studyhub.models.school import Classes, class_members
from studyhub.models.users import STUDENT_GROUP_ID, TEACHER_GROUP_ID, User

from .schemas import ClassIn, ClassPatch


def visible_query(caller: Caller) -> Select[Classes]:
    """Classes the caller may see; with members loaded in one batch per page."""
    stmt = select(Classes).where(Classes.is_delete.is_(False)).options(selectinload(Classes.members))
    if not caller.is_teacher_or_superuser:
        stmt = stmt.where(Classes.id.in_(select(class_members.c.class_id).where(class_members.c.user_id == caller.id)))
    return stmt


def list_query(caller: Caller) -> Select[Classes]:
    return visible_query(caller).order_by(Classes.update_time.desc(), Classes.id.desc())


def get_visible(session: Session, caller: Caller, class_id: int) -> Classes:
    klass = session.scalar(visible_query(caller).where(Classes.id == class_id))
    if klass is None:
        raise errors.NotFound("班级不存在")
    return klass


def last(session: Session, caller: Caller) -> dict[str, Any]:
    """The most recently created class the caller can see."""
    klass = session.scalar(visible_query(caller).order_by(Classes.create_time.desc(), Classes.id.desc()).limit(1))
    if klass is None:
        raise errors.NotFound("没有可见的班级")
    return serialize(klass)


def serialize(klass: Classes) -> dict[str, Any]:
    members = sorted((u for u in klass.members if u.is_active), key=lambda u: u.id)
    rendered = [(u, serialize_user(u)) for u in members]
    return {
        "id": klass.id,
        "name": klass.name,
        "slogan": klass.slogan,
        "member": [u.id for u in members],
        "memberDetail": {
            "teachers": [data for u, data in rendered if u.is_superuser or TEACHER_GROUP_ID in u.group_ids],
            "students": [data for u, data in rendered if STUDENT_GROUP_ID in u.group_ids],
        },
        "create_time": isoformat(klass.create_time),
        "update_time": isoformat(klass.update_time),
    }


def serialize_page(rows: list[Classes]) -> list[dict[str, Any]]:
    return [serialize(klass) for klass in rows]  # members came with the page (selectinload)


def load_members(session: Session, ids: list[int]) -> list[User]:
    wanted = set(ids)
    users = list(session.scalars(select(User).where(User.id.in_(wanted), User.is_active.is_(True)))) if wanted else []
    missing = wanted - {u.id for u in users}
    if missing:
        raise errors.Invalid.field("member", f"无效的用户：{sorted(missing)}", code="invalid_member")
    return users


def create(session: Session, caller: Caller, body: ClassIn) -> dict[str, Any]:
    require_teacher(caller)
    klass = Classes(name=body.name, slogan=body.slogan, members=load_members(session, body.member or []))
    session.add(klass)
    session.flush()
    return serialize(klass)


def update(session: Session, caller: Caller, class_id: int, body: ClassIn | ClassPatch) -> dict[str, Any]:
    require_teacher(caller)
    klass = get_visible(session, caller, class_id)
    sent = body.model_fields_set
    if "name" in sent and body.name is not None:
        klass.name = body.name
    if "slogan" in sent:
        klass.slogan = body.slogan
    if "member" in sent and body.member is not None:
        klass.members = load_members(session, body.member)
    klass.update_time = utcnow()  # a membership change alone touches no column of the row
    session.flush()
    return serialize(klass)


def delete(session: Session, caller: Caller, class_id: int) -> None:
    require_teacher(caller)
    klass = get_visible(session, caller, class_id)
    klass.is_delete = True
    klass.update_time = utcnow()
