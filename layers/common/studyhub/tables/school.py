"""Classes and their members (API.md §3): read by the classes list without the ORM."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, String, Table, Text

from studyhub.tables.base import BigId, metadata, soft_delete_column, timestamp_columns

classes = Table(
    "classes",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("name", String(30), nullable=False),
    Column("slogan", Text, nullable=True),
    *timestamp_columns(),
    soft_delete_column(),
)

class_members = Table(
    "class_members",
    metadata,
    Column("class_id", BigId, ForeignKey("classes.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)
