"""Users, groups (roles), the areas of China and shipping addresses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, SmallInteger, String, Table
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from sqlalchemy.types import TypeEngine

from studyhub.core.usernames import MAX_USERNAME_LENGTH, canonical_username
from studyhub.models.base import Base, BigId, SoftDeleteMixin, TimestampMixin, UTCDateTime, utcnow

TEACHER_GROUP_ID = 1
STUDENT_GROUP_ID = 2
GROUPS = {TEACHER_GROUP_ID: "老师", STUDENT_GROUP_ID: "学生"}

# Usernames compare binary on MySQL/MariaDB: the database's default collation would make
# `víctor` equal `victor` (and `ALICE` equal `alice`); equality of names is decided by
# `username_canonical` alone, never by a collation.
UsernameText = String(MAX_USERNAME_LENGTH).with_variant(
    mysql.VARCHAR(MAX_USERNAME_LENGTH, collation="utf8mb4_bin"), "mysql", "mariadb"
)


class PreciseUTCDateTime(UTCDateTime):
    """A UTC time with microseconds on MySQL too (``DATETIME(6)``; SQLite keeps them anyway): a
    token issued a moment after a password change, in the same second, is after it."""

    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())


user_groups = Table(
    "user_groups",
    Base.metadata,
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
)


class Group(Base):
    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(150), unique=True)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(UsernameText, unique=True)  # as the user chose it
    # canonical_username(username), kept in step by the validator below: the one identity of a name.
    username_canonical: Mapped[str] = mapped_column(UsernameText, unique=True, index=True)
    password: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(254), default="")
    first_name: Mapped[str] = mapped_column(String(150), default="")
    last_name: Mapped[str] = mapped_column(String(150), default="")
    is_superuser: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    avatar: Mapped[str | None] = mapped_column(String(500), default=None)  # storage key
    date_joined: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # A student's profile from the original (API.md §3): age 1-120, sex 0 女 / 1 男; both optional.
    age: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    sex: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    # Set when the password is changed or reset: every token issued before it is refused.
    tokens_valid_after: Mapped[datetime | None] = mapped_column(PreciseUTCDateTime(), default=None)

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
