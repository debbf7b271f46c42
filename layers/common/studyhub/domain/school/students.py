"""Students: the list for teachers, and registering a student into a class with an emailed password."""

from __future__ import annotations

import secrets
import string
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from studyhub.clients.mail import seal
from studyhub.clients.queue import enqueue
from studyhub.core import errors
from studyhub.domain.access import require_teacher
from studyhub.domain.school.task_names import SEND_CREDENTIALS
from studyhub.domain.users.accounts import create_user, serialize_user
from studyhub.models.school import Classes, CredentialsMail, class_members
from studyhub.models.users import STUDENT_GROUP_ID, User, user_groups

from .schemas import StudentIn

PASSWORD_LENGTH = 12
# No look-alikes (0/O, 1/l/I): the student types it from an email.
PASSWORD_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")


def generate_password(length: int = PASSWORD_LENGTH) -> str:
    while True:
        password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password


def students_query(caller: User, *, class_id: int | None = None) -> Select[User]:
    require_teacher(caller)
    stmt = select(User).where(
        User.is_active.is_(True),
        User.id.in_(select(user_groups.c.user_id).where(user_groups.c.group_id == STUDENT_GROUP_ID)),
    )
    if class_id is not None:
        stmt = stmt.where(User.id.in_(select(class_members.c.user_id).where(class_members.c.class_id == class_id)))
    return stmt.order_by(User.date_joined.desc(), User.id.desc())


def serialize_page(session: Session, users: list[User]) -> list[dict[str, Any]]:
    """User JSON plus ``classes``: the ids of the (not deleted) classes each student is in."""
    ids = [u.id for u in users]
    classes: dict[int, list[int]] = {uid: [] for uid in ids}
    if ids:
        rows = session.execute(
            select(class_members.c.user_id, class_members.c.class_id)
            .join(Classes, Classes.id == class_members.c.class_id)
            .where(class_members.c.user_id.in_(ids), Classes.is_delete.is_(False))
            .order_by(class_members.c.class_id)
        )
        for user_id, class_id in rows:
            classes[user_id].append(class_id)
    return [{**serialize_user(u), "classes": classes[u.id]} for u in users]


def register(session: Session, caller: User, body: StudentIn) -> dict[str, Any]:
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
    }
