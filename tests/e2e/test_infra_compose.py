"""infra/compose.yaml (issue 7): no Docker engine runs here, so the file is validated two ways:
``docker-compose config`` (Debian's docker-compose 1.29, which parses, interpolates and checks
the file without a daemon; ``scripts/test.sh`` installs it), and a structural check of every
service on the YAML itself: an image or a build whose files exist, a healthcheck (or a one-shot
job that dependents wait to complete), ``depends_on`` targets that exist and are waited for the
right way, no cycles, published ports that don't collide, a service per function of routes.yaml.
The committed Nginx config must be what the generator prints today.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import missing

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
COMPOSE = INFRA / "compose.yaml"
ENV_EXAMPLE = INFRA / ".env.example"
DOCKER_COMPOSE = shutil.which("docker-compose")


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def services() -> dict[str, dict]:
    return compose()["services"]


def one_shot(service: dict) -> bool:
    return service.get("restart") == "no"


def functions() -> list[str]:
    from studyhub.core.routing import load_routing

    return list(load_routing().functions)


# --- docker-compose itself ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def docker_compose() -> str:
    if DOCKER_COMPOSE is None:
        missing("docker-compose is not installed (Debian: apt-get install docker-compose; scripts/test.sh does it)")
    return DOCKER_COMPOSE


def run_compose(binary: str, *args: str, env_file: Path | None = ENV_EXAMPLE) -> subprocess.CompletedProcess:
    command = [binary]
    if env_file is not None:
        command += ["--env-file", str(env_file)]
    command += ["-f", str(COMPOSE), *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MYSQL_", "MINIO_", "JWT_", "COMPOSE_"))}
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=env, cwd=ROOT)


def test_docker_compose_accepts_the_file_with_the_example_settings(docker_compose):
    result = run_compose(docker_compose, "config", "-q")
    assert result.returncode == 0, result.stderr


def test_docker_compose_resolves_every_service_with_its_settings(docker_compose):
    result = run_compose(docker_compose, "config")
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)["services"]
    assert set(resolved) == set(services())
    users = resolved["users"]["environment"]
    assert users["DATABASE_URL"] == "mysql+pymysql://studyhub:change-me-studyhub@mysql:3306/studyhub?charset=utf8mb4"
    assert users["JWT_SECRET"] == "change-me-to-a-long-random-string"
    assert users["STORAGE_URL"] == "s3://studyhub?endpoint=http://minio:9000" and users["MEDIA_URL"] == "/api/media/"
    assert "MYSQL_ROOT_PASSWORD" not in users  # only the database container knows the root password
    assert resolved["nginx"]["ports"][0]["published"] in (8080, "8080")


def test_without_the_secrets_docker_compose_refuses_and_names_the_missing_one(docker_compose, tmp_path):
    empty = tmp_path / "empty.env"
    empty.write_text("")
    result = run_compose(docker_compose, "config", "-q", env_file=empty)
    assert result.returncode != 0
    assert "infra/.env" in result.stderr and re.search(
        r"set (MYSQL_ROOT_PASSWORD|MYSQL_PASSWORD|MINIO_ROOT_USER|"
        r"MINIO_ROOT_PASSWORD|JWT_SECRET)",
        result.stderr,
    )


# --- the structure, on the YAML -----------------------------------------------------------------


def test_the_platform_services_are_all_there():
    expected = {
        "mysql",
        "redis",
        "elasticsearch",
        "minio",
        "minio-init",
        "fastdfs-tracker",
        "fastdfs-storage",
        "migrate",
        "worker",
        "beat",
        "nginx",
        *functions(),
    }
    assert set(services()) == expected


def test_every_service_has_an_image_or_a_build_whose_files_exist():
    for name, service in services().items():
        assert service.get("image") or service.get("build"), name
        if "image" in service:
            assert re.fullmatch(r"[a-z0-9./_-]+(:[A-Za-z0-9._-]+)?", service["image"]), (name, service["image"])
        build = service.get("build")
        if build:
            context = (INFRA / build["context"]).resolve()
            dockerfile = context / build.get("dockerfile", "Dockerfile")
            assert dockerfile.is_file(), (name, dockerfile)
            for line in dockerfile.read_text().splitlines():  # every COPY source is in the context
                if line.startswith("COPY ") and "--from" not in line:
                    for source in line.split()[1:-1]:
                        assert (context / source).exists(), (name, source)


def test_every_long_running_service_has_a_healthcheck_and_one_shot_jobs_are_waited_for():
    waited_to_complete = {
        target
        for service in services().values()
        for target, rule in (service.get("depends_on") or {}).items()
        if rule.get("condition") == "service_completed_successfully"
    }
    for name, service in services().items():
        if one_shot(service):
            assert "healthcheck" not in service and name in waited_to_complete, name
            continue
        check = service.get("healthcheck")
        assert check and check.get("test") and not check.get("disable"), name
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert service.get("restart") == "unless-stopped", name


def test_depends_on_targets_exist_with_the_right_condition_and_no_cycle():
    all_services = services()
    graph: dict[str, set[str]] = {}
    for name, service in all_services.items():
        depends = service.get("depends_on") or {}
        assert isinstance(depends, dict), f"{name}: depends_on must state conditions"
        graph[name] = set(depends)
        for target, rule in depends.items():
            assert target in all_services and target != name, (name, target)
            expected = "service_completed_successfully" if one_shot(all_services[target]) else "service_healthy"
            assert rule == {"condition": expected}, (name, target, rule)
    done: set[str] = set()

    def visit(node: str, path: tuple[str, ...]) -> None:
        assert node not in path, f"dependency cycle: {' -> '.join(path + (node,))}"
        if node not in done:
            for target in graph[node]:
                visit(target, path + (node,))
            done.add(node)

    for name in graph:
        visit(name, ())


def test_published_ports_are_few_and_distinct():
    published = {}
    for name, service in services().items():
        for port in service.get("ports") or []:
            match = re.fullmatch(r"\$\{(\w+):-(\d+)\}:(\d+)", str(port))
            assert match, (name, port)  # host port overridable from infra/.env
            assert match.group(2) not in published, (name, port)
            published[match.group(2)] = name
    assert published == {"8080": "nginx", "8888": "fastdfs-storage"}


def test_one_service_per_function_serving_only_it_behind_nginx():
    from studyhub.core.routing import load_routing

    all_services = services()
    for name in functions():
        service = all_services[name]
        assert service["command"] == [
            "studyhub",
            "serve",
            "--function",
            name,
            "--no-jobs",
            "--no-migrate",
            "--host",
            "0.0.0.0",
            "--port",
            "8000",
        ]
        assert service["build"] == {"context": "..", "dockerfile": "infra/Dockerfile"}
        prefix = load_routing().functions[name].prefix  # "" for meta, the root of /api
        assert f"http://127.0.0.1:8000{prefix}/health" in " ".join(service["healthcheck"]["test"])
        assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert "ports" not in service  # reached through Nginx only
        assert all_services["nginx"]["depends_on"][name] == {"condition": "service_healthy"}
    env = all_services["users"]["environment"]
    for setting in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "ELASTICSEARCH_URL", "STORAGE_URL", "JWT_SECRET"):
        assert env.get(setting), setting


def test_jobs_run_as_one_worker_and_one_beat_on_redis():
    all_services = services()
    assert all_services["worker"]["command"][:4] == ["celery", "-A", "jobs", "worker"]
    assert all_services["beat"]["command"][:4] == ["celery", "-A", "jobs", "beat"]
    assert all_services["worker"]["environment"]["CELERY_BROKER_URL"].startswith("redis://redis:")
    assert all_services["migrate"]["command"] == ["studyhub", "seed"]


def test_elasticsearch_gets_the_ik_plugin_of_its_own_version_and_a_client_that_talks_to_it():
    service = services()["elasticsearch"]
    version = service["build"]["args"]["ES_VERSION"]
    dockerfile = (INFRA / "elasticsearch" / "Dockerfile").read_text()
    assert f"ARG ES_VERSION={version}" in dockerfile
    assert "elasticsearch:${ES_VERSION}" in dockerfile and "analysis-ik/${ES_VERSION}" in dockerfile
    assert service["image"].endswith(f":{version}")
    major, minor = (int(part) for part in version.split(".")[:2])
    # the client's major is the server's, and its minor no later than the server's
    pin = re.search(r"^elasticsearch>=(\d+)[\d.]*,<(\d+)\.(\d+)$", (INFRA / "constraints.txt").read_text(), re.M)
    assert pin and int(pin.group(1)) == major and (int(pin.group(2)), int(pin.group(3))) == (major, minor + 1)
    assert "--constraint infra/constraints.txt" in (INFRA / "Dockerfile").read_text()


def test_every_required_setting_is_in_the_env_example_and_the_real_file_is_ignored():
    required = set(re.findall(r"\$\{(\w+):\?", COMPOSE.read_text()))
    example = {
        line.split("=", 1)[0] for line in ENV_EXAMPLE.read_text().splitlines() if line and not line.startswith("#")
    }
    assert required and required <= example
    ignored = subprocess.run(["git", "check-ignore", "-q", "infra/.env"], cwd=ROOT)
    assert ignored.returncode == 0, "infra/.env must be git-ignored"


# --- the Nginx config --------------------------------------------------------------------------


def test_committed_nginx_config_is_what_the_generator_prints_today(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "MAX_BODY_BYTES"}
    env["PYTHON"] = sys.executable
    copy = tmp_path / "repo"
    # generate.sh writes into the tree it runs in: run it on a copy of what it reads
    for part in ("infra/nginx", "local", "routes.yaml"):
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, copy / part)
        else:
            (copy / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, copy / part)
    result = subprocess.run(
        ["bash", str(copy / "infra" / "nginx" / "generate.sh")], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert (copy / "infra" / "nginx" / "studyhub.conf").read_text() == (
        INFRA / "nginx" / "studyhub.conf"
    ).read_text(), (
        "routes.yaml or the generator changed: run infra/nginx/generate.sh and commit infra/nginx/studyhub.conf"
    )
    conf = (INFRA / "nginx" / "studyhub.conf").read_text()
    for name in functions():
        assert f"server {name}:8000 " in conf
    assert "listen 80;" in conf


def test_committed_nginx_config_is_accepted_by_nginx(tmp_path):
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if nginx is None:
        missing("nginx is not installed (Debian: apt-get install nginx-light; scripts/test.sh does it)")
    conf = (INFRA / "nginx" / "studyhub.conf").read_text()
    for name in functions():  # compose's service names resolve only inside compose's network
        conf = conf.replace(f"server {name}:8000 ", "server 127.0.0.1:8000 ")
    conf = conf.replace("/var/log/nginx/studyhub.access.log", str(tmp_path / "access.log"))
    listen = "listen 80;"
    conf = conf.replace(listen, "listen 127.0.0.1:80;")
    wrapper = tmp_path / "nginx.conf"
    wrapper.write_text(
        f"pid {tmp_path}/nginx.pid;\nevents {{}}\nhttp {{\n include /etc/nginx/mime.types;\n{conf}\n}}\n"
    )
    result = subprocess.run(
        [nginx, "-t", "-q", "-c", str(wrapper), "-p", str(tmp_path), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr


# --- LocalStack (documented, not runnable here) ------------------------------------------------


def test_localstack_compose_is_valid_and_pins_an_image_that_needs_no_auth_token(docker_compose):
    path = INFRA / "localstack" / "compose.yaml"
    result = subprocess.run(
        [docker_compose, "-f", str(path), "config", "-q"], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    stack = yaml.safe_load(path.read_text())["services"]
    image = stack["localstack"]["image"]
    assert re.fullmatch(r"localstack/localstack:3\.8\.\d+", image), image  # `latest` wants LOCALSTACK_AUTH_TOKEN
    assert all(service.get("healthcheck") for service in stack.values())
    network = stack["localstack"]["environment"]["LAMBDA_DOCKER_NETWORK"]
    assert yaml.safe_load(path.read_text())["networks"]["studyhub"]["name"] == network


def test_localstack_deploy_script_is_valid_bash_and_inlines_the_layer_by_default():
    script = INFRA / "localstack" / "deploy.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    text = script.read_text()
    assert 'LAYER_MODE="${LAYER_MODE:-inline}"' in text and "--inline-layer" in text
    assert "infra/aws/package.py" in text and "infra/aws/build_layer.py" in text
