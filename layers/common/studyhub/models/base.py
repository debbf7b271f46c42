"""Declarative base and the mixins every group's models share (types and metadata: ``studyhub.tables.base``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# The metadata and column types are Core's (``studyhub.tables``), shared with the Core tables.
from studyhub.tables.base import NAMING, BigId, UTCDateTime, utcnow  # noqa: F401
from studyhub.tables.base import metadata as shared_metadata


class Base(DeclarativeBase):
    metadata = shared_metadata


class TimestampMixin:
    create_time: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    update_time: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False, index=True
    )


class SoftDeleteMixin:
    is_delete: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
