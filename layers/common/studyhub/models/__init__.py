"""Typed SQLAlchemy models, one module per group.

Importing this package loads only the base and the users models (every function needs them);
a function imports its own group's module, so its cold start doesn't pay for the others'
mappers. ``load_all()`` imports every group: migrations, tests and the CLI need all tables.
"""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

from studyhub.models.base import Base, utcnow  # noqa: F401
from studyhub.models.users import Address, Area, Group, User  # noqa: F401

GROUP_MODULES = ("users", "school", "work", "homework", "community", "shopping")


def load_all() -> MetaData:
    """Import every group's models; returns the complete metadata."""
    for group in GROUP_MODULES:
        name = f"{__name__}.{group}"
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:  # a missing dependency inside the module is a real error
                raise
    return Base.metadata
