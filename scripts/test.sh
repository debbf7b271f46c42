#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what it needs, makes sure MariaDB and
# Redis run (under CI=true their absence is a failure), then runs pytest on both stacks
# (SQLite + embedded cache, MariaDB + Redis) in one run.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n==> %s\n' "$*"; }

log "installing the project and its test dependencies"
python3 -m pip install --quiet --disable-pip-version-check -e '.[dev]'

# The quality gates (STUDYHUB_GATES=1, set by .ci/run): lint, format and types, before the
# tests. Every gate runs so one report shows all findings; any failure fails the run.
if [ "${STUDYHUB_GATES:-0}" = 1 ]; then
  failed=""
  gate() {
    log "gate: $*"
    "$@" || failed="$failed [$*]"
  }
  gate python3 -m ruff check .
  gate python3 -m ruff format --check .
  gate python3 -m mypy
  if [ -n "$failed" ]; then
    printf '\nquality gates failed:%s\n' "$failed" >&2
    exit 1
  fi
fi

if ! command -v nginx >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  log "installing nginx (Debian package) for the front-door tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null) \
    || echo "warning: could not install nginx; the Nginx tests will say why they skip"
fi
# The browser tests (tests/e2e/test_cors_browser.py, /api/docs): Debian's chromium, driven by
# Playwright from the dev extra (its own browser download, `playwright install`, is never used).
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  log "installing chromium (Debian package) for the browser tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "warning: could not install chromium; the browser tests will say why they skip"
fi
# The console's build check (tests/e2e/console/test_console_build.py: npm ci + npm run build from
# console/package-lock.json reproduce the shipped console/dist): Node.js 20 and npm, from Debian.
if ! { command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; } \
  && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  log "installing nodejs and npm (Debian packages) for the console's build check"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null) \
    || echo "warning: could not install nodejs/npm; the console build check will say why it skips"
fi
# Chinese text in the browser tests' pages and screenshots (Swagger UI's /api/docs): a CJK font.
if command -v fc-list >/dev/null 2>&1 && [ -z "$(fc-list :lang=zh 2>/dev/null)" ] \
  && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  log "installing fonts-noto-cjk (Debian package) so Chinese renders in the browser tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null) \
    || echo "warning: could not install fonts-noto-cjk; the docs browser test will say why it skips"
fi
# The Galera cluster test (infra/galera/cluster.sh): the Galera library, rsync for the state
# transfer, and Nginx's stream module (a separate package in Debian) for the MySQL balancer.
galera_missing=""
[ -f /usr/lib/galera/libgalera_smm.so ] || galera_missing="$galera_missing galera-4"
command -v rsync >/dev/null 2>&1 || galera_missing="$galera_missing rsync"
[ -f /usr/lib/nginx/modules/ngx_stream_module.so ] || galera_missing="$galera_missing libnginx-mod-stream"
if [ -n "$galera_missing" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  log "installing$galera_missing (Debian packages) for the Galera cluster test"
  # shellcheck disable=SC2086
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $galera_missing >/dev/null) \
    || echo "warning: could not install$galera_missing; the Galera test will say why it skips"
fi

# The compose file test (tests/e2e/test_infra_compose.py) runs Debian's docker-compose 1.29, which
# validates infra/compose.yaml without a Docker daemon.
if ! command -v docker-compose >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  log "installing docker-compose (Debian package) for the compose file test"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null) \
    || echo "warning: could not install docker-compose; the compose test will say why it skips"
fi

start_mariadb() {
  if ! (exec 3<>/dev/tcp/127.0.0.1/3306) 2>/dev/null; then
    if command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ]; then
      log "starting MariaDB"
      start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
      for _ in $(seq 1 30); do (exec 3<>/dev/tcp/127.0.0.1/3306) 2>/dev/null && break; sleep 1; done
    fi
  fi
}
start_redis() {
  if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && command -v redis-server >/dev/null 2>&1; then
    log "starting Redis"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
    for _ in $(seq 1 10); do (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && break; sleep 1; done
  fi
}
start_mariadb
start_redis

log "running the tests"
set +e
python3 -m pytest "$@"
status=$?
set -e
# pytest's 5 means no test ran: that must not pass as green.
exit $status
