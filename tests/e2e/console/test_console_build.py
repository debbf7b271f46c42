"""The shipped console is what its sources build (issue 16): ``npm ci`` from the lock file and
``npm run build`` (types from the contract, ``vue-tsc``, ``vite build``) in a copy of ``console/``
reproduce the committed ``console/dist`` byte for byte. A contract change that breaks a page
fails here (the typecheck), and so does a source change whose build was not committed."""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import missing

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
CONSOLE = ROOT / "console"
CONTRACT = Path("layers/common/studyhub/data/openapi.json")  # what `npm run types` reads (../)


def tree(root: Path) -> dict[str, Path]:
    return {str(path.relative_to(root)): path for path in sorted(root.rglob("*")) if path.is_file()}


def differences(built: Path, shipped: Path) -> list[str]:
    ours, theirs = tree(built), tree(shipped)
    out = [f"only in the fresh build: {name}" for name in sorted(set(ours) - set(theirs))]
    out += [f"only in console/dist: {name}" for name in sorted(set(theirs) - set(ours))]
    out += [
        f"differs: {name}"
        for name in sorted(set(ours) & set(theirs))
        if not filecmp.cmp(ours[name], theirs[name], shallow=False)
    ]
    return out


def test_the_lock_file_builds_the_shipped_bundle(tmp_path):
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        missing("Node.js 20 and npm are not installed (Debian: apt-get install nodejs npm; scripts/test.sh does it)")
    version = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip().lstrip("v")
    if tuple(int(part) for part in version.split(".")[:2]) < (20, 19):
        missing(f"Node.js {version} is older than Vite 7 needs (20.19); install Node 20 (NodeSource or Debian 13)")
    copy = tmp_path / "console"
    shutil.copytree(CONSOLE, copy, ignore=shutil.ignore_patterns("node_modules", "dist", "schema.d.ts"))
    (tmp_path / CONTRACT).parent.mkdir(parents=True)
    shutil.copy2(ROOT / CONTRACT, tmp_path / CONTRACT)
    env = {**os.environ, "npm_config_update_notifier": "false", "npm_config_fund": "false", "CI": "true"}
    for command in ([npm, "ci", "--no-audit", "--prefer-offline"], [npm, "run", "build"]):
        done = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"{' '.join(command[1:])} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    found = differences(copy / "dist", CONSOLE / "dist")
    assert not found, (
        "console/dist is not what its sources build (rebuild: cd console && npm run build):\n" + "\n".join(found)
    )
