"""The seed's MySQL cluster (PXC behind Nginx ``stream``) made real: a 3-node MariaDB Galera
cluster started by ``infra/galera/cluster.sh``, the studyhub schema created through the
balancer, and concurrent orders placed through the real front door while Nginx spreads the
database connections over the three nodes.

Two transactions on different nodes that take stock off the same commodity both run locally;
at commit Galera certifies them and the loser gets MySQL error 1213 ("Deadlock found"), which
``studyhub.core.db.run_in_transaction`` retries whole. Nothing may be oversold, no request may end in
a 5xx, and the numbers (orders, refusals, retries, each node's commits and conflicts) are
recorded in ``bench/results/galera.json``.

Skipped with the reason (a failure under CI=true) when MariaDB, galera-4, rsync or Nginx's stream
module are missing (``scripts/test.sh`` installs them as root on Debian).
"""

from __future__ import annotations

import json
import logging
import os
import platform as host_platform
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import (
    BASE_ENV_KEYS,
    DEFAULT_PASSWORD,
    RUN_ID,
    missing,
    password_hash,
    port_open,
    reset_clients,
    token_for,
)

pytestmark = [pytest.mark.galera, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "infra" / "galera" / "cluster.sh"
RESULTS = ROOT / "bench" / "results" / "galera.json"
LB_PORT = 3310
NODE_PORTS = (3311, 3312, 3313)
BALANCER_URL = f"mysql+pymysql://root@127.0.0.1:{LB_PORT}"
BUYERS = 60
STOCK = 20
ROUNDS = 3
RETRY_ATTEMPTS = 10
GALERA_STATUS = ("wsrep_local_commits", "wsrep_local_cert_failures", "wsrep_local_bf_aborts")


def missing_packages() -> list[str]:
    missing = []
    if not (shutil.which("mariadbd") or os.path.exists("/usr/sbin/mariadbd")):
        missing.append("mariadb-server")
    if not shutil.which("mariadb"):
        missing.append("mariadb-client")
    if not os.path.exists("/usr/lib/galera/libgalera_smm.so"):
        missing.append("galera-4")
    if not shutil.which("rsync"):
        missing.append("rsync")
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if nginx is None:
        missing.append("nginx-light")
    else:
        built = subprocess.run([nginx, "-V"], capture_output=True, text=True).stderr
        static_stream = "--with-stream " in built + " "
        if not static_stream and not os.path.exists("/usr/lib/nginx/modules/ngx_stream_module.so"):
            missing.append("libnginx-mod-stream")
    return missing


def tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@pytest.fixture(scope="module")
def galera_cluster():
    """The cluster from the script: started once for this module, stopped (data removed) after."""
    absent = missing_packages()
    if absent:
        missing(
            f"no Galera cluster here: missing Debian packages {' '.join(absent)} "
            f"(apt-get install {' '.join(absent)}; scripts/test.sh installs them as root)"
        )
    taken = [port for port in (LB_PORT, *NODE_PORTS) if port_open("127.0.0.1", port, timeout=0.2)]
    if taken:
        pytest.fail(
            f"ports {taken} are taken: is another Galera cluster running? (infra/galera/cluster.sh stop)", pytrace=False
        )
    # Under /tmp itself: the nodes run as `mysql`, who can't enter pytest's private tmp dirs.
    galera_dir = Path(tempfile.mkdtemp(prefix="studyhub-galera-", dir="/tmp"))
    env = {**os.environ, "GALERA_DIR": str(galera_dir), "GALERA_NO_INSTALL": "1", "GALERA_WAIT_SECONDS": "60"}
    started = time.monotonic()
    try:
        start = subprocess.run(["bash", str(SCRIPT), "start"], env=env, capture_output=True, text=True, timeout=180)
        if start.returncode != 0:
            logs = "\n".join(
                f"--- node{n} ---\n{tail(galera_dir / f'node{n}' / 'error.log')}\n"
                f"{tail(galera_dir / f'node{n}' / 'console.log', 10)}"
                for n in (1, 2, 3)
            )
            pytest.fail(f"cluster.sh start failed:\n{start.stderr}\n{logs}", pytrace=False)
        status = subprocess.run(["bash", str(SCRIPT), "status"], env=env, capture_output=True, text=True, timeout=30)
        assert status.returncode == 0, status.stdout + status.stderr
        yield {"dir": galera_dir, "start_seconds": round(time.monotonic() - started, 1), "status": status.stdout}
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop"], env=env, capture_output=True, text=True, timeout=120)
        shutil.rmtree(galera_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def galera_platform(galera_cluster, tmp_path_factory):
    """The platform on the cluster: schema and reference data created through the balancer."""
    import sqlalchemy

    from local.frontdoor import FrontDoor
    from local.serve import prepare

    admin = sqlalchemy.create_engine(BALANCER_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql("CREATE DATABASE studyhub CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    admin.dispose()
    var_dir = tmp_path_factory.mktemp("var-galera")
    env = {
        "DATABASE_URL": f"{BALANCER_URL}/studyhub?charset=utf8mb4",
        "STUDYHUB_VAR_DIR": str(var_dir),
        "JWT_SECRET": "galera-test-secret-of-at-least-64-bytes-for-hs512-" + RUN_ID * 4,
        "LOG_FILE": str(var_dir / "logs" / "studyhub.log"),
        # writes on every node: a hot row's conflict losers need more tries than on one server
        "DB_RETRY_ATTEMPTS": str(RETRY_ATTEMPTS),
    }
    saved = {key: os.environ.get(key) for key in (*BASE_ENV_KEYS, "DB_RETRY_ATTEMPTS")}
    for key in saved:  # whatever stack the session had: embedded cache, files, this DB
        os.environ.pop(key, None)
    os.environ.update(env)
    reset_clients()
    try:
        started = time.monotonic()
        prepare()
        yield {"front_door": FrontDoor(), "prepare_seconds": round(time.monotonic() - started, 1)}
    finally:
        reset_clients()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# --- arrange (through the balancer, like everything else) -----------------------------------


def make_buyers(count: int) -> list[tuple[str, int, int]]:
    """``count`` students with an address each: ``[(token, user_id, address_id)]``."""
    from studyhub.core.db import session_scope
    from studyhub.models.users import Address, User

    with session_scope() as session:
        users = [
            User(username=f"galera{i}", password=password_hash(DEFAULT_PASSWORD), email=f"galera{i}@example.com")
            for i in range(count)
        ]
        session.add_all(users)
        session.flush()
        addresses = [
            Address(
                user_id=u.id,
                province_id=440000,
                city_id=440100,
                district_id=440106,
                place=f"天河路 {u.id} 号",
                receiver="买家",
                mobile="13800138000",
            )
            for u in users
        ]
        session.add_all(addresses)
        session.flush()
        return [(token_for(u), u.id, a.id) for u, a in zip(users, addresses, strict=True)]


def make_commodity(stock: int) -> int:
    from decimal import Decimal

    from studyhub.core.db import session_scope
    from studyhub.models.shopping import Commodity

    with session_scope() as session:
        commodity = Commodity(name="集群限量资料", price=Decimal("19.90"), stock=stock, sales=0, description="")
        session.add(commodity)
        session.flush()
        return commodity.id


def new_round(commodity_id: int, buyers) -> list[int]:
    """No orders, full stock, one cart row per buyer: their ids."""
    from sqlalchemy import delete, update

    from studyhub.core.db import session_scope
    from studyhub.models.shopping import Commodity, Order, OrderGoods, ShoppingCart

    with session_scope() as session:
        session.execute(delete(OrderGoods))
        session.execute(delete(Order))
        session.execute(delete(ShoppingCart))
        session.execute(update(Commodity).where(Commodity.id == commodity_id).values(stock=STOCK, sales=0))
    with session_scope() as session:
        rows = [ShoppingCart(user_id=user_id, commodity_id=commodity_id, number=1) for _, user_id, _ in buyers]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def stored_state(commodity_id: int) -> dict[str, int]:
    from sqlalchemy import func, select

    from studyhub.core.db import session_scope
    from studyhub.models.shopping import Commodity, Order, OrderGoods

    with session_scope() as session:
        commodity = session.get(Commodity, commodity_id)
        return {
            "stock": commodity.stock,
            "sales": commodity.sales,
            "orders": session.scalar(select(func.count()).select_from(Order)),
            "order_goods": session.scalar(select(func.count()).select_from(OrderGoods)),
        }


# --- act ------------------------------------------------------------------------------------


def place_orders_at_once(front_door, buyers, cart_ids) -> list:
    """Every buyer POSTs their order at the same moment, each on its own HTTP client/thread."""
    import httpx

    barrier = threading.Barrier(len(buyers))
    results: list = [None] * len(buyers)

    def run(index: int, token: str, address_id: int, cart_id: int) -> None:
        with httpx.Client(transport=httpx.WSGITransport(app=front_door), base_url="http://testserver") as http:
            barrier.wait()
            try:
                results[index] = http.post(
                    "/api/shopping/orders",
                    json={"cart": [cart_id], "address": address_id, "pay_method": 1},
                    headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                )
            except BaseException as error:  # noqa: BLE001 - reported by the test
                results[index] = error

    threads = [
        threading.Thread(target=run, args=(i, token, address_id, cart_id))
        for i, ((token, _, address_id), cart_id) in enumerate(zip(buyers, cart_ids, strict=True))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


class RetryLog(logging.Handler):
    """Counts ``run_in_transaction``'s "transaction retry N after CODE" warnings."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.codes: Counter = Counter()
        self.deepest = 0  # the highest attempt number that was retried
        self._counting = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "studyhub.db" and str(record.msg).startswith("transaction retry"):
            attempt, code = (record.args + (0, "?"))[:2] if isinstance(record.args, tuple) else (0, "?")
            with self._counting:
                self.codes[str(code)] += 1
                self.deepest = max(self.deepest, int(attempt))


def node_status() -> dict[str, dict[str, int]]:
    """Each node's Galera counters, read on that node directly (not through the balancer)."""
    import pymysql

    out = {}
    for number, port in enumerate(NODE_PORTS, start=1):
        conn = pymysql.connect(host="127.0.0.1", port=port, user="root", connect_timeout=2)
        try:
            with conn.cursor() as cursor:
                cursor.execute("SHOW GLOBAL STATUS WHERE Variable_name IN (%s, %s, %s)", GALERA_STATUS)
                out[f"node{number}"] = {name: int(value) for name, value in cursor.fetchall()}
        finally:
            conn.close()
    return out


def galera_versions() -> dict[str, str]:
    import pymysql

    conn = pymysql.connect(host="127.0.0.1", port=LB_PORT, user="root", connect_timeout=2)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT VERSION()")
            (mariadb,) = cursor.fetchone()
            cursor.execute("SHOW GLOBAL STATUS LIKE 'wsrep_provider_version'")
            (_, galera) = cursor.fetchone()
    finally:
        conn.close()
    return {"mariadb": mariadb, "galera": galera}


# --- the test --------------------------------------------------------------------------------


def test_concurrent_orders_through_the_balancer_never_oversell_and_conflicts_are_retried(
    galera_cluster, galera_platform
):
    commodity_id = make_commodity(STOCK)
    buyers = make_buyers(BUYERS)
    retries = RetryLog()
    logging.getLogger("studyhub.db").addHandler(retries)
    before = node_status()
    outcomes: Counter = Counter()
    rounds = []
    started = time.monotonic()
    try:
        for _ in range(ROUNDS):
            cart_ids = new_round(commodity_id, buyers)
            round_started = time.monotonic()

            results = place_orders_at_once(galera_platform["front_door"], buyers, cart_ids)

            errors = [r for r in results if isinstance(r, BaseException)]
            assert not errors, errors[:3]
            outcome = Counter((r.status_code, r.json().get("code") if r.status_code != 201 else None) for r in results)
            rounds.append(
                {
                    "seconds": round(time.monotonic() - round_started, 2),
                    "outcome": {f"{status} {code or ''}".strip(): n for (status, code), n in outcome.items()},
                    "stored": stored_state(commodity_id),
                }
            )
            outcomes.update(outcome)
            assert outcome == {(201, None): STOCK, (400, "insufficient_stock"): BUYERS - STOCK}, rounds[-1]
            assert rounds[-1]["stored"] == {"stock": 0, "sales": STOCK, "orders": STOCK, "order_goods": STOCK}
    finally:
        logging.getLogger("studyhub.db").removeHandler(retries)
    after = node_status()

    per_node = {
        node: {name.removeprefix("wsrep_local_"): after[node][name] - before[node][name] for name in GALERA_STATUS}
        for node in after
    }
    server_errors = sum(n for (status, _), n in outcomes.items() if status >= 500)
    result = {
        "what": f"{ROUNDS} rounds of {BUYERS} concurrent POST /api/shopping/orders for one commodity with "
        f"stock {STOCK}, through the in-process front door, DATABASE_URL on an Nginx stream balancer "
        "(round robin) over a 3-node MariaDB Galera cluster (infra/galera/cluster.sh)",
        "orders": outcomes[(201, None)],
        "refused_insufficient_stock": outcomes[(400, "insufficient_stock")],
        "server_errors": server_errors,
        "oversold": sum(max(0, -r["stored"]["stock"]) for r in rounds),
        "retries": sum(retries.codes.values()),
        "retries_by_mysql_code": dict(retries.codes),
        "highest_attempt_retried": retries.deepest,
        "db_retry_attempts": RETRY_ATTEMPTS,
        "galera_per_node": per_node,
        "rounds": rounds,
        "seconds": {
            "cluster_start": galera_cluster["start_seconds"],
            "schema_and_reference_data": galera_platform["prepare_seconds"],
            "orders": round(time.monotonic() - started, 1),
        },
        "versions": galera_versions(),
        "machine": {"cpus": os.cpu_count(), "python": host_platform.python_version()},
        "recorded": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if os.environ.get("RECORD_BENCH") == "1":  # refresh the committed figures only when asked
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    from conftest import report

    report(
        f"galera: orders={result['orders']} refused={result['refused_insufficient_stock']} "
        f"5xx={server_errors} retries={result['retries']} {dict(retries.codes)} "
        f"highest attempt retried={retries.deepest} per node={per_node}"
    )

    assert server_errors == 0
    # The writes really landed on different nodes...
    nodes_that_committed = [node for node, counts in per_node.items() if counts["commits"] > 0]
    assert len(nodes_that_committed) >= 2, per_node
    # ...and Galera's certification conflicts (1213) were retried, not turned into errors.
    conflicts = sum(counts["cert_failures"] + counts["bf_aborts"] for counts in per_node.values())
    assert conflicts > 0 and retries.codes["1213"] > 0, result


# --- the retry rules the cluster test relies on (no cluster needed) -------------------------


def mysql_error(code: int, message: str):
    import pymysql
    from sqlalchemy.exc import OperationalError

    return OperationalError("statement", {}, pymysql.err.OperationalError(code, message))


def test_savepoint_lost_to_a_deadlock_is_retryable_but_a_lost_savepoint_alone_is_not():
    from studyhub.core.db import is_retryable

    deadlock = mysql_error(1213, "Deadlock found when trying to get lock; try restarting transaction")
    try:
        try:
            raise deadlock
        except Exception:
            raise mysql_error(1305, "SAVEPOINT sa_savepoint_1 does not exist")  # noqa: B904 - as SQLAlchemy does
    except Exception as error:
        after_deadlock = error

    assert is_retryable(after_deadlock)
    assert not is_retryable(mysql_error(1305, "SAVEPOINT sa_savepoint_1 does not exist"))


def test_db_retry_attempts_sets_how_often_a_deadlocked_transaction_runs(monkeypatch, tmp_path):
    from studyhub.core import db

    monkeypatch.setenv("DB_RETRY_ATTEMPTS", "3")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'retry.sqlite3'}")
    reset_clients()
    runs = []

    def always_deadlocked(session):
        runs.append(1)
        raise mysql_error(1213, "Deadlock found when trying to get lock; try restarting transaction")

    try:
        with pytest.raises(Exception) as raised:
            db.run_in_transaction(always_deadlocked)
    finally:
        monkeypatch.undo()
        reset_clients()

    assert len(runs) == 3
    assert db.is_retryable(raised.value)
