"""A class roster of 1,000 students imported in one request, through the running server.

``studyhub serve`` runs as a subprocess on a free port (waitress, the users and school functions,
no job worker: the registration emails stay queued), on the embedded defaults (SQLite, the
embedded SQLite queue) and, with ``--mysql``, on MariaDB (a temporary database, dropped
afterwards) with Redis as the broker (``--redis``, keys under a unique prefix, removed
afterwards). The bench makes a teacher directly in the database, then acts only through HTTP:
``--rounds`` (3) times it creates a class and uploads a CSV (UTF-8 with BOM, CRLF, as Excel
saves it) of ``--rows`` (1,000) new students, and once an ``.xlsx`` of the same size.

Checked (a violation makes the exit status 1): ``201 {"created": rows}``, one credentials-email
outbox row per student and its id in the import's one queued job (which queues a send job per
student on the worker), every student in the class. Reported per stack:
the request's wall time per round (median, max), and the argon2 hash time of one password on
this machine — what each student would have cost inline, and what the send job now spends.

    python bench/roster_import.py [--mysql mysql+pymysql://root@127.0.0.1:3306]
                                  [--redis redis://127.0.0.1:6379/0] [--rows 1000] [--rounds 3] [--no-write]

Writes ``bench/results/roster_import.json`` and prints a summary. It is not a test: run it when asked.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "roster_import.json"
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
    "LOG_LEVEL",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``studyhub serve`` in a subprocess (users + school, no job worker), with the given settings."""

    def __init__(self, env: dict[str, str], var_dir: Path) -> None:
        self.port = free_port()
        self.log = open(var_dir / "serve.log", "wb")
        command = [sys.executable, "-m", "studyhub.ops.cli", "serve", "--port", str(self.port)]
        command += ["--function", "users", "--function", "school", "--no-jobs"]
        self.proc = subprocess.Popen(command, env=env, cwd=var_dir, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"studyhub serve exited with {self.proc.returncode}; see {var_dir / 'serve.log'}")
            try:
                if self.request("GET", "/api/school/health")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit("studyhub serve did not answer within 120 s")

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            conn.request(method, path, body=body, headers={"Accept": "application/json", **(headers or {})})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def roster_csv(prefix: str, rows: int) -> bytes:
    lines = ["username,email,first_name,age,sex"]
    lines += [f"{prefix}{i:04d},{prefix}{i:04d}@example.com,学生{i},{8 + i % 10},{i % 2}" for i in range(rows)]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()


def roster_xlsx(prefix: str, rows: int) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["username", "email", "first_name", "age", "sex"])
    for i in range(rows):
        sheet.append(
            [f"{prefix}{i:04d}", f"{prefix}{i:04d}@example.com", f"学生{i}", 8 + i % 10, "男" if i % 2 else "女"]
        )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def multipart(filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
    head += "Content-Type: application/octet-stream\r\n\r\n"
    return head.encode() + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def make_teacher() -> str:
    from studyhub.core.db import session_scope
    from studyhub.core.security import hash_password, issue_token
    from studyhub.models.users import TEACHER_GROUP_ID, Group, User

    with session_scope() as session:
        teacher = User(
            username="bench-teacher",
            password=hash_password(uuid.uuid4().hex),
            groups=[session.get(Group, TEACHER_GROUP_ID)],
        )
        session.add(teacher)
        session.flush()
        return issue_token(teacher)


def stored(class_id: int) -> dict[str, int]:
    from sqlalchemy import func, select

    from studyhub.core.db import session_scope
    from studyhub.models.school import CredentialsMail, class_members

    with session_scope() as session:
        members = session.scalar(select(func.count()).where(class_members.c.class_id == class_id))
        outbox = session.scalar(select(func.count()).select_from(CredentialsMail))
        return {"members": members or 0, "outbox": outbox or 0}


def queued_mail_ids() -> list[int]:
    """The outbox ids of every queued fan-out job (one per import; it queues a send job per id)."""
    import base64

    from studyhub.core.config import get_settings
    from studyhub.domain.school.task_names import QUEUE_CREDENTIALS_MAIL

    settings = get_settings()
    if settings.celery_broker_url:
        import redis

        raw = redis.Redis.from_url(settings.celery_broker_url).lrange(settings.cache_key_prefix + "celery", 0, -1)
    else:
        import sqlite3

        path = settings.var_dir / "queue.sqlite3"
        if not path.exists():
            return []
        with sqlite3.connect(path) as conn:
            raw = [row[0] for row in conn.execute("SELECT payload FROM kombu_message")]
    ids: list[int] = []
    for item in raw:
        envelope = json.loads(item)
        if envelope["headers"]["task"] == QUEUE_CREDENTIALS_MAIL:
            ids += json.loads(base64.b64decode(envelope["body"]))[0][0]
    return ids


def argon2_ms(samples: int = 5) -> float:
    from studyhub.core.security import hash_password

    times = []
    for _ in range(samples):
        started = time.perf_counter()
        hash_password(uuid.uuid4().hex)
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1)


def run_stack(name: str, args, mysql_url: str | None, redis_url: str | None) -> dict:
    var_dir = Path(tempfile.mkdtemp(prefix=f"studyhub-bench-roster-{name}-"))
    prefix = f"bench-roster-{uuid.uuid4().hex[:8]}:"
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_ENV}
    env.update(
        {
            "STUDYHUB_VAR_DIR": str(var_dir),
            "JWT_SECRET": uuid.uuid4().hex * 2,
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
            "CACHE_KEY_PREFIX": prefix,
        }
    )
    database = admin = None
    if mysql_url:
        import sqlalchemy

        database = f"studyhub_bench_{uuid.uuid4().hex[:8]}"
        admin = sqlalchemy.create_engine(mysql_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        env["DATABASE_URL"] = f"{mysql_url}/{database}?charset=utf8mb4"
    if redis_url:
        env["REDIS_URL"] = env["CELERY_BROKER_URL"] = redis_url
    os.environ.clear()
    os.environ.update(env)
    from studyhub.core import config, db

    config.reset()
    db.reset()
    server = Server(env, var_dir)
    rounds, violations = [], []
    try:
        auth = {"Authorization": f"Bearer {make_teacher()}"}
        files = [("csv", roster_csv(f"r{i}s", args.rows)) for i in range(args.rounds)]
        files.append(("xlsx", roster_xlsx("xs", args.rows)))
        for index, (kind, data) in enumerate(files):
            status, raw = server.request(
                "POST",
                "/api/school/classes",
                json.dumps({"name": f"导入班 {index}"}).encode(),
                {**auth, "Content-Type": "application/json"},
            )
            class_id = json.loads(raw)["id"]
            body, content_type = multipart(f"roster.{kind}", data)
            outbox_before, queued_before = stored(class_id)["outbox"], len(queued_mail_ids())
            started = time.perf_counter()
            status, raw = server.request(
                "POST", f"/api/school/classes/{class_id}/students/import", body, {**auth, "Content-Type": content_type}
            )
            wall = time.perf_counter() - started
            after = stored(class_id)
            got = {
                "status": status,
                "created": json.loads(raw).get("created"),
                "members": after["members"],
                "outbox_rows": after["outbox"] - outbox_before,
                "emails_queued": len(queued_mail_ids()) - queued_before,
            }
            expected = {
                "status": 201,
                "created": args.rows,
                "members": args.rows,
                "outbox_rows": args.rows,
                "emails_queued": args.rows,
            }
            if got != expected:
                violations.append({"kind": kind, "got": got, "body": raw[:500].decode("utf-8", "replace")})
            rounds.append({"kind": kind, "file_bytes": len(data), "wall_s": round(wall, 3), **got})
        csv_walls = [r["wall_s"] for r in rounds if r["kind"] == "csv"]
        hash_ms = argon2_ms()
        return {
            "database": "mariadb" if mysql_url else "sqlite",
            "broker": "redis" if redis_url else "embedded sqlite queue",
            "rows": args.rows,
            "csv_wall_s_median": round(statistics.median(csv_walls), 3),
            "csv_wall_s_max": round(max(csv_walls), 3),
            "xlsx_wall_s": next(r["wall_s"] for r in rounds if r["kind"] == "xlsx"),
            "argon2_hash_ms": hash_ms,
            "inline_hashing_estimate_s": round(hash_ms * args.rows / 1000, 1),
            "violations": violations,
            "rounds": rounds,
        }
    finally:
        server.stop()
        db.reset()
        if redis_url:
            import redis

            client = redis.Redis.from_url(redis_url)
            for key in client.scan_iter(match=f"{prefix}*"):
                client.delete(key)
        if database and admin is not None:
            with admin.connect() as conn:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{database}`")
            admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mysql", help="also run on MariaDB/MySQL at this server URL (no database name)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="the broker (and cache) with --mysql")
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    saved = dict(os.environ)
    stacks = {}
    try:
        stacks["embedded"] = run_stack("embedded", args, None, None)
        if args.mysql:
            stacks["mysql"] = run_stack("mysql", args, args.mysql, args.redis)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    report = {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "server": "studyhub serve (waitress; users + school functions; no job worker: the emails stay queued)",
        "hashing": "deferred to the send job: the import stores no hash; each job generates, hashes (argon2 "
        "defaults) and emails the password",
        "stacks": stacks,
    }
    for name, stack in stacks.items():
        print(
            f"{name:9s} {stack['rows']} rows: csv median {stack['csv_wall_s_median']} s "
            f"(max {stack['csv_wall_s_max']} s), xlsx {stack['xlsx_wall_s']} s; argon2 {stack['argon2_hash_ms']} ms "
            f"per hash (inline ~{stack['inline_hashing_estimate_s']} s); violations={len(stack['violations'])}"
        )
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
        print(f"written {RESULTS.relative_to(ROOT)}")
    return 1 if any(s["violations"] for s in stacks.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
