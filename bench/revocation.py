"""What the token denylist costs each authenticated request: requests per second with and without
its check, in the same run.

The users function runs in this process behind the local front door (no sockets, one thread), so
the difference is the check alone: one cache GET (``studyhub.clients.token_denylist.is_revoked``).
"Without" replaces that function by one that answers "not revoked"; everything else (JWT decode,
the user row, its ``tokens_valid_after``, rendering, logging) is the same. The two modes alternate
request by request (``--requests`` each, ``GET /api/users/users/{id}``), so load from anything
else on the machine hits both alike, and the medians are compared (requests per second = 1 /
median). The cache GET is also timed on its own.

Stacks: the embedded defaults (SQLite, the diskcache cache on disk) always; with ``--mysql URL
--redis URL`` also MariaDB + Redis (a temporary database, dropped afterwards; cache keys under a
fresh prefix).

    python bench/revocation.py [--mysql mysql+pymysql://root@127.0.0.1:3306 --redis redis://127.0.0.1:6379/0]
                               [--requests 3000] [--no-write]

Writes ``bench/results/revocation.json`` and prints a summary. It is not a test: run it when asked.

Since issue 15 a request reads the denylist entry in the same ``MGET`` as its caller's version
(``http/auth.py``): replacing ``is_revoked`` no longer changes a request, so the "with/without"
figures of a run today show no difference; the cache GET timed on its own still holds. The figures
in ``bench/results/revocation.json`` are from before that change.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "revocation.json"
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "common")]


def configure(var_dir: Path, database_url: str | None, redis_url: str | None) -> None:
    for key in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        os.environ.pop(key, None)
    os.environ.update(
        {
            "STUDYHUB_VAR_DIR": str(var_dir),
            "JWT_SECRET": "bench-secret-" + uuid.uuid4().hex * 2,
            "CACHE_KEY_PREFIX": f"bench:revocation:{uuid.uuid4().hex[:8]}:",
            "LOG_FILE": str(var_dir / "studyhub.log"),
            "LOG_LEVEL": "WARNING",
        }
    )
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    if redis_url:
        os.environ["REDIS_URL"] = redis_url
    from studyhub.clients import cache
    from studyhub.core import config, db

    config.reset()
    cache.reset()
    db.reset()


def arrange() -> tuple[int, str]:
    """A migrated database with one user, and a token for it."""
    from studyhub.core.db import session_scope
    from studyhub.core.security import issue_token
    from studyhub.domain.users.accounts import create_user
    from studyhub.migrations.runner import upgrade

    upgrade()
    with session_scope() as session:
        user = create_user(session, username="bench-user", password="bench-password-1")
        session.flush()
        return user.id, issue_token(user)


def one_request(front_door: Any, path: str, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    response = front_door.route("GET", path, "", headers, b"")
    elapsed = time.perf_counter() - started
    if response.status != 200:
        raise SystemExit(f"unexpected answer {response.status}: {response.body[:200]!r}")
    return elapsed


def measure(name: str, requests: int) -> dict[str, Any]:
    from local.frontdoor import FrontDoor
    from studyhub.clients import token_denylist
    from studyhub.http import auth

    user_id, token = arrange()
    front_door = FrontDoor(["users"])
    path, headers = f"/api/users/users/{user_id}", {"authorization": f"Bearer {token}", "accept": "application/json"}
    real_check = token_denylist.is_revoked

    def no_check(_jti: str) -> bool:
        return False

    for _ in range(100):  # warm up: imports, connections, caches
        one_request(front_door, path, headers)
    seconds: dict[str, list[float]] = {"with": [], "without": []}
    try:
        for i in range(requests * 2):  # the modes alternate request by request: the same load hits both
            mode = "with" if i % 2 == 0 else "without"
            auth.token_denylist.is_revoked = real_check if mode == "with" else no_check  # type: ignore[method-assign]
            seconds[mode].append(one_request(front_door, path, headers))
    finally:
        auth.token_denylist.is_revoked = real_check  # type: ignore[method-assign]

    jti = uuid.uuid4().hex
    gets = []
    for _ in range(requests):
        started = time.perf_counter()
        token_denylist.is_revoked(jti)
        gets.append(time.perf_counter() - started)

    # Medians: the machine may be shared, and a burst of load must not decide the figure.
    per_request = {mode: statistics.median(values) * 1e6 for mode, values in seconds.items()}
    return {
        "stack": name,
        "requests_per_mode": requests,
        "rps_with_check": round(1e6 / per_request["with"], 1),
        "rps_without_check": round(1e6 / per_request["without"], 1),
        "median_us_with_check": round(per_request["with"], 1),
        "median_us_without_check": round(per_request["without"], 1),
        "overhead_us_per_request": round(per_request["with"] - per_request["without"], 1),
        "overhead_percent": round((per_request["with"] / per_request["without"] - 1) * 100, 1),
        "cache_get_median_us": round(statistics.median(gets) * 1e6, 1),
    }


def mysql_database(server_url: str) -> tuple[str, Any]:
    import sqlalchemy

    name = f"studyhub_bench_revocation_{uuid.uuid4().hex[:8]}"
    admin = sqlalchemy.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")

    def drop() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        admin.dispose()

    return f"{server_url}/{name}?charset=utf8mb4", drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mysql", help="MariaDB/MySQL server URL (a temporary database is created there)")
    parser.add_argument("--redis", help="Redis URL for the cache (with --mysql)")
    parser.add_argument("--requests", type=int, default=3000, help="requests per mode")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    results = []
    with tempfile.TemporaryDirectory(prefix="studyhub-bench-") as tmp:
        configure(Path(tmp) / "embedded", None, None)
        results.append(measure("embedded (SQLite + diskcache)", args.requests))
        if args.mysql:
            url, drop = mysql_database(args.mysql)
            try:
                configure(Path(tmp) / "mysql", url, args.redis)
                results.append(measure("MariaDB + Redis", args.requests))
            finally:
                from studyhub.core import db

                db.reset()
                drop()

    report = {
        "bench": "token denylist check per authenticated request (GET /api/users/users/{id}, in-process)",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "load_average_1_5_15": [round(load, 2) for load in os.getloadavg()],  # a shared machine is noisier
        "results": results,
    }
    for row in results:
        print(
            f"{row['stack']}: {row['rps_with_check']} req/s with the check, {row['rps_without_check']} without; "
            f"+{row['overhead_us_per_request']} µs/request ({row['overhead_percent']}%), cache GET alone "
            f"{row['cache_get_median_us']} µs"
        )
    if not args.no_write:
        RESULTS.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
        print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
