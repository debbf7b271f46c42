"""The question bank's tables (API.md §4): labels, and the topics filed under them."""

from __future__ import annotations

from sqlalchemy import Column, Double, ForeignKey, SmallInteger, String, Table, Text

from studyhub.tables.base import BigId, metadata, soft_delete_column, timestamp_columns

labels = Table(
    "labels",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("user_id", BigId, ForeignKey("users.id"), nullable=False, index=True),
    *timestamp_columns(),
    soft_delete_column(),
)

topics = Table(
    "topics",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("subject", Text, nullable=False),
    Column("type", SmallInteger, nullable=False),
    Column("score", Double, nullable=True),
    Column("description", Text, nullable=True),
    Column("answer", Text, nullable=True),
    Column("label_id", BigId, ForeignKey("labels.id"), nullable=False, index=True),
    Column("user_id", BigId, ForeignKey("users.id"), nullable=False, index=True),
    *timestamp_columns(),
    soft_delete_column(),
)
