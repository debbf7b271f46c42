"""A password reset by an operator (API.md §2 "Password reset and sessions"): a new random
password, emailed like a new student's credentials, through the same outbox.

It lives with the school group because everything it reuses is the school's: the credentials
outbox and its send job (``credentials_mail``), the password generator of a registration, and
the class a teacher must share with the student.
"""

from __future__ import annotations

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from studyhub.clients.mail import seal
from studyhub.clients.queue import enqueue
from studyhub.core import errors
from studyhub.domain.access import Caller
from studyhub.domain.school.students import generate_password
from studyhub.domain.school.task_names import SEND_CREDENTIALS
from studyhub.domain.users.accounts import set_password
from studyhub.models.base import utcnow
from studyhub.models.school import Classes, CredentialsMail, class_members
from studyhub.models.users import User


def reset_password(session: Session, caller: Caller, user_id: int) -> None:
    """One transaction: the new password (every older token refused), one outbox row, its job
    queued after the commit. A superuser resets anyone active; a teacher a student of a class
    they are in (403 otherwise). What the caller can't see is 404: another user for a student,
    a deactivated user for anyone but a superuser."""
    user = session.get(User, user_id)
    if user is None or (not user.is_active and not caller.is_superuser):
        raise errors.NotFound()
    if not caller.is_superuser:
        if user.id != caller.id and not caller.is_teacher:
            raise errors.NotFound()
        if not (caller.is_teacher and user.is_student and shared_class(session, user.id, caller.id) is not None):
            raise errors.Forbidden("只能重置本班学生的密码")
    if not user.is_active:
        raise errors.Conflict("该用户已停用，请先启用", code="user_inactive")
    if not user.email:
        raise errors.Conflict("该用户没有邮箱，无法发送新密码", code="email_missing")
    class_name = shared_class(session, user.id, None if caller.is_superuser else caller.id) or ""

    password = generate_password()
    set_password(user, password)
    # An email still waiting with an older password would only confuse: it goes (one being sent
    # right now can't be stopped, and the new one follows it).
    now = utcnow()
    session.execute(
        delete(CredentialsMail).where(
            CredentialsMail.user_id == user.id,
            or_(CredentialsMail.claimed_until.is_(None), CredentialsMail.claimed_until < now),
        )
    )
    mail = CredentialsMail(user_id=user.id, email=user.email, class_name=class_name, secret=seal(password))
    session.add(mail)
    session.flush()
    enqueue(session, SEND_CREDENTIALS, mail.id)


def shared_class(session: Session, student_id: int, teacher_id: int | None) -> str | None:
    """The name of the first class (by id, not deleted) the student is in, and the teacher too
    when given; None when there is none."""
    stmt = (
        select(Classes.name)
        .join(class_members, class_members.c.class_id == Classes.id)
        .where(class_members.c.user_id == student_id, Classes.is_delete.is_(False))
    )
    if teacher_id is not None:
        stmt = stmt.where(Classes.id.in_(select(class_members.c.class_id).where(class_members.c.user_id == teacher_id)))
    return session.scalar(stmt.order_by(Classes.id).limit(1))
