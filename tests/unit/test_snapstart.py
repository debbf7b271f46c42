"""Lambda SnapStart's runtime hooks (studyhub.http.snapstart), run the way Lambda runs them.

A fresh interpreter imports a function (``import app`` in its directory, as Lambda's bootstrap
does) with a stand-in for the runtime's ``snapshot_restore_py`` on the path; then it plays the
runtime: the before-snapshot hooks in reverse order of registration, and for two "restored
copies" of the same memory the after-restore hooks in order of registration (AWS's documented
order). What the snapshot must hold and what it must not are checked in between.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FAKE_RUNTIME = '''
"""Stand-in for Lambda's snapshot_restore_py: records the hooks, as the real one does."""
before, after = [], []

def register_before_snapshot(func, *args, **kwargs):
    before.append((func, args, kwargs))
    return func

def register_after_restore(func, *args, **kwargs):
    after.append((func, args, kwargs))
    return func
'''

SCRIPT = r"""
import json, random, sys, gc
import snapshot_restore_py as runtime

import app  # init: what Lambda runs before the snapshot
out = {"registered": [len(runtime.before), len(runtime.after)]}
out["route_module_at_init"] = "studyhub.domain.work.topics" in sys.modules
out["orm_at_init"] = "sqlalchemy.orm" in sys.modules

from studyhub.core import db
engine = db.get_engine()  # as if init had connected: the hook must not let it reach the snapshot
with engine.connect() as conn:
    conn.exec_driver_sql("SELECT 1")
out["engine_before"] = db._engine is not None

for func, args, kwargs in reversed(runtime.before):  # Lambda: reverse order of registration
    func(*args, **kwargs)
out["route_module_in_snapshot"] = "studyhub.domain.work.topics" in sys.modules
out["orm_in_snapshot"] = "sqlalchemy.orm" in sys.modules
out["engine_in_snapshot"] = db._engine is not None
out["frozen"] = gc.get_freeze_count()
from studyhub.domain.work.schemas import TopicIn
out["body_model_built"] = bool(TopicIn.__pydantic_complete__)

snapshot = random.getstate()
draws = []
for _copy in range(2):  # two execution environments restored from one snapshot
    random.setstate(snapshot)
    for func, args, kwargs in runtime.after:  # Lambda: order of registration
        func(*args, **kwargs)
    draws.append(random.random())
out["draws_differ"] = draws[0] != draws[1]

class Context:
    function_name = "snapstart-test"; function_version = "1"; memory_limit_in_mb = 512
    aws_request_id = "t"; log_group_name = "/aws/lambda/t"
    def get_remaining_time_in_millis(self): return 30000

event = {"resource": "/work/health", "path": "/work/health", "httpMethod": "GET",
         "headers": {"accept": "application/json"}, "multiValueHeaders": {"accept": ["application/json"]},
         "queryStringParameters": None, "multiValueQueryStringParameters": None, "pathParameters": None,
         "stageVariables": None, "body": None, "isBase64Encoded": False,
         "requestContext": {"resourcePath": "/work/health", "httpMethod": "GET", "path": "/api/work/health",
                            "stage": "api", "requestId": "t", "identity": {"sourceIp": "127.0.0.1"}}}
result = app.app(event, Context())
out["status_after_restore"] = result["statusCode"]
out["engine_after_request"] = db._engine is not None
print(json.dumps(out))
"""


def function_env(tmp_path: Path) -> dict[str, str]:
    """A fresh interpreter's environment: the layer and the fake runtime on the path, the
    embedded stack (SQLite, cache) under ``tmp_path``, no settings of the test run."""
    fake = tmp_path / "runtime"
    fake.mkdir(exist_ok=True)
    (fake / "snapshot_restore_py.py").write_text(FAKE_RUNTIME)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "STUDYHUB_", "JWT_"))}
    env.pop("AWS_LAMBDA_INITIALIZATION_TYPE", None)
    env.update(
        {
            "PYTHONPATH": os.pathsep.join([str(fake), str(ROOT / "layers" / "common")]),
            "STUDYHUB_VAR_DIR": str(tmp_path / "var"),
            "LOG_FILE": str(tmp_path / "var" / "studyhub.log"),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


def run_function(tmp_path: Path, initialization_type: str | None) -> dict:
    env = function_env(tmp_path)
    if initialization_type:
        env["AWS_LAMBDA_INITIALIZATION_TYPE"] = initialization_type
    script = (
        SCRIPT
        if initialization_type == "snap-start"
        else (
            "import json, snapshot_restore_py as r, app, sys\n"
            "print(json.dumps({'registered': [len(r.before), len(r.after)], "
            "'route_module_at_init': 'studyhub.domain.work.topics' in sys.modules}))\n"
        )
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT / "functions" / "work",
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_snapshot_holds_the_routes_modules_and_no_connection_and_each_restore_reseeds(tmp_path):
    out = run_function(tmp_path, "snap-start")
    assert out["registered"] == [1, 1]
    # init imports no route module (cold starts without SnapStart stay small) ...
    assert out["route_module_at_init"] is False and out["orm_at_init"] is False
    # ... the before-snapshot hook imports them, with the ORM and the request models built
    assert out["route_module_in_snapshot"] and out["orm_in_snapshot"] and out["body_model_built"]
    # a connection made during init does not survive into the snapshot
    assert out["engine_before"] is True and out["engine_in_snapshot"] is False
    assert out["frozen"] > 0
    # two copies restored from one snapshot draw different random numbers
    assert out["draws_differ"] is True
    # a restored copy answers, opening its own connection
    assert out["status_after_restore"] == 200 and out["engine_after_request"] is True


def test_without_snapstart_no_hook_is_registered_and_nothing_is_preloaded(tmp_path):
    for initialization_type in (None, "on-demand"):
        out = run_function(tmp_path, initialization_type)
        assert out == {"registered": [0, 0], "route_module_at_init": False}


# --- a cold start without SnapStart: what ``import app`` and a first health answer load ------------

GROUPS = sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").is_file())
# The layer's modules allowed to bring pydantic into a cold start: none (routes name their models,
# routedoc.py; the health check declares ``response="HealthPublic"``). An allowance added here and
# no longer used fails the test.
PYDANTIC_AT_COLD_START: set[str] = set()

COLD_SCRIPT = r"""
import json, sys
import app  # what Lambda's bootstrap runs

def loaded():
    names = set(sys.modules)
    users = []  # our modules holding something of pydantic's: those that import it
    for name, module in list(sys.modules.items()):
        if name == "app" or name.startswith("studyhub."):
            for value in vars(module).values():
                owner = getattr(value, "__module__", None) or getattr(value, "__name__", "")
                if isinstance(owner, str) and owner.split(".")[0] == "pydantic":
                    users.append(name)
                    break
    return {
        "pydantic": sorted(n for n in names if n.split(".")[0] == "pydantic"),
        "pydantic_users": sorted(users),
        "schemas": sorted(n for n in names if n == "studyhub.domain.schema" or n.endswith(".schemas")),
        "orm": "sqlalchemy.orm" in names,
    }

out = {"import": loaded()}

class Context:
    function_name = "cold-test"; function_version = "1"; memory_limit_in_mb = 512
    aws_request_id = "t"; log_group_name = "/aws/lambda/t"
    def get_remaining_time_in_millis(self): return 30000

path = sys.argv[1]
event = {"resource": path, "path": path, "httpMethod": "GET",
         "headers": {"accept": "application/json"}, "multiValueHeaders": {"accept": ["application/json"]},
         "queryStringParameters": None, "multiValueQueryStringParameters": None, "pathParameters": None,
         "stageVariables": None, "body": None, "isBase64Encoded": False,
         "requestContext": {"resourcePath": path, "httpMethod": "GET", "path": "/api" + path,
                            "stage": "api", "requestId": "t", "identity": {"sourceIp": "127.0.0.1"}}}
out["health_status"] = app.app(event, Context())["statusCode"]
out["health"] = loaded()
print(json.dumps(out))
"""


def cold_start(group: str, tmp_path: Path) -> dict:
    """``import app`` of ``group`` in a fresh interpreter, then its health check answered once."""
    health = "/health" if group == "meta" else f"/{group}/health"
    proc = subprocess.run(
        [sys.executable, "-c", COLD_SCRIPT, health],
        cwd=ROOT / "functions" / group,
        env=function_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("group", GROUPS)
def test_import_app_and_a_health_answer_load_no_schema_nor_pydantic(group, tmp_path):
    """Route declarations name their models (routedoc.py): ``import app`` and a health answer
    load no schema module and no pydantic (~60 ms of CPU per cold start), nor the ORM; a view
    imports them when it validates a body or a filter."""
    out = cold_start(group, tmp_path)
    assert out["health_status"] == 200, out
    for stage in ("import", "health"):
        seen = out[stage]
        assert seen["schemas"] == [], (stage, seen["schemas"])
        assert seen["orm"] is False, stage
        assert set(seen["pydantic_users"]) <= PYDANTIC_AT_COLD_START, (stage, seen["pydantic_users"])
        if not PYDANTIC_AT_COLD_START:
            assert seen["pydantic"] == [], (stage, seen["pydantic"][:5])
    unused = PYDANTIC_AT_COLD_START - set(out["health"]["pydantic_users"])
    assert not unused, f"{sorted(unused)} no longer brings pydantic in: drop it from PYDANTIC_AT_COLD_START"
