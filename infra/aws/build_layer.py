#!/usr/bin/env python3
"""Build the common Lambda layer: ``python/studyhub``, ``python/jobs`` and the dependencies the
functions need at run time, for the Lambda platform, byte-compiled, zipped.

    python infra/aws/build_layer.py [--out infra/aws/build] [--with-boto3] [--measure]
    aws lambda publish-layer-version --layer-name studyhub-common --compatible-runtimes python3.12 \\
        --zip-file fileb://infra/aws/build/studyhub-layer.zip

- **Dependencies**: pyproject's ``dependencies`` minus what a function doesn't import on Lambda:
  ``chalice`` (``chalice package`` puts Chalice's runtime module in every function's zip),
  ``waitress`` (the local server) and ``boto3`` (the python3.12 runtime ships it; ``--with-boto3``
  pins our own). Test tools (pytest, moto, ...) are extras and never listed. Installed with
  ``pip install --platform manylinux2014_x86_64 --implementation cp --python-version 3.12
  --only-binary=:all:`` (wheels that load on Lambda's Amazon Linux 2023, whatever this machine
  is); the few pure-Python projects published only as sdists (jieba) are installed with
  ``--no-deps`` after them. ``pycurl`` is not included: its wheels need glibc 2.28, and a
  function only *publishes* jobs to SQS (boto3); the Celery workers that consume SQS run in the
  container image (infra/Dockerfile), which has it.
- **Bytecode**: ``python3.12 -m compileall --invalidation-mode unchecked-hash``: the runtime's
  interpreter (this script may run on another Python; ``python3.12`` is found on ``PATH``, or
  ``--python``). A
  Lambda can't write ``.pyc`` (read-only ``/opt``), and importing the layer from source costs
  about 1 s per cold start (measured, README). Unchecked hashes because the zip round trip does
  not keep the source timestamps a default ``.pyc`` is checked against.
- Refuses to build when the unzipped size exceeds Lambda's 250 MB (function + layers).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RUNTIME = (3, 12)  # Lambda's python3.12 runtime (SnapStart for Python needs 3.12 or later)
PLATFORM = "manylinux2014_x86_64"
EXCLUDED = {"chalice", "waitress", "boto3"}
SDIST_ONLY = {"jieba", "python-alipay-sdk"}  # pure Python, published as sdists only
PACKAGES = {"studyhub": ROOT / "layers" / "common" / "studyhub", "jobs": ROOT / "jobs"}
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
PRUNE_DIRS = {"__pycache__", "tests", "test"}  # dependency test suites; ours have none here


def requirement_name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def runtime_requirements(with_boto3: bool) -> list[str]:
    """pyproject's dependencies, less what a function doesn't need on Lambda."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    excluded = EXCLUDED - ({"boto3"} if with_boto3 else set())
    requirements, seen = [], set()
    for requirement in data["project"]["dependencies"]:
        name = requirement_name(requirement)
        if name not in excluded and name not in seen:
            seen.add(name)
            requirements.append(requirement)
    return requirements


def pip(*args: str) -> None:
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile", *args]
    subprocess.run(command, check=True)


def tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def runtime_python(given: str | None = None) -> str:
    """The Lambda runtime's interpreter here (its bytecode is what the layer ships): ``--python``,
    ``$LAMBDA_PYTHON``, this one, ``python3.12`` on ``PATH``, or a pyenv-installed 3.12."""
    version = f"{RUNTIME[0]}.{RUNTIME[1]}"
    if given or os.environ.get("LAMBDA_PYTHON"):
        candidates = [given or os.environ["LAMBDA_PYTHON"]]
    else:
        pyenv = sorted(Path.home().glob(f".pyenv/versions/{version}*/bin/python{version}"), reverse=True)
        candidates = [sys.executable, shutil.which(f"python{version}"), *map(str, pyenv)]
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    raise SystemExit(f"no Python {version} found (the Lambda runtime's bytecode needs it): pass --python")


def build(out: Path, *, with_boto3: bool = False, python: str | None = None) -> Path:
    runtime = runtime_python(python)
    stage = out / "layer"
    target = stage / "python"
    shutil.rmtree(stage, ignore_errors=True)
    target.mkdir(parents=True)
    requirements = runtime_requirements(with_boto3)
    # sdist-only projects become pure-Python wheels here, so that the one platform-pinned resolve
    # below also brings their dependencies (Alipay's SDK needs pycryptodomex, a compiled wheel)
    wheelhouse = out / "wheelhouse"
    shutil.rmtree(wheelhouse, ignore_errors=True)
    sdists = [r for r in requirements if requirement_name(r) in SDIST_ONLY]
    if sdists:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--wheel-dir",
                str(wheelhouse),
                *sdists,
            ],
            check=True,
        )
    pip(
        "--target",
        str(target),
        "--platform",
        PLATFORM,
        "--implementation",
        "cp",
        "--python-version",
        f"{RUNTIME[0]}.{RUNTIME[1]}",
        "--only-binary=:all:",
        "--find-links",
        str(wheelhouse),
        *requirements,
    )
    for name, source in PACKAGES.items():
        shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for directory in sorted(target.rglob("*"), reverse=True):
        if directory.is_dir() and directory.name in PRUNE_DIRS and "dist-info" not in str(directory):
            shutil.rmtree(directory, ignore_errors=True)
    subprocess.run(
        [runtime, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", str(target)],
        check=True,
    )
    unzipped = tree_size(stage)
    if unzipped > LAMBDA_UNZIPPED_LIMIT:
        raise SystemExit(f"error: the layer unzips to {unzipped / 2**20:.0f} MB, over Lambda's 250 MB")
    zip_path = out / "studyhub-layer.zip"
    tmp = zip_path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(stage.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(stage).as_posix())
    os.replace(tmp, zip_path)
    print(
        f"{zip_path}: {zip_path.stat().st_size / 2**20:.1f} MB zipped, {unzipped / 2**20:.1f} MB unzipped "
        f"({len(requirements)} requirements, boto3 {'included' if with_boto3 else 'from the runtime'})"
    )
    return zip_path


# --- what a cold start pays for the layer, with and without its bytecode ------------------------

CHILD = r"""
import json, os, sys, time
t0 = time.perf_counter()
import app
t1 = time.perf_counter()
class Context:
    function_name = "measure"; function_version = "$LATEST"; memory_limit_in_mb = 512
    aws_request_id = "measure"; log_group_name = "/aws/lambda/measure"
    def get_remaining_time_in_millis(self): return 30000
event = {"resource": "/users/health", "path": "/users/health", "httpMethod": "GET", "headers": {},
         "multiValueHeaders": {}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
         "pathParameters": None, "stageVariables": None, "body": None, "isBase64Encoded": False,
         "requestContext": {"resourcePath": "/users/health", "httpMethod": "GET", "path": "/api/users/health",
                            "stage": "api", "requestId": "measure", "identity": {"sourceIp": "127.0.0.1"}}}
status = app.app(event, Context())["statusCode"]
print(json.dumps({"import_ms": (t1 - t0) * 1000, "status": status}))
"""


def measure(zip_path: Path, runs: int = 5, python: str | None = None) -> dict[str, float]:
    """``import app`` of the users function on the extracted layer alone (``-S``: no site-packages;
    the function's own files from a chalice-like copy), with the layer's bytecode and without."""
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(base / "opt")
        task = base / "task"
        shutil.copytree(ROOT / "functions" / "users", task, ignore=shutil.ignore_patterns(".chalice", "__pycache__"))
        import chalice

        shutil.copytree(
            Path(chalice.__file__).parent,
            task / "chalice",
            ignore=shutil.ignore_patterns(
                "__pycache__", "cli", "deploy", "package", "pipeline", "templates", "vendored"
            ),
        )
        env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": f"{task}:{base / 'opt' / 'python'}",
            "STUDYHUB_VAR_DIR": str(base / "var"),
            "PYTHONDONTWRITEBYTECODE": "1",
            "LOG_FILE": "",
        }
        prepare = "from studyhub.migrations.runner import upgrade; upgrade()"
        runtime = runtime_python(python)  # the layer's compiled wheels are the runtime's
        subprocess.run([runtime, "-S", "-c", prepare], env=env, check=True, cwd=task, capture_output=True)
        for label in ("with bytecode", "without bytecode"):
            if label == "without bytecode":
                for cache in list((base / "opt").rglob("__pycache__")):
                    shutil.rmtree(cache)
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                done = subprocess.run(
                    [runtime, "-S", "-c", CHILD], env=env, cwd=task, capture_output=True, text=True, check=True
                )
                total = (time.perf_counter() - started) * 1000
                line = __import__("json").loads(done.stdout.strip().splitlines()[-1])
                assert line["status"] == 200, done.stdout
                times.append(total)
            results[label] = statistics.median(times)
            print(f"users cold start on the layer {label}: median {results[label]:.0f} ms over {runs} runs")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE / "build")
    parser.add_argument("--with-boto3", action="store_true", help="ship boto3 in the layer instead of the runtime's")
    parser.add_argument("--python", help=f"the Python {RUNTIME[0]}.{RUNTIME[1]} interpreter (default: found on PATH)")
    parser.add_argument("--measure", action="store_true", help="time the users function's cold start on the layer")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    zip_path = build(args.out, with_boto3=args.with_boto3, python=args.python)
    if args.measure:
        measure(zip_path, python=args.python)
    return 0


if __name__ == "__main__":
    sys.exit(main())
