"""Schema migrations (Alembic) run from code: `studyhub migrate`, `studyhub serve`, tests.

Each group owns its own migration branch off the users revision; ``upgrade`` goes to all heads.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from studyhub.core.db import get_engine

MIGRATIONS = Path(__file__).parent  # this package: env.py, versions/


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    return cfg


def upgrade(revision: str = "heads") -> None:
    cfg = alembic_config()
    with get_engine().begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def revision(message: str, rev_id: str, head: str = "base", depends_on: str | None = None) -> None:
    """Autogenerate a migration (developers: see README)."""
    cfg = alembic_config()
    with get_engine().begin() as connection:
        cfg.attributes["connection"] = connection
        command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id, head=head, depends_on=depends_on)
