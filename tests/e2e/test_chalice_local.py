"""``chalice local`` in a function's directory, as the README says to run it (issue 13): it
serves the function from the layer, and its embedded state is the user's own
(``~/.local/state/studyhub``, shared by the functions they run), not a fixed ``/tmp/studyhub``."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest
from conftest import BASE_ENV_KEYS, free_port
from test_frontdoor_nginx import _die_with_parent, _stop, _tail

from studyhub.core.routing import FUNCTIONS_DIR

pytestmark = pytest.mark.slow
CHALICE = "import sys; from chalice.cli import main; sys.exit(main())"  # the `chalice` script


def test_chalice_local_serves_a_function_on_the_users_own_state(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in BASE_ENV_KEYS and k != "XDG_STATE_HOME"}
    env.update({"HOME": str(home), "PYTHONUNBUFFERED": "1"})
    state = home / ".local" / "state" / "studyhub"
    # the README's step: migrate that directory first, then start the function
    subprocess.run(
        [sys.executable, "-m", "studyhub.ops.cli", "migrate"],
        env={**env, "STUDYHUB_VAR_DIR": str(state)},
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = free_port()
    log = tmp_path / "chalice.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", CHALICE, "local", "--port", str(port), "--no-autoreload"],
            cwd=FUNCTIONS_DIR / "users",
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, _tail(log)
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/users/area", timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, _tail(log)
                time.sleep(0.3)
        assert answer.status_code == 200 and answer.json() == [], answer.text
        key = "0f4b1c2e-1111-4222-8333-944445555666"
        assert httpx.get(f"http://127.0.0.1:{port}/users/image/verification/{key}").status_code == 200
        # the captcha went to this user's embedded cache, the log to its log file
        assert any((state / "cache").iterdir())
        assert "path=/api/users/image/verification/{uuid} status=200" in (state / "logs" / "studyhub.log").read_text()
    finally:
        _stop(proc)
