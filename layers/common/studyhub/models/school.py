"""Classes, their members (users), and the outbox of credentials emails for new students."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from studyhub.models.base import Base, BigId, UTCDateTime, utcnow
from studyhub.models.users import User
from studyhub.tables import school as tables
from studyhub.tables.school import class_members


class Classes(Base):
    # The table is Core's (studyhub.tables.school): the classes list is read without the ORM.
    # These annotations type the mapped columns.
    __table__ = tables.classes

    id: Mapped[int]
    name: Mapped[str]
    slogan: Mapped[str | None]
    create_time: Mapped[datetime]
    update_time: Mapped[datetime]
    is_delete: Mapped[bool]

    members: Mapped[list[User]] = relationship(secondary=class_members)


class CredentialsMail(Base):
    """A student's credentials email waiting to be sent (the outbox row the send job reads).

    ``secret`` is the initial password encrypted with a key derived from ``JWT_SECRET``
    (``studyhub.clients.mail.seal``); the row is deleted once the email is accepted by the server, so the
    password exists at rest only until then. The job is queued with this row's id: the password is
    never a task argument, in the broker or in a log line.
    """

    __tablename__ = "school_credentials_mail"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    class_name: Mapped[str] = mapped_column(String(30))
    secret: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When the next try is due; the sweep re-queues rows whose job was lost (broker down, retries spent).
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # A worker sending this row holds it until then, so two jobs for one row never both send.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_error: Mapped[str | None] = mapped_column(String(200), default=None)
    create_time: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
