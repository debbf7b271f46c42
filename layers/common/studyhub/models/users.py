"""Users, groups (roles), the areas of China and shipping addresses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from studyhub.core.usernames import canonical_username
from studyhub.models.base import Base, BigId, SoftDeleteMixin, TimestampMixin
from studyhub.tables import users as tables
from studyhub.tables.users import (  # noqa: F401 - where the rest of the code imports them from
    GROUPS,
    STUDENT_GROUP_ID,
    TEACHER_GROUP_ID,
    PreciseUTCDateTime,
    UsernameText,
    user_groups,
)


class Group(Base):
    __table__ = tables.groups

    id: Mapped[int]
    name: Mapped[str]


class User(Base):
    # The table is Core's (studyhub.tables.users): the caller of every request is read from it
    # without the ORM. These annotations type the mapped columns.
    __table__ = tables.users

    id: Mapped[int]
    username: Mapped[str]
    username_canonical: Mapped[str]
    password: Mapped[str]
    email: Mapped[str]
    first_name: Mapped[str]
    last_name: Mapped[str]
    is_superuser: Mapped[bool]
    is_active: Mapped[bool]
    avatar: Mapped[str | None]
    date_joined: Mapped[datetime]
    last_login: Mapped[datetime | None]
    age: Mapped[int | None]
    sex: Mapped[int | None]
    tokens_valid_after: Mapped[datetime | None]

    groups: Mapped[list[Group]] = relationship(secondary=user_groups, lazy="selectin")

    @validates("username")
    def _keep_canonical(self, _key: str, username: str) -> str:
        self.username_canonical = canonical_username(username)
        return username

    @property
    def group_ids(self) -> list[int]:
        return sorted(g.id for g in self.groups)

    @property
    def is_teacher(self) -> bool:
        return TEACHER_GROUP_ID in self.group_ids

    @property
    def is_teacher_or_superuser(self) -> bool:
        return self.is_superuser or self.is_teacher

    @property
    def is_student(self) -> bool:
        return STUDENT_GROUP_ID in self.group_ids


class Area(Base):
    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(50))
    parent_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("areas.id", ondelete="SET NULL"), index=True, default=None
    )


class Address(TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    province_id: Mapped[int] = mapped_column(Integer, ForeignKey("areas.id"))
    city_id: Mapped[int] = mapped_column(Integer, ForeignKey("areas.id"))
    district_id: Mapped[int] = mapped_column(Integer, ForeignKey("areas.id"))
    place: Mapped[str] = mapped_column(String(200))
    receiver: Mapped[str] = mapped_column(String(30))
    mobile: Mapped[str] = mapped_column(String(11))

    province: Mapped[Area] = relationship(foreign_keys=[province_id], lazy="joined")
    city: Mapped[Area] = relationship(foreign_keys=[city_id], lazy="joined")
    district: Mapped[Area] = relationship(foreign_keys=[district_id], lazy="joined")
