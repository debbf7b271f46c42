"""The metadata every table is on (Core tables here, declarative models in ``studyhub.models``), the
column types they share, and the columns of the timestamp and soft-delete conventions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, DateTime, Integer, MetaData, TypeDecorator
from sqlalchemy.engine import Dialect

# Stable constraint names so Alembic migrations are the same on SQLite and MySQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

# BIGINT ids on MySQL, INTEGER on SQLite (only INTEGER PRIMARY KEY autoincrements there).
BigId = BigInteger().with_variant(Integer, "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC (portable across SQLite and MySQL), read back as aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def timestamp_columns() -> list[Column[Any]]:
    """``create_time`` and ``update_time``, as ``models.base.TimestampMixin`` declares them."""
    return [
        Column("create_time", UTCDateTime(), default=utcnow, nullable=False),
        Column("update_time", UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False, index=True),
    ]


def soft_delete_column() -> Column[bool]:
    """``is_delete``, as ``models.base.SoftDeleteMixin`` declares it."""
    return Column("is_delete", Boolean, default=False, nullable=False)
