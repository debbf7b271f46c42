"""The ``alembic`` command from the repository root (issue 13: it failed with "No 'script_location'"):
``alembic.ini`` points at the layer's migrations and env.py takes the database from StudyHub's
settings, so ``upgrade heads``, ``heads``, ``current``, ``check`` and ``revision --autogenerate``
work there on a fresh database of either stack, each run as an operator would, in a subprocess."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from conftest import BASE_ENV_KEYS, MYSQL_URL, RUN_ID, require_service

ROOT = Path(__file__).resolve().parents[2]
ALEMBIC = [sys.executable, "-m", "alembic"]


def script_heads() -> set[str]:
    from alembic.script import ScriptDirectory

    from studyhub.migrations.runner import alembic_config

    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


@pytest.fixture(params=["embedded", "mysql"])
def fresh_database(request, tmp_path):
    """The environment of an operator's shell pointing at an empty database."""
    env = {k: v for k, v in os.environ.items() if k not in BASE_ENV_KEYS}
    env["STUDYHUB_VAR_DIR"] = str(tmp_path / "var")
    if request.param == "embedded":
        yield env
        return
    require_service("MariaDB", "127.0.0.1", 3306)
    import sqlalchemy

    name = f"studyhub_alembic_{RUN_ID}_{uuid.uuid4().hex[:6]}"
    admin = sqlalchemy.create_engine(MYSQL_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    env["DATABASE_URL"] = f"{MYSQL_URL}/{name}?charset=utf8mb4"
    try:
        yield env
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        admin.dispose()


def alembic(env: dict[str, str], *args: str, cwd: Path = ROOT) -> str:
    result = subprocess.run([*ALEMBIC, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, f"alembic {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def revisions(output: str) -> set[str]:
    return set(re.findall(r"^(\w+) \(head\)", output, re.M))


def test_alembic_upgrade_heads_from_the_repo_root_migrates_the_settings_database(fresh_database):
    heads = script_heads()
    assert len(heads) >= 5  # a branch per group
    assert revisions(alembic(fresh_database, "heads")) == heads
    upgraded = alembic(fresh_database, "upgrade", "heads")
    assert "Running upgrade  -> 0001_users" in upgraded  # its progress is shown (alembic.ini's logging)
    assert revisions(alembic(fresh_database, "current")) == heads
    # the models and the migrations agree: autogenerate finds nothing to write
    assert "No new upgrade operations detected" in alembic(fresh_database, "check")
    if "DATABASE_URL" not in fresh_database:  # the SQLite file is the settings' one, under the var dir
        assert (Path(fresh_database["STUDYHUB_VAR_DIR"]) / "studyhub.sqlite3").stat().st_size > 0


def test_alembic_revision_autogenerate_extends_one_group_branch(tmp_path):
    """``alembic revision --autogenerate --head <rev>@head`` on a copy of the repository's
    migrations (the repository's own versions/ is never written): the new file revises that
    branch's head only and the other branches keep theirs."""
    copy = tmp_path / "checkout"
    shutil.copytree(
        ROOT / "layers" / "common" / "studyhub",
        copy / "layers" / "common" / "studyhub",
        ignore=shutil.ignore_patterns("__pycache__", "data"),
    )
    shutil.copy(ROOT / "alembic.ini", copy / "alembic.ini")
    env = {k: v for k, v in os.environ.items() if k not in BASE_ENV_KEYS}
    env["STUDYHUB_VAR_DIR"] = str(tmp_path / "var")
    before = set(os.listdir(ROOT / "layers" / "common" / "studyhub" / "migrations" / "versions"))
    heads = script_heads()
    community_head = next(head for head in heads if "community" in head)

    alembic(env, "upgrade", "heads", cwd=copy)
    alembic(
        env, "revision", "--autogenerate", "-m", "community: probe",
        "--head", "0004_community@head", "--rev-id", "9999_community_probe", cwd=copy,
    )  # fmt: skip

    written = copy / "layers" / "common" / "studyhub" / "migrations" / "versions" / "9999_community_probe.py"
    text = written.read_text(encoding="utf-8")
    assert f"down_revision = {community_head!r}" in text
    assert re.search(r"def upgrade\(\) -> None:\n(    #.*\n)?    pass\n", text), text  # nothing differs: empty
    assert revisions(alembic(env, "heads", cwd=copy)) == heads - {community_head} | {"9999_community_probe"}
    assert set(os.listdir(ROOT / "layers" / "common" / "studyhub" / "migrations" / "versions")) == before
