"""Where the console is announced and served besides the embedded front door (issue 16):
``studyhub serve``'s banner names it first, and ``studyhub nginx-config --static-root`` alone
serves the build shipped in ``console/dist`` (a directory still overrides it), compressed."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from local.console import CONSOLE_DIST
from local.serve import banner
from studyhub.ops.cli import main


def test_the_banner_names_the_console_first():
    lines = [line.strip() for line in banner("0.0.0.0", 8123, ["users"]).splitlines() if line.strip()]
    assert lines[1].startswith("Console") and lines[1].split()[1] == "http://127.0.0.1:8123/"


def test_static_root_alone_is_the_shipped_console():
    result = CliRunner().invoke(main, ["nginx-config", "--static-root"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"root {CONSOLE_DIST};" in result.output
    assert "gzip on;" in result.output and "application/javascript" in result.output
    assert "add_header Content-Security-Policy \"default-src 'self';" in result.output


def test_static_root_with_a_directory_serves_that_one(tmp_path: Path):
    result = CliRunner().invoke(main, ["nginx-config", "--static-root", str(tmp_path)], catch_exceptions=False)
    assert f"root {tmp_path};" in result.output and f"root {CONSOLE_DIST};" not in result.output
