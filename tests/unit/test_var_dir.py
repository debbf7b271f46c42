"""Where embedded state lives (issue 13: ``chalice local`` shared a fixed ``/tmp/studyhub``
between everyone on the host, forced by each function's ``.chalice/config.json``)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

from studyhub.core.config import load_settings
from studyhub.core.routing import FUNCTIONS_DIR, ROOT

SECRET = {"JWT_SECRET": "x" * 64}


def test_chalice_local_uses_the_users_own_state_dir(tmp_path):
    alice, bob = tmp_path / "alice", tmp_path / "bob"
    for home in (alice, bob):
        home.mkdir()
    settings = load_settings({"AWS_CHALICE_CLI_MODE": "true", "HOME": str(alice), **SECRET})
    assert settings.var_dir == alice / ".local" / "state" / "studyhub"
    assert settings.database_url == f"sqlite:///{alice / '.local' / 'state' / 'studyhub' / 'studyhub.sqlite3'}"
    assert load_settings({"AWS_CHALICE_CLI_MODE": "true", "HOME": str(bob), **SECRET}).var_dir.is_relative_to(bob)


def test_xdg_state_home_and_studyhub_var_dir_are_honoured(tmp_path):
    env = {"AWS_CHALICE_CLI_MODE": "true", "HOME": str(tmp_path), **SECRET}
    assert load_settings({**env, "XDG_STATE_HOME": str(tmp_path / "state")}).var_dir == tmp_path / "state" / "studyhub"
    assert load_settings({**env, "STUDYHUB_VAR_DIR": str(tmp_path / "v")}).var_dir == tmp_path / "v"


def test_on_lambda_the_state_is_the_containers_tmp_and_elsewhere_var_here(tmp_path, monkeypatch):
    assert load_settings({"AWS_LAMBDA_FUNCTION_NAME": "studyhub-users-prod", **SECRET}).var_dir == Path("/tmp/studyhub")
    monkeypatch.chdir(tmp_path)
    assert load_settings(dict(SECRET)).var_dir == tmp_path / "var"


def test_without_a_home_a_tmp_dir_per_uid_that_another_user_cant_plant(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    settings = load_settings({"AWS_CHALICE_CLI_MODE": "true", **SECRET})
    assert settings.var_dir == tmp_path / f"studyhub-{os.getuid()}"
    assert settings.var_dir.stat().st_mode & 0o077 == 0  # private
    if os.geteuid() == 0:  # root can play the other user who got there first
        planted = tmp_path / "other"
        planted.mkdir()
        monkeypatch.setattr(tempfile, "tempdir", str(planted))
        (planted / f"studyhub-{os.getuid()}").mkdir()
        os.chown(planted / f"studyhub-{os.getuid()}", 65534, 65534)
        with pytest.raises(ValueError, match="belongs to another user"):
            load_settings({"AWS_CHALICE_CLI_MODE": "true", **SECRET})


def test_no_chalice_project_forces_a_shared_var_dir():
    """Chalice applies a stage's environment over the shell's: a fixed STUDYHUB_VAR_DIR there is
    the same directory for every user, and can't be overridden."""
    configs = [*FUNCTIONS_DIR.glob("*/.chalice/config.json"), ROOT / "infra/aws/scheduler/.chalice/config.json"]
    assert len(configs) >= 6
    for path in configs:
        for stage in json.loads(path.read_text())["stages"].values():
            assert "STUDYHUB_VAR_DIR" not in stage.get("environment_variables", {}), path
