"""Cold start of every function, measured the way Lambda pays it.

For each function in routes.yaml: a fresh interpreter (a subprocess) with the function's directory
as working directory runs ``import app`` (as Lambda's bootstrap does with the handler
``app.app``) and calls ``app.app(event, context)`` once with an API Gateway proxy event for
``GET /<group>/health``. Recorded per run: wall time from spawning the interpreter to the first
response (interpreter start included), the CPU time the interpreter used until then (user +
sys: the figure that other load on the machine disturbs least), the ``import app`` part, the
first call, and the peak RSS (``ru_maxrss``). Every function runs ``--runs`` times after one unmeasured warm-up (which writes
the ``.pyc`` files a Lambda package built with ``compileall`` would ship, into a private pycache
prefix: nothing is written into the repository); the medians are reported. The same is measured
with no ``.pyc`` at all (``--no-bytecode-runs``): what a package shipped without bytecode costs.

The settings are the embedded defaults (SQLite, embedded cache, files) in a temporary var dir
that is migrated before the first measurement, so the health check really touches a database
and a cache. A bare Chalice app is measured the same way as the floor.

    python bench/cold_start.py [--runs 7] [--no-bytecode-runs 3] [--function users]... [--importtime] [--no-write]

Writes ``bench/results/cold_start.json`` and prints a table. Exit status 1 if the worst function
misses the target (≤ 300 ms, ≤ 60 MB) or a health check doesn't answer 200.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "cold_start.json"
TARGET_MS = 300
TARGET_MB = 60
# Settings that would point the measurement away from the embedded defaults.
SETTINGS_ENV = (
    "DATABASE_URL",
    "REDIS_URL",
    "STORAGE_URL",
    "MEDIA_URL",
    "CELERY_BROKER_URL",
    "SMTP_URL",
    "ELASTICSEARCH_URL",
    "JWT_SECRET",
    "STUDYHUB_VAR_DIR",
    "CACHE_KEY_PREFIX",
    "LOG_FILE",
    "LOG_FORMAT",
    "LOG_LEVEL",
    "PYTHONPATH",
    "PYTHONSTARTUP",
    "PYTHONPROFILEIMPORTTIME",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONPYCACHEPREFIX",
)

# Modules a health check should not need to import (the list), reported when loaded.
HEAVY = (
    "boto3",
    "botocore",
    "PIL",
    "redis",
    "celery",
    "kombu",
    "jwt",
    "cryptography",
    "argon2",
    "elasticsearch",
    "alipay",
    "pymysql",
    "multipart",
    "yaml",
    "sqlalchemy",
    "pydantic",
    "diskcache",
)

# Runs inside the fresh interpreter: nothing here may import more than Lambda's bootstrap would.
CHILD = r"""
import time
_t0 = time.time()
import json, os, resource, sys

class _Context:
    function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "cold-start")
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    aws_request_id = "cold-start"
    log_group_name = "/aws/lambda/cold-start"
    def get_remaining_time_in_millis(self):
        return 30000

event = json.loads(os.environ["COLD_START_EVENT"])
_t1 = time.time()
import app
_t2 = time.time()
result = app.app(event, _Context())
_t3 = time.time()
_usage = resource.getrusage(resource.RUSAGE_SELF)
sys.stdout.write(json.dumps({
    "t_start": _t0, "t_import_start": _t1, "t_imported": _t2, "t_answered": _t3,
    "status": result.get("statusCode"), "body": result.get("body"),
    "maxrss_kb": _usage.ru_maxrss,
    "cpu_s": _usage.ru_utime + _usage.ru_stime,
    "modules": len(sys.modules),
    "loaded": sorted({m.split(".")[0] for m in sys.modules}),
}))
"""

BARE_APP = """from chalice import Chalice

app = Chalice(app_name="bare")


@app.route("/bare/health")
def health():
    return {"status": "ok", "function": "bare"}
"""


def health_event(group: str, prefix: str = "/api") -> dict:
    """An API Gateway (REST, proxy integration) event for ``GET /<group>/health``."""
    path = f"/{group}/health"
    headers = {"accept": "application/json", "host": "cold-start.local", "x-request-id": uuid.uuid4().hex}
    return {
        "resource": path,
        "path": path,
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": "GET",
            "path": prefix + path,
            "stage": prefix.strip("/"),
            "requestId": headers["x-request-id"],
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": None,
        "isBase64Encoded": False,
    }


def clean_env(var_dir: Path, pycache: Path, *, bytecode: bool) -> dict[str, str]:
    """Embedded defaults in ``var_dir``. Bytecode goes to a private ``pycache`` tree (nothing is
    written into the repository): with ``bytecode`` the warm-up run fills it, as a Lambda package
    built with ``compileall`` ships it; without, every run compiles every module from source."""
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_ENV}
    env["STUDYHUB_VAR_DIR"] = str(var_dir)
    env["LOG_FILE"] = str(var_dir / "logs" / "studyhub.log")
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    if not bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def prepare(env: dict[str, str], cwd: Path) -> None:
    """Migrate the embedded database (and create the JWT secret) before anything is timed."""
    result = subprocess.run(
        [sys.executable, "-m", "studyhub.ops.cli", "migrate"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise SystemExit(f"migration failed:\n{result.stdout}\n{result.stderr}")


def one_run(directory: Path, group: str, env: dict[str, str], *, importtime: bool = False) -> dict:
    """One cold start in a fresh interpreter; times in ms, peak RSS in MB."""
    run_env = dict(env, COLD_START_EVENT=json.dumps(health_event(group)), AWS_LAMBDA_FUNCTION_NAME=f"studyhub-{group}")
    args = [sys.executable, *(["-X", "importtime"] if importtime else []), "-c", CHILD]
    spawned = time.time()
    proc = subprocess.run(args, cwd=directory, env=run_env, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"{group}: the interpreter exited with {proc.returncode}:\n{proc.stderr[-3000:]}")
    data = json.loads(proc.stdout)
    return {
        "total_ms": (data["t_answered"] - spawned) * 1000,
        "interpreter_ms": (data["t_start"] - spawned) * 1000,
        "import_ms": (data["t_imported"] - data["t_import_start"]) * 1000,
        "first_call_ms": (data["t_answered"] - data["t_imported"]) * 1000,
        "cpu_ms": data["cpu_s"] * 1000,
        "rss_mb": data["maxrss_kb"] / 1024,
        "status": data["status"],
        "body": data["body"],
        "modules": data["modules"],
        "loaded": data["loaded"],
        "stderr": proc.stderr,
    }


def import_cost_by_package(stderr: str, limit: int = 10) -> dict[str, float]:
    """Self import time summed per top-level package, from ``-X importtime`` output (ms)."""
    totals: dict[str, float] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, _cumulative_us, name = line[len("import time:") :].split("|")
        package = name.strip().split(".")[0]
        totals[package] = totals.get(package, 0.0) + int(self_us) / 1000
    ranked = sorted(totals.items(), key=lambda item: item[1], reverse=True)[:limit]
    return {package: round(ms, 1) for package, ms in ranked}


def measure(directory: Path, group: str, env: dict[str, str], runs: int) -> dict:
    """Medians over ``runs`` cold starts (after one unmeasured warm-up); an error is recorded."""
    try:
        one_run(directory, group, env)  # warm-up: bytecode written (unless disabled), page cache warm
        samples = [one_run(directory, group, env) for _ in range(runs)]
    except (RuntimeError, ValueError, subprocess.TimeoutExpired) as error:
        return {"status": None, "error": str(error)[-2000:]}
    bad = [s for s in samples if s["status"] != 200]
    summary = {
        key: round(statistics.median(s[key] for s in samples), 1)
        for key in ("total_ms", "cpu_ms", "interpreter_ms", "import_ms", "first_call_ms", "rss_mb")
    }
    summary.update(
        {
            "min_total_ms": round(min(s["total_ms"] for s in samples), 1),
            "max_total_ms": round(max(s["total_ms"] for s in samples), 1),
            "modules_loaded": samples[0]["modules"],
            "heavy_loaded": [m for m in HEAVY if m in samples[0]["loaded"]],
            "status": samples[0]["status"] if not bad else bad[0]["status"],
            "health_body": json.loads(samples[0]["body"]) if samples[0]["body"] else None,
            "runs": [round(s["total_ms"], 1) for s in samples],
        }
    )
    return summary


def measure_all(targets: dict[str, tuple[Path, str]], env: dict[str, str], runs: int) -> dict[str, dict]:
    return {name: measure(directory, group, env, runs) for name, (directory, group) in targets.items()}


def print_table(title: str, results: dict[str, dict]) -> None:
    print(f"\n{title}")
    header = (
        f"{'function':<16}{'cold start':>12}{'(min)':>9}{'CPU':>9}{'interpreter':>13}{'import app':>12}"
        f"{'1st call':>10}{'peak RSS':>10}{'modules':>9}{'status':>8}"
    )
    print(header)
    print("-" * len(header))
    for name, r in results.items():
        if "error" in r:
            print(f"{name:<16} failed: {r['error'].strip().splitlines()[-1]}")
            continue
        print(
            f"{name:<16}{r['total_ms']:>9.0f} ms{r['min_total_ms']:>6.0f} ms{r['cpu_ms']:>6.0f} ms"
            f"{r['interpreter_ms']:>10.0f} ms{r['import_ms']:>9.0f} ms"
            f"{r['first_call_ms']:>7.0f} ms{r['rss_mb']:>7.1f} MB{r['modules_loaded']:>9}{r['status']:>8}"
        )


def verdict(results: dict[str, dict], functions: set[str]) -> dict:
    measured = {k: v for k, v in results.items() if k in functions and "error" not in v}
    failed = sorted(k for k, v in results.items() if v["status"] != 200)
    if not measured:
        return {"meets_target": False, "failed": failed}
    slowest = max(measured, key=lambda k: measured[k]["total_ms"])
    biggest = max(measured, key=lambda k: measured[k]["rss_mb"])
    return {
        "cold_start": {"function": slowest, "ms": measured[slowest]["total_ms"]},
        "peak_rss": {"function": biggest, "mb": measured[biggest]["rss_mb"]},
        "failed": failed,
        "meets_target": measured[slowest]["total_ms"] <= TARGET_MS
        and measured[biggest]["rss_mb"] <= TARGET_MB
        and not failed,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="measured runs per function (median reported)")
    parser.add_argument(
        "--no-bytecode-runs",
        type=int,
        default=3,
        help="also measure with no .pyc at all (every module compiled from source on every "
        "start, as a Lambda package shipped without compileall); 0 to skip",
    )
    parser.add_argument("--function", action="append", dest="functions", help="only these functions")
    parser.add_argument("--importtime", action="store_true", help="also sum each function's import time per package")
    parser.add_argument("--no-write", action="store_true", help=f"don't write {RESULTS.relative_to(ROOT)}")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    from studyhub.core.routing import FUNCTIONS_DIR, load_routing

    routing = load_routing()
    names = args.functions or list(routing.functions)
    unknown = set(names) - set(routing.functions)
    if unknown:
        parser.error(f"not in routes.yaml: {', '.join(sorted(unknown))}")

    load = os.getloadavg()
    imports: dict[str, dict[str, float]] = {}
    no_bytecode: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="studyhub-cold-") as tmp:
        tmp_path = Path(tmp)
        env = clean_env(tmp_path / "var", tmp_path / "pycache", bytecode=True)
        prepare(env, tmp_path)
        bare = tmp_path / "bare"
        bare.mkdir()
        (bare / "app.py").write_text(BARE_APP)
        targets = {"(bare Chalice)": (bare, "bare")}
        targets.update({name: (FUNCTIONS_DIR / name, routing.functions[name].prefix.strip("/")) for name in names})
        results = measure_all(targets, env, args.runs)
        if args.importtime:
            for name in names:
                if "error" not in results[name]:
                    run = one_run(*targets[name], env, importtime=True)
                    imports[name] = import_cost_by_package(run["stderr"])
        if args.no_bytecode_runs > 0:
            cold_env = clean_env(tmp_path / "var", tmp_path / "empty-pycache", bytecode=False)
            no_bytecode = measure_all(targets, cold_env, args.no_bytecode_runs)

    summary = verdict(results, set(routing.functions))
    print_table(f"cold start, .pyc present (median of {args.runs}; machine load {load[0]:.1f})", results)
    if no_bytecode:
        print_table(f"cold start, no .pyc at all (median of {args.no_bytecode_runs})", no_bytecode)
    if "cold_start" in summary:
        print(
            f"\nworst: {summary['cold_start']['function']} {summary['cold_start']['ms']:.0f} ms "
            f"(target ≤ {TARGET_MS}), {summary['peak_rss']['function']} {summary['peak_rss']['mb']:.1f} MB "
            f"(target ≤ {TARGET_MB}) -> {'OK' if summary['meets_target'] else 'MISSED'}"
        )
    if summary["failed"]:
        print(f"health did not answer 200: {', '.join(summary['failed'])}")
    print("\nimported by the health check (of " + ", ".join(HEAVY) + "):")
    for name, r in results.items():
        print(f"  {name:<16}{', '.join(r.get('heavy_loaded', [])) or '-'}")
    for name, costs in imports.items():
        print(
            f"import time of {name} by package (-X importtime, self ms summed): "
            + ", ".join(f"{package} {ms:.0f}" for package, ms in costs.items())
        )

    report = {
        "what": "fresh interpreter -> import app (cwd = functions/<group>) -> app.app(API Gateway proxy event "
        "GET /<group>/health, context); embedded defaults (SQLite, embedded cache) in a migrated temp "
        "var dir; cold start = spawn to first response; medians",
        "measured_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "machine": {
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "system": f"{platform.system()} {platform.release()}",
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in load],
        },
        "runs_per_function": args.runs,
        "target": {"cold_start_ms": TARGET_MS, "peak_rss_mb": TARGET_MB},
        "worst": summary,
        "meets_target": summary["meets_target"],
        "functions": results,
        "no_bytecode": {
            "what": "PYTHONDONTWRITEBYTECODE and an empty pycache prefix: every module, "
            "SQLAlchemy included, compiled from source on every start",
            "runs_per_function": args.no_bytecode_runs,
            "functions": no_bytecode,
        }
        if no_bytecode
        else None,
        **({"import_ms_by_package": imports} if imports else {}),
    }
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"\nwritten to {RESULTS.relative_to(ROOT)}")
    return 0 if summary["meets_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
