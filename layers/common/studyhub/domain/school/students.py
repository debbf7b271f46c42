"""Students: the list for teachers, registering a student into a class with an emailed password,
and one student read, changed (profile, classes) or deactivated by a teacher."""

from __future__ import annotations

import secrets
import string
from typing import Any

from sqlalchemy import Select, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from studyhub.clients.mail import seal
from studyhub.clients.queue import enqueue
from studyhub.core import errors
from studyhub.domain.access import Caller, require_teacher
from studyhub.domain.school.task_names import SEND_CREDENTIALS
from studyhub.domain.users.accounts import create_user, serialize_user
from studyhub.models.school import Classes, CredentialsMail, class_members
from studyhub.models.users import STUDENT_GROUP_ID, User, user_groups

from .schemas import StudentIn, StudentPatch, StudentUpdate

PASSWORD_LENGTH = 12
# No look-alikes (0/O, 1/l/I): the student types it from an email.
PASSWORD_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")


def generate_password(length: int = PASSWORD_LENGTH) -> str:
    while True:
        password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password


def students_query(caller: Caller, *, class_id: int | None = None) -> Select[User]:
    require_teacher(caller)
    stmt = select(User).where(
        User.is_active.is_(True),
        User.id.in_(select(user_groups.c.user_id).where(user_groups.c.group_id == STUDENT_GROUP_ID)),
    )
    if class_id is not None:
        stmt = stmt.where(User.id.in_(select(class_members.c.user_id).where(class_members.c.class_id == class_id)))
    return stmt.order_by(User.date_joined.desc(), User.id.desc())


def class_ids_of(session: Session, user_ids: list[int]) -> dict[int, list[int]]:
    """``{user id: [ids of the (not deleted) classes it is in]}`` in one query."""
    classes: dict[int, list[int]] = {uid: [] for uid in user_ids}
    if user_ids:
        rows = session.execute(
            select(class_members.c.user_id, class_members.c.class_id)
            .join(Classes, Classes.id == class_members.c.class_id)
            .where(class_members.c.user_id.in_(user_ids), Classes.is_delete.is_(False))
            .order_by(class_members.c.class_id)
        )
        for user_id, class_id in rows:
            classes[user_id].append(class_id)
    return classes


def serialize_page(session: Session, users: list[User]) -> list[dict[str, Any]]:
    """User JSON plus ``classes`` and the student profile (``age``, ``sex``)."""
    classes = class_ids_of(session, [u.id for u in users])
    return [{**serialize_user(u), "classes": classes[u.id], "age": u.age, "sex": u.sex} for u in users]


def register(session: Session, caller: Caller, body: StudentIn) -> dict[str, Any]:
    """One transaction: the student (random password, student group), its class membership and
    the sealed credentials email; the send job is queued only after the commit."""
    require_teacher(caller)
    klass = session.get(Classes, body.classes)
    if klass is None or klass.is_delete:
        raise errors.Invalid.field("classes", "班级不存在。", code="invalid_class")
    password = generate_password()
    try:
        student = create_user(
            session,
            username=body.username,
            password=password,
            email=body.email,
            first_name=body.first_name,
            group_ids=[STUDENT_GROUP_ID],
            age=body.age,
            sex=body.sex,
        )
    except IntegrityError:  # the same username registered concurrently
        raise errors.Invalid.field("username", "已存在一位使用该名字的用户。", code="username_taken") from None
    klass.members.append(student)
    mail = CredentialsMail(user_id=student.id, email=body.email, class_name=klass.name, secret=seal(password))
    session.add(mail)
    session.flush()
    enqueue(session, SEND_CREDENTIALS, mail.id)
    return {
        "id": student.id,
        "username": student.username,
        "email": student.email,
        "first_name": student.first_name,
        "classes": klass.id,
        "age": student.age,
        "sex": student.sex,
    }


# --- one student (GET/PUT/PATCH/DELETE /school/students/{id}) ---------------------------------


def get_student(session: Session, caller: Caller, student_id: int) -> User:
    """Teacher+ only (403). Not a student (staff included), or deactivated, is 404: a superuser
    still sees a deactivated student (API.md §2 "Deactivated users")."""
    require_teacher(caller)
    user = session.get(User, student_id)
    if user is None or not user.is_student or user.is_teacher_or_superuser:  # staff aren't managed here
        raise errors.NotFound()
    if not user.is_active and not caller.is_superuser:
        raise errors.NotFound()
    return user


def serialize_student(session: Session, user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "age": user.age,
        "sex": user.sex,
        "classes": class_ids_of(session, [user.id])[user.id],
        "is_active": user.is_active,
    }


def read(session: Session, caller: Caller, student_id: int) -> dict[str, Any]:
    return serialize_student(session, get_student(session, caller, student_id))


def _not_null(fields: dict[str, Any], *names: str) -> None:
    empty = {name: ["该字段不能为空。"] for name in names if name in fields and fields[name] is None}
    if empty:
        raise errors.Invalid("请求参数有误", code="invalid", errors=empty)


def _live_classes(session: Session, ids: list[int]) -> list[int]:
    wanted = sorted(set(ids))
    found = set(session.scalars(select(Classes.id).where(Classes.id.in_(wanted), Classes.is_delete.is_(False))))
    missing = [i for i in wanted if i not in found]
    if missing:
        raise errors.Invalid.field("classes", f"班级不存在：{missing}", code="invalid_class")
    return wanted


def _move_to(session: Session, student: User, class_ids: list[int]) -> None:
    """Replace the student's memberships of live classes with ``class_ids`` (a deleted class's
    rows stay: nobody sees them)."""
    current = set(class_ids_of(session, [student.id])[student.id])
    leaving = current - set(class_ids)
    if leaving:
        session.execute(
            delete(class_members).where(class_members.c.user_id == student.id, class_members.c.class_id.in_(leaving))
        )
    joining = [c for c in class_ids if c not in current]
    if joining:
        session.execute(insert(class_members), [{"class_id": c, "user_id": student.id} for c in joining])


def update(session: Session, caller: Caller, student_id: int, body: StudentUpdate | StudentPatch) -> dict[str, Any]:
    """PUT sets every editable field, PATCH those sent; ``classes`` replaces the memberships
    (ids of live classes, else 400)."""
    student = get_student(session, caller, student_id)
    sent = body.model_dump(include=body.model_fields_set if isinstance(body, StudentPatch) else None)
    _not_null(sent, "email", "first_name", "classes")
    if "classes" in sent:
        _move_to(session, student, _live_classes(session, sent.pop("classes")))
    for name, value in sent.items():
        setattr(student, name, value)
    session.flush()
    return serialize_student(session, student)


def deactivate(session: Session, caller: Caller, student_id: int) -> None:
    """Soft: the account stays (a superuser may reactivate it, API.md §2), its tokens are 401
    from now on, and a credentials email still waiting is dropped by the send job."""
    student = get_student(session, caller, student_id)
    if not student.is_active:
        raise errors.NotFound()
    student.is_active = False
