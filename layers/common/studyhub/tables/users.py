"""Users, their groups (roles) and who is in which: the tables every request's caller is read from."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, SmallInteger, String, Table
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from studyhub.core.usernames import MAX_USERNAME_LENGTH
from studyhub.tables.base import BigId, UTCDateTime, metadata, utcnow

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


groups = Table(
    "groups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(150), nullable=False, unique=True),
)

users = Table(
    "users",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("username", UsernameText, nullable=False, unique=True),  # as the user chose it
    # canonical_username(username), kept in step by the model's validator: the one identity of a name.
    Column("username_canonical", UsernameText, nullable=False, unique=True, index=True),
    Column("password", String(255), nullable=False),
    Column("email", String(254), nullable=False, default=""),
    Column("first_name", String(150), nullable=False, default=""),
    Column("last_name", String(150), nullable=False, default=""),
    Column("is_superuser", Boolean, nullable=False, default=False),
    Column("is_active", Boolean, nullable=False, default=True),
    Column("avatar", String(500), nullable=True),  # storage key
    Column("date_joined", UTCDateTime(), nullable=False, default=utcnow),
    Column("last_login", UTCDateTime(), nullable=True),
    # A student's profile from the original (API.md §3): age 1-120, sex 0 女 / 1 男; both optional.
    Column("age", SmallInteger, nullable=True),
    Column("sex", SmallInteger, nullable=True),
    # Set when the password is changed or reset: every token issued before it is refused.
    Column("tokens_valid_after", PreciseUTCDateTime(), nullable=True),
)

user_groups = Table(
    "user_groups",
    metadata,
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
)
