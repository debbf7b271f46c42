"""The one skip rule (``missing`` in tests/conftest.py): every skip goes through it, an absent
installable service fails under CI=true, and a server that can't be installed here is reported
as NOT RUN at the end of every run instead of passing silently."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
DIRECT_SKIPS = {"skip", "skipif", "importorskip", "xfail"}

PROBE = """
from conftest import missing


def test_needs_an_installable_service():
    missing("the service is not installed")


def test_needs_a_server_that_cannot_be_installed_here():
    missing("no such server can be installed here", installable=False)


def test_runs():
    pass
"""


def is_direct_skip(node: ast.AST) -> bool:
    """``pytest.skip``, ``pytest.importorskip``, ``pytest.xfail``, ``pytest.mark.skipif``, ..."""
    if not isinstance(node, ast.Attribute) or node.attr not in DIRECT_SKIPS:
        return False
    owner = node.value
    return (isinstance(owner, ast.Name) and owner.id == "pytest") or (
        isinstance(owner, ast.Attribute) and owner.attr == "mark"
    )


def direct_skips(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    return [f"{path.relative_to(TESTS)}:{node.lineno}" for node in ast.walk(tree) if is_direct_skip(node)]


def test_no_test_skips_but_through_missing():
    test_files = [path for path in sorted(TESTS.rglob("*.py")) if path.name != "conftest.py"]
    offenders = [hit for path in test_files for hit in direct_skips(path)]
    assert offenders == [], "use conftest.missing(), or @pytest.mark.mysql_only/embedded_only for a one-stack test"


_probe_runs: dict[bool, subprocess.CompletedProcess] = {}


def run_probe(tmp_path: Path, ci: bool) -> subprocess.CompletedProcess:
    """The probe tests run by a pytest of their own (once per CI setting: a run takes seconds)."""
    if ci in _probe_runs:
        return _probe_runs[ci]
    (tmp_path / "test_probe.py").write_text(PROBE)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])
    if ci:
        env["CI"] = "true"
    # -rN: the NOT RUN section must not depend on the -r option; -p conftest: our rule and hooks.
    command = [sys.executable, "-m", "pytest", "-q", "-rN", "-p", "no:cacheprovider", "-p", "conftest", "test_probe.py"]
    _probe_runs[ci] = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    return _probe_runs[ci]


@pytest.mark.parametrize("ci", [False, True], ids=["developer-machine", "CI"])
def test_a_server_that_cannot_be_installed_is_listed_as_not_run_in_every_run(tmp_path, ci):
    result = run_probe(tmp_path, ci)
    out = result.stdout
    assert "NOT RUN: 1 tests need a server that cannot be installed here" in out, out
    assert "NOT RUN: no such server can be installed here (1 tests):" in out, out
    assert "test_probe.py::test_needs_a_server_that_cannot_be_installed_here" in out, out
    assert "test_probe.py::test_needs_an_installable_service" not in out.split("NOT RUN")[-1], out


def test_an_absent_installable_service_skips_on_a_developer_machine(tmp_path):
    result = run_probe(tmp_path, ci=False)
    assert result.returncode == 0, result.stdout
    assert "1 passed, 2 skipped" in result.stdout, result.stdout


def test_an_absent_installable_service_fails_under_ci(tmp_path):
    result = run_probe(tmp_path, ci=True)
    assert result.returncode == 1, result.stdout
    assert "1 failed, 1 passed, 1 skipped" in result.stdout, result.stdout
    assert "the service is not installed; under CI=true this is a failure, not a skip" in result.stdout


# --- a test about one stack is deselected on the other, never skipped ----------------------------


@pytest.mark.embedded_only
def test_an_embedded_only_test_runs_on_the_embedded_stack_alone(platform):
    assert platform.name == "embedded"


@pytest.mark.mysql_only
def test_a_mysql_only_test_runs_on_the_mysql_stack_alone(platform):
    assert platform.is_mysql
