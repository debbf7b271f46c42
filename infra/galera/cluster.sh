#!/usr/bin/env bash
# A 3-node MariaDB Galera cluster on loopback with an Nginx `stream` load balancer in front:
# the seed's PXC cluster behind Nginx, on Debian's mariadb-server + galera-4 (no Docker).
#
#   infra/galera/cluster.sh start    # bootstrap node 1, join nodes 2 and 3, start the balancer
#   infra/galera/cluster.sh status   # each node's wsrep state and the balancer
#   infra/galera/cluster.sh stop     # stop everything this script started, remove the data dir
#
# Clients connect to the balancer: mysql+pymysql://root@127.0.0.1:3310/studyhub (round robin
# over the nodes). root has no password and every port listens on 127.0.0.1 only: a test and
# development cluster, not a production one.
#
# Settings (environment):
#   GALERA_DIR            state, logs, sockets, data           (default /tmp/studyhub-galera)
#   GALERA_LB_PORT        Nginx stream balancer                 (default 3310)
#   GALERA_PORT_BASE      node i's MySQL port is base+i         (default 3310: 3311-3313)
#   GALERA_GCOMM_BASE     node i's group communication port     (default 4570: 4571-4573)
#   GALERA_IST_BASE       node i's incremental state transfer   (default 4580: 4581-4583)
#   GALERA_SST_BASE       node i's full state transfer (rsync)  (default 4590: 4591-4593)
#   GALERA_WAIT_SECONDS   bound on each wait (node synced...)   (default 90)
#   GALERA_NO_INSTALL=1   never apt-get install missing packages
# Runs as root (as on this machine) or as any user, without systemd. As root the nodes drop to
# the `mysql` account, as Debian's own service does: the rsync state transfer runs an rsync
# daemon, and an rsync daemon started by root writes as `nobody`, who can't create the joiner's
# files.
set -euo pipefail

DIR="${GALERA_DIR:-/tmp/studyhub-galera}"
LB_PORT="${GALERA_LB_PORT:-3310}"
PORT_BASE="${GALERA_PORT_BASE:-3310}"
GCOMM_BASE="${GALERA_GCOMM_BASE:-4570}"
IST_BASE="${GALERA_IST_BASE:-4580}"
SST_BASE="${GALERA_SST_BASE:-4590}"
WAIT="${GALERA_WAIT_SECONDS:-90}"
NODES=(1 2 3)
PROVIDER="${GALERA_PROVIDER:-/usr/lib/galera/libgalera_smm.so}"
MARIADBD="$(command -v mariadbd || echo /usr/sbin/mariadbd)"
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
STREAM_MODULE=/usr/lib/nginx/modules/ngx_stream_module.so
if [ "$(id -u)" = 0 ]; then RUN_USER="${GALERA_USER:-mysql}"; else RUN_USER="$(id -un)"; fi

log() { printf '[galera] %s\n' "$*" >&2; }
die() { printf '[galera] error: %s\n' "$*" >&2; exit 1; }

node_port() { echo $((PORT_BASE + $1)); }
node_dir() { echo "$DIR/node$1"; }
node_sock() { echo "$DIR/node$1/mysqld.sock"; }

sql() {  # sql NODE "statement": one value per line, no headers
  mariadb --no-defaults --protocol=socket --socket="$(node_sock "$1")" -uroot -N -B \
    --connect-timeout=2 -e "$2" 2>/dev/null
}
wsrep_status() {  # wsrep_status NODE variable -> value
  sql "$1" "SHOW GLOBAL STATUS LIKE '$2'" | awk '{print $2}'
}

# --- packages ---------------------------------------------------------------------------------

nginx_has_static_stream() { "$NGINX" -V 2>&1 | grep -Eq -- '--with-stream( |$)'; }

missing_packages() {
  local missing=()
  [ -x "$MARIADBD" ] || missing+=(mariadb-server)
  command -v mariadb >/dev/null 2>&1 || missing+=(mariadb-client)
  [ -f "$PROVIDER" ] || missing+=(galera-4)
  command -v rsync >/dev/null 2>&1 || missing+=(rsync)
  [ -x "$NGINX" ] || missing+=(nginx-light)
  if ! nginx_has_static_stream 2>/dev/null && [ ! -f "$STREAM_MODULE" ]; then missing+=(libnginx-mod-stream); fi
  echo "${missing[@]:-}"
}

ensure_packages() {
  local missing
  missing="$(missing_packages)"
  [ -z "$missing" ] && return 0
  if [ "${GALERA_NO_INSTALL:-0}" != 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing: $missing"
    # shellcheck disable=SC2086
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null) \
      || die "could not install: $missing"
    missing="$(missing_packages)"
  fi
  [ -z "$missing" ] || die "missing Debian packages: $missing (apt-get install $missing)"
}

# --- processes --------------------------------------------------------------------------------

# A pid from our pid file counts only if that process still runs with our config: a recycled
# pid must never be signalled.
alive() {  # alive PIDFILE MARKER
  local pid
  [ -f "$1" ] || return 1
  pid="$(cat "$1" 2>/dev/null)" || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$2"
}
node_alive() { alive "$(node_dir "$1")/launcher.pid" "$(node_dir "$1")/my.cnf"; }
nginx_alive() { alive "$DIR/nginx/nginx.pid" "$DIR/nginx/nginx.conf"; }

remove_dir() {
  case "$DIR" in
    "" | / | /tmp | /tmp/ | "$HOME" | /root | /var | /var/lib) die "refusing to remove '$DIR'" ;;
  esac
  rm -rf "$DIR"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local seconds="$1" what="$2"
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# --- configuration ----------------------------------------------------------------------------

write_node_config() {
  local n="$1" d
  d="$(node_dir "$n")"
  local members="127.0.0.1:$((GCOMM_BASE + 1)),127.0.0.1:$((GCOMM_BASE + 2)),127.0.0.1:$((GCOMM_BASE + 3))"
  mkdir -p "$d/data" "$d/tmp"
  cat >"$d/my.cnf" <<EOF
# Generated by infra/galera/cluster.sh for node $n.
[mysqld]
user                           = $RUN_USER
datadir                        = $d/data
tmpdir                         = $d/tmp
socket                         = $d/mysqld.sock
pid-file                       = $d/mysqld.pid
log-error                      = $d/error.log
bind-address                   = 127.0.0.1
port                           = $(node_port "$n")
character-set-server           = utf8mb4
collation-server               = utf8mb4_unicode_ci
skip-name-resolve              = ON
# small: three nodes and their neighbours share 2 cores
innodb_buffer_pool_size        = 64M
innodb_log_file_size           = 32M
innodb_flush_log_at_trx_commit = 2
performance_schema             = OFF
max_connections                = 200
# what Galera requires
binlog_format                  = ROW
default_storage_engine         = InnoDB
innodb_autoinc_lock_mode       = 2
wsrep_on                       = ON
wsrep_provider                 = $PROVIDER
wsrep_cluster_name             = studyhub
wsrep_cluster_address          = gcomm://$members
wsrep_node_name                = node$n
wsrep_node_address             = 127.0.0.1:$((GCOMM_BASE + n))
wsrep_node_incoming_address    = 127.0.0.1:$(node_port "$n")
wsrep_provider_options         = "gmcast.listen_addr=tcp://127.0.0.1:$((GCOMM_BASE + n));ist.recv_addr=127.0.0.1:$((IST_BASE + n));gcache.size=32M"
wsrep_sst_method               = rsync
wsrep_sst_receive_address      = 127.0.0.1:$((SST_BASE + n))
wsrep_slave_threads            = 2
# The balancer spreads one client's connections over all nodes: a read must see what that
# client committed a moment ago through another node (causal reads), not a node still applying.
wsrep_sync_wait                = 1
EOF
}

write_nginx_config() {
  local d="$DIR/nginx" load=""
  mkdir -p "$d/logs"
  if ! nginx_has_static_stream; then load="load_module $STREAM_MODULE;"; fi
  cat >"$d/nginx.conf" <<EOF
# Generated by infra/galera/cluster.sh: the seed's "Nginx stream" MySQL balancer.
$load
worker_processes 1;
pid $d/nginx.pid;
error_log $d/logs/error.log warn;
events { worker_connections 1024; }
stream {
    log_format galera '\$remote_addr [\$time_iso8601] \$upstream_addr \$status \$session_time';
    access_log $d/logs/access.log galera;
    upstream galera {
        # round robin; a node that refuses connections is skipped for 10 s
        server 127.0.0.1:$(node_port 1) max_fails=2 fail_timeout=10s;
        server 127.0.0.1:$(node_port 2) max_fails=2 fail_timeout=10s;
        server 127.0.0.1:$(node_port 3) max_fails=2 fail_timeout=10s;
    }
    server {
        listen 127.0.0.1:$LB_PORT;
        proxy_pass galera;
        proxy_connect_timeout 2s;
        proxy_timeout 1h;
    }
}
EOF
}

# --- start ------------------------------------------------------------------------------------

start_node() {  # start_node N [--wsrep-new-cluster]
  local n="$1" d
  shift
  d="$(node_dir "$n")"
  log "starting node $n on 127.0.0.1:$(node_port "$n") $*"
  # setsid: the node survives the shell that started it; its own pid file is written later,
  # the launcher pid (mariadbd itself, exec'd) is known at once.
  setsid "$MARIADBD" --defaults-file="$d/my.cnf" "$@" >>"$d/console.log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$d/launcher.pid"
  # Until the forked shell has exec'd mariadbd, /proc/PID/cmdline is still the shell's.
  wait_for 10 "exec" node_alive "$n" || kill -0 "$pid" 2>/dev/null \
    || { show_logs "$n"; die "node $n exited at once"; }
}

show_logs() {
  local d
  d="$(node_dir "$1")"
  tail -n 30 "$d/error.log" >&2 2>/dev/null || true
  tail -n 10 "$d/console.log" >&2 2>/dev/null || true
}

node_synced() {
  node_alive "$1" || return 2
  [ "$(wsrep_status "$1" wsrep_local_state_comment)" = Synced ] && [ "$(wsrep_status "$1" wsrep_ready)" = ON ]
}

wait_synced() {
  local n="$1" deadline=$((SECONDS + WAIT)) rc
  while :; do
    rc=0
    node_synced "$n" || rc=$?
    [ "$rc" = 0 ] && return 0
    if [ "$rc" = 2 ]; then
      show_logs "$n"
      die "node $n exited while starting (log: $(node_dir "$n")/error.log)"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      show_logs "$n"
      die "node $n not Synced after ${WAIT}s (log: $(node_dir "$n")/error.log)"
    fi
    sleep 0.5
  done
}

cluster_size_is() {
  local n
  for n in "${NODES[@]}"; do
    [ "$(wsrep_status "$n" wsrep_cluster_size)" = "$1" ] || return 1
  done
}

healthy() {
  local n
  for n in "${NODES[@]}"; do node_synced "$n" >/dev/null 2>&1 || return 1; done
  cluster_size_is 3 && nginx_alive && port_busy "$LB_PORT"
}

cmd_start() {
  if healthy 2>/dev/null; then
    log "already running in $DIR (balancer 127.0.0.1:$LB_PORT)"
    return 0
  fi
  local n p
  for n in "${NODES[@]}"; do
    node_alive "$n" && die "node $n of $DIR runs but the cluster is not healthy: run '$0 stop' first"
  done
  nginx_alive && die "the balancer of $DIR runs but the cluster is not healthy: run '$0 stop' first"
  ensure_packages
  for p in "$LB_PORT" $(node_port 1) $(node_port 2) $(node_port 3); do
    port_busy "$p" && die "port 127.0.0.1:$p is taken by another process"
  done
  id "$RUN_USER" >/dev/null 2>&1 || die "no user '$RUN_USER' to run the nodes as (set GALERA_USER)"
  remove_dir
  mkdir -p "$DIR"
  chmod 755 "$DIR"
  for n in "${NODES[@]}"; do write_node_config "$n"; done
  chown -R "$RUN_USER" "$DIR"/node*
  # every parent must be searchable by $RUN_USER (pytest's /tmp/pytest-of-root is not)
  su -s /bin/sh "$RUN_USER" -c "test -w '$(node_dir 1)/data'" 2>/dev/null || [ "$(id -u)" != 0 ] \
    || die "$RUN_USER can't write under $DIR: choose a GALERA_DIR whose parents it can enter"

  log "initialising node 1's data dir"
  mariadb-install-db --defaults-file="$(node_dir 1)/my.cnf" --user="$RUN_USER" --skip-test-db \
    --auth-root-authentication-method=normal >"$(node_dir 1)/install.log" 2>&1 \
    || { tail -n 20 "$(node_dir 1)/install.log" >&2; die "mariadb-install-db failed"; }

  start_node 1 --wsrep-new-cluster
  wait_synced 1
  # root from any loopback address without a password (the balancer connects from 127.0.0.1);
  # replicated to the joiners by their state transfer.
  sql 1 "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
         GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;" \
    || die "could not create root@127.0.0.1"
  # Joiners one at a time: each takes a full state transfer (rsync) from a synced donor.
  for n in 2 3; do
    start_node "$n"
    wait_synced "$n"
  done
  wait_for "$WAIT" "cluster size 3" cluster_size_is 3 || die "wsrep_cluster_size never reached 3"

  write_nginx_config
  "$NGINX" -t -q -c "$DIR/nginx/nginx.conf" -p "$DIR/nginx" -e "$DIR/nginx/logs/error.log" \
    || die "nginx rejects $DIR/nginx/nginx.conf"
  log "starting the Nginx stream balancer on 127.0.0.1:$LB_PORT"
  # `daemon off` under setsid: the pid we record is nginx's master itself.
  setsid "$NGINX" -c "$DIR/nginx/nginx.conf" -p "$DIR/nginx" -e "$DIR/nginx/logs/error.log" \
    -g 'daemon off;' >>"$DIR/nginx/logs/console.log" 2>&1 </dev/null &
  wait_for 15 "balancer" port_busy "$LB_PORT" || die "the balancer did not listen on $LB_PORT"
  log "ready: 3 nodes Synced, wsrep_cluster_size=3, balancer mysql://root@127.0.0.1:$LB_PORT"
}

# --- stop / status ----------------------------------------------------------------------------

stop_pid() {  # stop_pid PIDFILE MARKER NAME
  local pid deadline
  alive "$1" "$2" || return 0
  pid="$(cat "$1")"
  log "stopping $3 (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + 30))
  while alive "$1" "$2" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
  if alive "$1" "$2"; then
    log "$3 ignored SIGTERM for 30 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.2
  fi
}

cmd_stop() {
  local n
  stop_pid "$DIR/nginx/nginx.pid" "$DIR/nginx/nginx.conf" "the balancer"
  # The last node standing would be the one to bootstrap from; the data goes anyway.
  for n in 3 2 1; do
    stop_pid "$(node_dir "$n")/launcher.pid" "$(node_dir "$n")/my.cnf" "node $n"
  done
  remove_dir
  log "stopped; removed $DIR"
}

cmd_status() {
  local n ok=0
  for n in "${NODES[@]}"; do
    if node_alive "$n"; then
      printf 'node%s 127.0.0.1:%s state=%s cluster_size=%s ready=%s\n' "$n" "$(node_port "$n")" \
        "$(wsrep_status "$n" wsrep_local_state_comment)" "$(wsrep_status "$n" wsrep_cluster_size)" \
        "$(wsrep_status "$n" wsrep_ready)"
    else
      printf 'node%s 127.0.0.1:%s down\n' "$n" "$(node_port "$n")"
      ok=1
    fi
  done
  if nginx_alive && port_busy "$LB_PORT"; then
    printf 'balancer 127.0.0.1:%s up (nginx stream, round robin)\n' "$LB_PORT"
  else
    printf 'balancer 127.0.0.1:%s down\n' "$LB_PORT"
    ok=1
  fi
  healthy || ok=1
  return $ok
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: $0 start|stop|status   (GALERA_DIR=${DIR})" >&2; exit 2 ;;
esac
