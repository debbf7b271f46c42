"""Articles (API.md §5): read by the community's list and detail without the ORM."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, String, Table, Text
from sqlalchemy.dialects import mysql

from studyhub.tables.base import BigId, metadata, soft_delete_column, timestamp_columns

# TEXT is 64 KiB on MySQL: articles may be longer, so MEDIUMTEXT there (16 MiB).
LongText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql")

articles = Table(
    "articles",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("title", String(200), nullable=False),
    Column("content", LongText, nullable=False),
    # Only ever changed by one atomic ``UPDATE ... SET page_view = page_view + 1``.
    Column("page_view", Integer, nullable=False, default=0),
    Column("user_id", BigId, ForeignKey("users.id"), nullable=False, index=True),
    *timestamp_columns(),
    soft_delete_column(),
)
