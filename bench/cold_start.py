"""Cold start of every function, measured the way Lambda pays it, beside its floor (issue 15).

For each function in routes.yaml, two first answers: (a) its health check and (b) a real route —
an authenticated GET on MariaDB with a token made for a seeded user (``GET /work/topics`` for
work; a typical list or detail for the others, see ``REAL_ROUTES``). Each is a fresh interpreter
(a subprocess) whose working directory is the function's directory: ``import app`` (as Lambda's
bootstrap does with the handler ``app.app``), ``app.app(event, context)`` once with an API Gateway
proxy event, then exit. Recorded per run:

- ``answer_ms``: spawn to the first answer; ``exit_ms``: spawn to the interpreter's exit (the
  target's "spawn → first answer → exit": shutdown counts);
- ``cpu_ms``: the CPU time (user + sys) the interpreter used until it exited, read from the
  parent's ``RUSAGE_CHILDREN``: the figure other load on a shared machine disturbs least;
- ``import_ms`` (``import app``), ``first_call_ms``, peak RSS, modules loaded.

The floor is a bare Chalice app that imports SQLAlchemy Core and PyMySQL only and answers the
same two ways on the same database: ``SELECT 1`` for health, the first page of topics and their
count (plain SQL through Core) for the real route. Everything is byte-compiled (one unmeasured
warm-up writes the ``.pyc`` files into a private pycache prefix, as a Lambda package built with
``compileall`` ships them; nothing is written into the repository), the runs of every target
interleave (load on the machine drifts evenly over all of them), medians are reported.

Targets (issue 15): the worst function's real route ≤ 1.3 × the floor's; every health ≤ the
floor's health + 100 ms. Judged on ``exit_ms`` and on ``cpu_ms``; the exit status follows CPU
time (the one a busy shared machine leaves readable), both verdicts are written.

    python bench/cold_start.py [--runs 7] [--function work]... [--importtime] [--tree DIR] [--no-write]

``--tree DIR`` measures another checkout's functions and layer (e.g. ``git archive`` of an older
commit unpacked in DIR) against the same floor: how before/after figures are taken in one run.
Needs MariaDB (``--mysql-url``) and Redis (``--redis-url``); the database it creates is dropped.
Writes ``bench/results/cold_start.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "cold_start.json"
ROUTE_RATIO = 1.3  # real route: ≤ 1.3 × the floor
HEALTH_EXTRA_MS = 100  # health: ≤ the floor + 100 ms
MYSQL_URL = os.environ.get("TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
USER = "teacher1"  # a demo user (studyhub seed --demo): sees topics, classes, articles
FLOOR = "(floor: bare Chalice + Core + PyMySQL)"

# Settings that would point the measurement somewhere else; set again below as needed.
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

# Packages reported when a first answer loaded them (what a health check should not need).
HEAVY = ("sqlalchemy.orm", "pydantic", "jwt", "cryptography", "redis", "pymysql", "boto3", "PIL", "celery", "yaml")

# The real route of each function: (resource, path parameters or None, query). ``{me}`` is the
# seeded user's id.
REAL_ROUTES: dict[str, tuple[str, dict[str, str] | None, dict[str, str] | None]] = {
    "users": ("/users/users/{id}", {"id": "{me}"}, None),
    "school": ("/school/classes", None, None),
    "work": ("/work/topics", None, None),
    "community": ("/community/articles", None, None),
    "shopping": ("/shopping/commodities", None, None),
    "meta": ("/", None, None),  # meta has no database route: the discovery document
}

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
if os.environ.get("UNFREEZE"):
    import gc
    gc.unfreeze()
_usage = resource.getrusage(resource.RUSAGE_SELF)
sys.stdout.write(json.dumps({
    "t_start": _t0, "t_import_start": _t1, "t_imported": _t2, "t_answered": _t3,
    "status": result.get("statusCode"), "body": (result.get("body") or "")[:300],
    "maxrss_kb": _usage.ru_maxrss,
    "modules": len(sys.modules),
    "loaded": sorted(m for m in sys.modules if m.count(".") <= 1),
}))
sys.stdout.flush()
"""

BARE_APP = """from chalice import Chalice
import os

import pymysql  # noqa: F401 - the driver, imported as SQLAlchemy's dialect would
from sqlalchemy import create_engine, text

app = Chalice(app_name="bare")
engine = None


def connect():
    global engine
    engine = engine or create_engine(os.environ["DATABASE_URL"])
    return engine.connect()


@app.route("/bare/health")
def health():
    with connect() as conn:
        conn.execute(text("SELECT 1"))
    return {"status": "ok", "function": "bare"}


@app.route("/bare/topics")
def topics():
    with connect() as conn:
        count = conn.execute(text("SELECT COUNT(*) FROM topics")).scalar()
        rows = conn.execute(text("SELECT id, subject, type, score, label_id, user_id FROM topics ORDER BY id DESC LIMIT 10"))
        results = [dict(row._mapping) for row in rows]
    return {"count": count, "results": results}
"""


def api_event(
    path: str,
    *,
    resource_path: str | None = None,
    path_params: dict[str, str] | None = None,
    token: str | None = None,
    prefix: str = "/api",
) -> dict[str, Any]:
    """An API Gateway (REST, proxy integration) event for ``GET path``."""
    headers = {"accept": "application/json", "host": "cold-start.local", "x-request-id": uuid.uuid4().hex}
    if token:
        headers["authorization"] = f"Bearer {token}"
    resource_path = resource_path or path
    return {
        "resource": resource_path,
        "path": path,
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": path_params,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource_path,
            "httpMethod": "GET",
            "path": prefix + path,
            "stage": prefix.strip("/"),
            "requestId": headers["x-request-id"],
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": None,
        "isBase64Encoded": False,
    }


def health_event(group: str, prefix: str = "/api") -> dict[str, Any]:
    """``GET /<group>/health`` (meta, whose prefix is empty: ``GET /health``)."""
    return api_event(f"/{group}/health" if group else "/health", prefix=prefix)


def route_event(name: str, token: str, user_id: int) -> dict[str, Any]:
    resource_path, params, _query = REAL_ROUTES[name]
    params = {k: v.replace("{me}", str(user_id)) for k, v in (params or {}).items()} or None
    path = resource_path
    for key, value in (params or {}).items():
        path = path.replace("{" + key + "}", value)
    return api_event(path, resource_path=resource_path, path_params=params, token=token)


def child_env(var_dir: Path, pycache: Path, database_url: str) -> dict[str, str]:
    """MariaDB + Redis settings in a private var dir; bytecode in a private ``pycache`` tree
    (filled by the warm-up run, as a package built with ``compileall`` ships it)."""
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_ENV}
    env.update(
        {
            "STUDYHUB_VAR_DIR": str(var_dir),
            "LOG_FILE": str(var_dir / "logs" / "studyhub.log"),
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "CELERY_BROKER_URL": REDIS_URL,
            "CACHE_KEY_PREFIX": f"coldstart:{os.getpid()}:",
            "JWT_SECRET": "cold-start-bench-secret-" + uuid.uuid4().hex * 2,
            "PYTHONPYCACHEPREFIX": str(pycache),
        }
    )
    return env


def cli(env: dict[str, str], cwd: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "studyhub.ops.cli", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        raise SystemExit(f"studyhub {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout.strip()


def token_user_id(token: str) -> int:
    payload = token.split(".")[1]
    return int(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"])


def one_run(
    directory: Path, event: dict[str, Any], env: dict[str, str], *, importtime: bool = False, unfreeze: bool = False
) -> dict[str, Any]:
    """One cold start in a fresh interpreter: times in ms, peak RSS in MB."""
    run_env = dict(env, COLD_START_EVENT=json.dumps(event), AWS_LAMBDA_FUNCTION_NAME="studyhub-cold-start")
    if unfreeze:
        run_env["UNFREEZE"] = "1"
    args = [sys.executable, *(["-X", "importtime"] if importtime else []), "-c", CHILD]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    spawned = time.time()
    proc = subprocess.run(args, cwd=directory, env=run_env, capture_output=True, text=True, timeout=120)
    exited = time.time()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"the interpreter exited with {proc.returncode}:\n{proc.stderr[-3000:]}")
    data = json.loads(proc.stdout)
    return {
        "answer_ms": (data["t_answered"] - spawned) * 1000,
        "exit_ms": (exited - spawned) * 1000,
        "cpu_ms": (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000,
        "import_ms": (data["t_imported"] - data["t_import_start"]) * 1000,
        "first_call_ms": (data["t_answered"] - data["t_imported"]) * 1000,
        "rss_mb": data["maxrss_kb"] / 1024,
        "status": data["status"],
        "body": data["body"],
        "modules": data["modules"],
        "loaded": data["loaded"],
        "stderr": proc.stderr,
    }


def import_cost_by_package(stderr: str, limit: int = 8) -> dict[str, float]:
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


FIGURES = ("answer_ms", "exit_ms", "cpu_ms", "import_ms", "first_call_ms", "rss_mb")


def summarize(samples: list[dict[str, Any]]) -> dict[str, Any]:
    summary: dict[str, Any] = {key: round(statistics.median(s[key] for s in samples), 1) for key in FIGURES}
    bad = [s for s in samples if s["status"] != 200]
    summary.update(
        {
            "status": bad[0]["status"] if bad else 200,
            "exit_ms_runs": [round(s["exit_ms"]) for s in samples],
            "cpu_ms_runs": [round(s["cpu_ms"]) for s in samples],
            "modules_loaded": samples[0]["modules"],
            "heavy_loaded": [m for m in HEAVY if m in samples[0]["loaded"]],
        }
    )
    if bad:
        summary["body"] = bad[0]["body"]
    return summary


Target = tuple[str, str, Path, dict[str, Any], dict[str, str]]  # name, kind, directory, event, env


def measure(targets: list[Target], runs: int) -> dict[str, dict[str, dict[str, Any]]]:
    """Medians over ``runs`` cold starts of each target, the runs interleaved across targets,
    after one unmeasured warm-up each (it writes the .pyc files and warms the page cache)."""
    samples: dict[tuple[str, str], list[dict[str, Any]]] = {}
    errors: dict[tuple[str, str], str] = {}
    for index in range(runs + 1):
        for name, kind, directory, event, env in targets:
            if (name, kind) in errors:
                continue
            try:
                sample = one_run(directory, event, env)
            except (RuntimeError, ValueError, subprocess.TimeoutExpired) as error:
                errors[(name, kind)] = str(error)[-2000:]
                continue
            if index:
                samples.setdefault((name, kind), []).append(sample)
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for name, kind, *_ in targets:
        key = (name, kind)
        out.setdefault(name, {})[kind] = {"error": errors[key]} if key in errors else summarize(samples[key])
    return out


def verdict(results: dict[str, dict[str, dict[str, Any]]], measured: list[str], figure: str) -> dict[str, Any]:
    floor = results[FLOOR]
    ok_floor = all("error" not in floor[kind] for kind in ("health", "route"))
    rows = {name: results[name] for name in measured if name in results}
    failed = sorted(
        f"{name} {kind}" for name, r in rows.items() for kind, v in r.items() if "error" in v or v["status"] != 200
    )
    if not ok_floor or not rows:
        return {"figure": figure, "meets_target": False, "failed": failed or ["floor"]}
    routes = {n: r["route"][figure] for n, r in rows.items() if n != "meta" and "error" not in r["route"]}
    healths = {n: r["health"][figure] for n, r in rows.items() if "error" not in r["health"]}
    worst_route = max(routes, key=lambda n: routes[n])
    worst_health = max(healths, key=lambda n: healths[n])
    route_limit = floor["route"][figure] * ROUTE_RATIO
    health_limit = floor["health"][figure] + HEALTH_EXTRA_MS
    return {
        "figure": figure,
        "route": {
            "worst": worst_route,
            "ms": routes[worst_route],
            "floor_ms": floor["route"][figure],
            "ratio": round(routes[worst_route] / floor["route"][figure], 2),
            "limit_ms": round(route_limit, 1),
        },
        "health": {
            "worst": worst_health,
            "ms": healths[worst_health],
            "floor_ms": floor["health"][figure],
            "over_floor_ms": round(healths[worst_health] - floor["health"][figure], 1),
            "limit_ms": round(health_limit, 1),
        },
        "failed": failed,
        "meets_target": routes[worst_route] <= route_limit and healths[worst_health] <= health_limit and not failed,
    }


def print_table(title: str, results: dict[str, dict[str, dict[str, Any]]]) -> None:
    print(f"\n{title}")
    header = (
        f"{'function':<40}{'kind':<8}{'answer':>9}{'exit':>9}{'CPU':>9}{'import':>9}{'1st call':>10}"
        f"{'RSS':>9}{'modules':>9}{'status':>8}  heavy modules loaded"
    )
    print(header)
    print("-" * len(header))
    for name, kinds in results.items():
        for kind, r in kinds.items():
            if "error" in r:
                print(f"{name:<40}{kind:<8} failed: {r['error'].strip().splitlines()[-1]}")
                continue
            print(
                f"{name:<40}{kind:<8}{r['answer_ms']:>6.0f} ms{r['exit_ms']:>6.0f} ms{r['cpu_ms']:>6.0f} ms"
                f"{r['import_ms']:>6.0f} ms{r['first_call_ms']:>7.0f} ms{r['rss_mb']:>6.1f} MB"
                f"{r['modules_loaded']:>9}{r['status']:>8}  {', '.join(r['heavy_loaded']) or '-'}"
            )


def print_verdict(v: dict[str, Any]) -> None:
    if "route" not in v:
        print(f"{v['figure']}: cannot judge (failed: {', '.join(v['failed'])})")
        return
    r, h = v["route"], v["health"]
    print(
        f"{v['figure']:<8} worst real route {r['worst']} {r['ms']:.0f} ms = {r['ratio']:.2f}× the floor's "
        f"{r['floor_ms']:.0f} (target ≤ {ROUTE_RATIO}×); worst health {h['worst']} {h['ms']:.0f} ms = floor "
        f"{h['floor_ms']:.0f} + {h['over_floor_ms']:.0f} (target ≤ +{HEALTH_EXTRA_MS}) -> "
        f"{'OK' if v['meets_target'] else 'MISSED'}"
    )


class Bench:
    """The private database, its settings and the token of one seeded user, for one run."""

    def __init__(self, tmp: Path) -> None:
        import sqlalchemy

        self.database = f"studyhub_coldstart_{os.getpid()}"
        self.admin = sqlalchemy.create_engine(MYSQL_URL, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{self.database}`")
            conn.exec_driver_sql(f"CREATE DATABASE `{self.database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        url = f"{MYSQL_URL}/{self.database}?charset=utf8mb4"
        self.env = child_env(tmp / "var", tmp / "pycache", url)
        cli(self.env, tmp, "seed", "--demo")  # migrates, then groups, areas and the demo data
        self.token = cli(self.env, tmp, "token", USER).splitlines()[-1]
        self.user_id = token_user_id(self.token)

    def close(self) -> None:
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{self.database}`")
        self.admin.dispose()
        try:
            import redis

            client = redis.Redis.from_url(REDIS_URL)
            keys = list(client.scan_iter(match=self.env["CACHE_KEY_PREFIX"] + "*", count=500))
            if keys:
                client.delete(*keys)
        except Exception as error:  # noqa: BLE001 - leftover cache keys are not worth failing the run
            print(f"(cache keys under {self.env['CACHE_KEY_PREFIX']} left: {error})")


def targets_for(bench: Bench, tmp: Path, names: list[str], trees: dict[str, Path]) -> list[Target]:
    """The floor, then each function of each tree (label -> repository root), health and route."""
    from studyhub.core.routing import load_routing

    bare = tmp / "bare"
    bare.mkdir(exist_ok=True)
    (bare / "app.py").write_text(BARE_APP)
    targets: list[Target] = [
        (FLOOR, "health", bare, api_event("/bare/health"), bench.env),
        (FLOOR, "route", bare, api_event("/bare/topics", token=bench.token), bench.env),
    ]
    routing = load_routing()
    for label, root in trees.items():
        # the tree's layer on the path, as Lambda's /opt/python (not found through the editable install)
        env = dict(bench.env, PYTHONPATH=str(root / "layers" / "common"))
        for name in names:
            group = routing.functions[name].prefix.strip("/")
            directory = root / "functions" / name
            shown = f"{name}{label}"
            targets.append((shown, "health", directory, health_event(group), env))
            targets.append((shown, "route", directory, route_event(name, bench.token, bench.user_id), env))
    return targets


def suite(runs: int) -> dict[str, Any]:
    """Every function, health and real route, beside the floor: bench/run.py's cold-start scenario."""
    from studyhub.core.routing import load_routing

    names = [name for name in load_routing().functions if name in REAL_ROUTES]
    with tempfile.TemporaryDirectory(prefix="studyhub-cold-") as tmp:
        tmp_path = Path(tmp)
        bench = Bench(tmp_path)
        try:
            results = measure(targets_for(bench, tmp_path, names, {"": ROOT}), runs)
        finally:
            bench.close()
    return {
        "runs": runs,
        "results": results,
        "verdict": {figure: verdict(results, names, figure) for figure in ("exit_ms", "cpu_ms")},
    }


def markdown(report: dict[str, Any]) -> list[str]:
    """``suite()``'s figures as a README table: per function, both first answers beside the floor."""
    results = report["results"]
    floor = results[FLOOR]
    lines = [
        "| cold start (.pyc, MariaDB + Redis) | health exit ms | health CPU ms | real route | route exit ms "
        "| route CPU ms | route CPU / floor |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        route = REAL_ROUTES.get(name, ("GET /bare/topics",))[0] if name != FLOOR else "topics page (plain SQL)"
        health, first = r["health"], r["route"]
        if "error" in health or "error" in first:
            lines.append(f"| {name} | failed | | {route} | | | |")
            continue
        ratio = first["cpu_ms"] / floor["route"]["cpu_ms"] if "error" not in floor["route"] else 0
        lines.append(
            f"| {name} | {health['exit_ms']:.0f} | {health['cpu_ms']:.0f} | {route} | {first['exit_ms']:.0f} "
            f"| {first['cpu_ms']:.0f} | {ratio:.2f}× |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="measured runs per target (median reported)")
    parser.add_argument("--function", action="append", dest="functions", help="only these functions")
    parser.add_argument("--importtime", action="store_true", help="also sum each route's import time per package")
    parser.add_argument(
        "--tree", type=Path, help="also measure this checkout's functions and layer (labelled 'before'), same floor"
    )
    parser.add_argument(
        "--unfreeze", action="store_true", help="also measure work's route with gc.unfreeze() before exit"
    )
    parser.add_argument("--no-write", action="store_true", help=f"don't write {RESULTS.relative_to(ROOT)}")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    from studyhub.core.routing import load_routing

    routing = load_routing()
    names = args.functions or list(routing.functions)
    unknown = set(names) - set(routing.functions) | set(names) - set(REAL_ROUTES)
    if unknown:
        parser.error(f"no such function (or no real route for it): {', '.join(sorted(unknown))}")
    trees = {"": ROOT}
    if args.tree:
        trees = {" (before)": args.tree.resolve(), "": ROOT}

    load = os.getloadavg()
    imports: dict[str, dict[str, float]] = {}
    extra: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="studyhub-cold-") as tmp:
        tmp_path = Path(tmp)
        bench = Bench(tmp_path)
        try:
            targets = targets_for(bench, tmp_path, names, trees)
            results = measure(targets, args.runs)
            if args.importtime:
                for name, kind, directory, event, env in targets:
                    if kind == "route" and "error" not in results[name][kind]:
                        imports[name] = import_cost_by_package(
                            one_run(directory, event, env, importtime=True)["stderr"]
                        )
            if args.unfreeze and "work" in names:
                work = next(t for t in targets if t[0] == "work" and t[1] == "route")
                runs = [one_run(work[2], work[3], work[4], unfreeze=True) for _ in range(args.runs)]
                extra["work_route_without_gc_freeze"] = summarize(runs)
        finally:
            bench.close()

    by_wall = verdict(results, names, "exit_ms")
    by_cpu = verdict(results, names, "cpu_ms")
    print_table(f"cold start on MariaDB + Redis, .pyc present (median of {args.runs}; load {load[0]:.1f})", results)
    if "work_route_without_gc_freeze" in extra:
        w = extra["work_route_without_gc_freeze"]
        print(f"work route with gc.unfreeze() before exit: exit {w['exit_ms']:.0f} ms, CPU {w['cpu_ms']:.0f} ms")
    print()
    print_verdict(by_wall)
    print_verdict(by_cpu)
    if args.tree:
        before = [f"{n} (before)" for n in names]
        for figure in ("exit_ms", "cpu_ms"):
            print_verdict({**verdict(results, before, figure), "figure": f"{figure} before"})
    for name, costs in imports.items():
        print(
            f"import time of {name}'s route by package (ms): " + ", ".join(f"{p} {ms:.0f}" for p, ms in costs.items())
        )

    report = {
        "what": "fresh interpreter -> import app (cwd = functions/<group>) -> app.app(API Gateway proxy event, context) "
        "-> exit; health = GET /<group>/health, route = an authenticated GET (REAL_ROUTES) with a token of a seeded "
        "user; MariaDB + Redis; byte-compiled; medians; the floor is a bare Chalice app importing SQLAlchemy Core "
        "and PyMySQL (SELECT 1; the first page of topics and their count)",
        "measured_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "command": "python bench/cold_start.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": {
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "system": f"{platform.system()} {platform.release()}",
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in load],
        },
        "runs": args.runs,
        "routes": {name: REAL_ROUTES[name][0] for name in names},
        "target": {"route_ratio_to_floor": ROUTE_RATIO, "health_over_floor_ms": HEALTH_EXTRA_MS},
        "verdict": {"exit_ms": by_wall, "cpu_ms": by_cpu},
        "meets_target": by_cpu["meets_target"],
        "results": results,
        **({"before_tree": str(args.tree)} if args.tree else {}),
        **extra,
        **({"import_ms_by_package": imports} if imports else {}),
    }
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"\nwritten to {RESULTS.relative_to(ROOT)}")
    return 0 if by_cpu["meets_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
