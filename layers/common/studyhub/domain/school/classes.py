"""Classes: who sees which (teacher+ all, others the classes they are members of), and changes.
The list is read on Core, without the ORM: ``class_reads``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from studyhub.core import errors
from studyhub.domain.access import Caller, require_teacher
from studyhub.domain.school.class_reads import render_class, visible
from studyhub.models.base import utcnow
from studyhub.models.school import Classes
from studyhub.models.users import User

from .schemas import ClassIn, ClassPatch


def visible_query(caller: Caller) -> Select[Classes]:
    """Classes the caller may see (``class_reads.visible``), as ORM rows with their members."""
    stmt = visible(select(Classes).options(selectinload(Classes.members)), sees_all=caller.is_teacher_or_superuser)
    return stmt.params(caller_id=caller.id)


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
    return render_class(klass, [(u, u.group_ids) for u in klass.members if u.is_active])


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
