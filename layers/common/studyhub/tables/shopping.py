"""Commodities (API.md §6): read by the shop's list and detail without the ORM."""

from __future__ import annotations

from sqlalchemy import Column, Integer, Numeric, String, Table, Text

from studyhub.tables.base import BigId, metadata, soft_delete_column, timestamp_columns

Money = Numeric(10, 2)

commodities = Table(
    "commodities",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("name", String(200), nullable=False, index=True),
    Column("price", Money, nullable=False),
    Column("stock", Integer, nullable=False, default=0),
    Column("sales", Integer, nullable=False, default=0),
    Column("description", Text, nullable=False, default=""),
    Column("image", String(500), nullable=True),  # a URL
    # the stored file behind ``image`` when it was uploaded (deleted when replaced)
    Column("image_key", String(300), nullable=True),
    *timestamp_columns(),
    soft_delete_column(),
)
