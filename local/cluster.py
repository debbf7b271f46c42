"""``studyhub serve --processes N``: N server processes per function behind a child Nginx.

What the parent does, in order: migrate and load reference data once; bind every worker's
listening socket itself (127.0.0.1, one port per process: ``--worker-port-base`` + offset, or
free ports with base 0) so no worker can lose a race for its port and Nginx can connect before a
worker has finished importing; start the workers (``python -m local.cluster --worker NAME --fd
N``), each serving one function on the socket it inherits; start the job worker and beat as
``studyhub serve`` does; write an Nginx config with ``render_config`` (one upstream per function
listing its N ports, media from disk when storage is local files) and run ``nginx -c`` as a
child. Then it supervises: a worker that dies is started again on the same socket (connections
wait in the socket's backlog meanwhile), a worker that keeps dying or an Nginx that dies stops
everything with exit status 1. SIGTERM/SIGINT stop Nginx gracefully first (it finishes what it
is serving), then the workers and the jobs.

``var/cluster.json`` tells which pid serves which port (the test uses it, so can an operator).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from http.client import HTTPConnection
from pathlib import Path

log = logging.getLogger("studyhub.cluster")

NGINX_CANDIDATES = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")
RESTART_LIMIT = 5  # worker restarts ...
RESTART_WINDOW = 60.0  # ... within this many seconds, then the cluster gives up
READY_TIMEOUT = 120.0  # workers import their function and answer /<group>/health
STOP_TIMEOUT = 10.0


class ClusterError(RuntimeError):
    """A reason the cluster can't start, said in one line."""


def find_nginx() -> str:
    """``STUDYHUB_NGINX`` (a path), else ``nginx`` on PATH or in the usual places."""
    chosen = os.environ.get("STUDYHUB_NGINX")
    if chosen:
        found = chosen if os.path.isfile(chosen) and os.access(chosen, os.X_OK) else None
        where = f" (STUDYHUB_NGINX={chosen} is not an executable)"
    else:
        found = shutil.which("nginx") or next((p for p in NGINX_CANDIDATES if os.access(p, os.X_OK)), None)
        where = ""
    if found is None:
        raise ClusterError(
            f"nginx is not installed{where}: `studyhub serve --processes N` runs Nginx in front of the "
            "workers (Debian/Ubuntu: apt-get install nginx-light); without it run `studyhub serve` (one process)"
        )
    return found


def _die_with_parent() -> None:
    """In the child: SIGTERM when the cluster process dies, even by SIGKILL (Linux)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


@dataclass
class Worker:
    function: str
    index: int
    sock: socket.socket
    log_file: Path
    proc: subprocess.Popen | None = None
    exits: list[float] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


def bind_sockets(functions: list[str], processes: int, base: int) -> dict[str, list[socket.socket]]:
    """One listening socket per worker on 127.0.0.1: ``base + i`` in order, or free ports (base 0)."""
    sockets: dict[str, list[socket.socket]] = {}
    offset = 0
    try:
        for name in functions:
            sockets[name] = []
            for _ in range(processes):
                port = base + offset if base else 0
                offset += 1
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError as error:
                    sock.close()
                    raise ClusterError(
                        f"can't bind worker port 127.0.0.1:{port} for {name}: {error.strerror}; "
                        "choose another --worker-port-base (0: any free ports)"
                    ) from None
                sock.listen(1024)
                sockets[name].append(sock)
    except BaseException:
        for group in sockets.values():
            for sock in group:
                sock.close()
        raise
    return sockets


def check_port_free(host: str, port: int) -> None:
    """Nginx's port, before anything starts (Nginx itself would retry for seconds, then exit)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as error:
        raise ClusterError(f"can't listen on {host}:{port}: {error}") from None
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as error:
            raise ClusterError(f"can't listen on {host}:{port}: {error.strerror}") from None


def _worker_log_file(log_file: Path | None, var_dir: Path, function: str, index: int) -> Path:
    """Each process rotates its own file: ``studyhub.log`` -> ``studyhub-users-0.log``."""
    base = log_file or var_dir / "logs" / "studyhub.log"
    return base.with_name(f"{base.stem}-{function}-{index}{base.suffix or '.log'}")


class Cluster:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        processes: int,
        threads: int,
        functions: list[str] | None,
        background: bool,
        port_base: int | None,
        prepare_db: bool,
    ) -> None:
        from studyhub.core.config import get_settings
        from studyhub.core.routing import load_routing

        if processes < 2:
            raise ClusterError("--processes must be at least 2 (one process: plain `studyhub serve`)")
        routing = load_routing()
        unknown = sorted(set(functions or []) - set(routing.functions))
        if unknown:
            raise ClusterError(f"unknown function(s): {', '.join(unknown)}")
        self.host, self.port = host, port
        self.processes, self.threads = processes, threads
        self.functions = list(functions or routing.functions)
        self.background = background
        self.port_base = port + 1 if port_base is None else port_base
        self.prepare_db = prepare_db
        self.settings = get_settings()
        self.nginx_bin = find_nginx()
        check_port_free(host, port)
        self.prefix_dir = self.settings.var_dir / "nginx"
        self.state_file = self.settings.var_dir / "cluster.json"
        self.workers: list[Worker] = []
        self.helpers: list[subprocess.Popen] = []
        self.nginx: subprocess.Popen | None = None
        self.stopping = False

    # --- start ------------------------------------------------------------------------------

    def nginx_config(self) -> str:
        from .nginx import render_config

        upstreams = {name: [w.address for w in self.workers if w.function == name] for name in self.functions}
        # Not served here: Nginx still needs an upstream per function in routes.yaml; nothing listens
        # there, so those paths answer the contract's 503 naming the function.
        for name in self._all_functions():
            upstreams.setdefault(name, ["127.0.0.1:9"])
        media_root = None
        if self.settings.storage_url.startswith("file://"):
            media_root = Path(self.settings.storage_url[len("file://") :])
            media_root.mkdir(parents=True, exist_ok=True)
        # max_fails=0: a worker's port never refuses a connection (this process holds the socket),
        # so a dead worker only delays what waits in its backlog until its replacement accepts it
        # (well under a second). Nginx's default passive check would instead take the port out
        # for fail_timeout (10 s) and answer 503 when every process of a function died at once.
        return render_config(
            upstreams,
            listen=f"{self.host}:{self.port}",
            prefix_dir=self.prefix_dir,
            standalone=True,
            media_root=media_root,
            server_options="max_fails=0",
        )

    @staticmethod
    def _all_functions() -> list[str]:
        from studyhub.core.routing import load_routing

        return list(load_routing().functions)

    def start_worker(self, worker: Worker) -> None:
        fd = worker.sock.fileno()
        env = dict(os.environ, LOG_FILE=str(worker.log_file), PYTHONUNBUFFERED="1")
        command = [
            sys.executable,
            "-m",
            "local.cluster",
            "--worker",
            worker.function,
            "--fd",
            str(fd),
            "--threads",
            str(self.threads),
        ]
        worker.proc = subprocess.Popen(command, env=env, pass_fds=(fd,), preexec_fn=_die_with_parent)

    def start_nginx(self) -> None:
        self.prefix_dir.mkdir(parents=True, exist_ok=True)
        conf = self.prefix_dir / "nginx.conf"
        conf.write_text(self.nginx_config())
        error_log = self.prefix_dir / "error.log"
        base = [self.nginx_bin, "-c", str(conf), "-p", str(self.prefix_dir), "-e", str(error_log)]
        check = subprocess.run(base + ["-t", "-q"], capture_output=True, text=True, timeout=30)
        if check.returncode != 0:
            raise ClusterError(f"nginx rejects the generated config {conf}: {check.stderr.strip()}")
        self.nginx = subprocess.Popen(base, preexec_fn=_die_with_parent)

    def write_state(self) -> None:
        state = {
            "listen": f"{self.host}:{self.port}",
            "pid": os.getpid(),
            "nginx": {
                "pid": self.nginx.pid if self.nginx else None,
                "config": str(self.prefix_dir / "nginx.conf"),
                "access_log": str(self.prefix_dir / "access.log"),
            },
            "functions": {
                name: [
                    {"port": w.port, "pid": w.proc.pid if w.proc else None, "log": str(w.log_file)}
                    for w in self.workers
                    if w.function == name
                ]
                for name in self.functions
            },
        }
        tmp = self.state_file.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(state, indent=2))
        os.replace(tmp, self.state_file)

    def wait_ready(self) -> None:
        """Until every worker answers its health route (any status: a 503 from a missing Redis is
        still a running worker), bounded; a worker that exits meanwhile is restarted by supervise."""
        from studyhub.core.routing import load_routing

        prefixes = {name: load_routing().functions[name].prefix for name in self.functions}
        pending = list(self.workers)
        deadline = time.monotonic() + READY_TIMEOUT
        while pending and not self.stopping and time.monotonic() < deadline:
            if self.supervise_once() is not None:
                raise ClusterError(f"could not start: see the log above and {self.prefix_dir / 'error.log'}")
            still = []
            for worker in pending:
                conn = HTTPConnection("127.0.0.1", worker.port, timeout=2)
                try:
                    conn.request("GET", f"{prefixes[worker.function]}/health")
                    conn.getresponse().read()
                except OSError:
                    still.append(worker)
                finally:
                    conn.close()
            pending = still
            if pending:
                time.sleep(0.2)
        if pending and not self.stopping:
            raise ClusterError(
                f"workers not answering after {READY_TIMEOUT:.0f} s: "
                + ", ".join(f"{w.function}#{w.index}" for w in pending)
            )

    def run(self) -> int:
        from .serve import prepare, start_background

        if self.prepare_db:
            prepare()  # once, before any worker: migrations and reference data
        from studyhub.core import db

        db.reset()  # the parent serves nothing: close the connections the preparation opened
        sockets = bind_sockets(self.functions, self.processes, self.port_base)
        for name in self.functions:
            for index, sock in enumerate(sockets[name]):
                self.workers.append(
                    Worker(
                        name, index, sock, _worker_log_file(self.settings.log_file, self.settings.var_dir, name, index)
                    )
                )
        self._install_signals()
        try:
            for worker in self.workers:
                self.start_worker(worker)
            if self.background:
                self.helpers = start_background()
            self.start_nginx()
            self.write_state()
            self.wait_ready()
            if self.stopping:
                return 0
            log.info(
                "serving %s with %d processes each (ports %s) behind nginx on http://%s:%d/api",
                ", ".join(self.functions),
                self.processes,
                ", ".join(str(w.port) for w in self.workers),
                self.host,
                self.port,
            )
            while not self.stopping:
                status = self.supervise_once()
                if status is not None:
                    return status
                time.sleep(0.5)
            return 0
        finally:
            self.stop()

    # --- supervise and stop -----------------------------------------------------------------

    def supervise_once(self) -> int | None:
        """Restart dead workers; an exit status when the cluster must end."""
        if self.nginx is not None and self.nginx.poll() is not None and not self.stopping:
            log.error(
                "nginx exited with status %s (see %s); stopping", self.nginx.returncode, self.prefix_dir / "error.log"
            )
            return 1
        now = time.monotonic()
        for worker in self.workers:
            if worker.proc is None or worker.proc.poll() is None or self.stopping:
                continue
            worker.exits = [t for t in worker.exits if now - t < RESTART_WINDOW] + [now]
            if len(worker.exits) > RESTART_LIMIT:
                log.error(
                    "%s worker %d on port %d exited %d times in %.0f s; stopping",
                    worker.function,
                    worker.index,
                    worker.port,
                    len(worker.exits),
                    RESTART_WINDOW,
                )
                return 1
            log.warning(
                "%s worker %d (pid %d, port %d) exited with status %s; starting it again",
                worker.function,
                worker.index,
                worker.proc.pid,
                worker.port,
                worker.proc.returncode,
            )
            self.start_worker(worker)
            self.write_state()
        return None

    def _install_signals(self) -> None:
        def request_stop(signum, _frame) -> None:
            if not self.stopping:
                log.info("%s: stopping nginx, workers and jobs", signal.Signals(signum).name)
            self.stopping = True

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)

    def stop(self) -> None:
        self.stopping = True
        if self.nginx is not None and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGQUIT)  # graceful: finish the requests in flight
            _wait(self.nginx, STOP_TIMEOUT)
        procs = [w.proc for w in self.workers if w.proc is not None] + list(self.helpers)
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        for proc in procs:
            _wait(proc, max(0.1, deadline - time.monotonic()))
        for worker in self.workers:
            worker.sock.close()
        try:
            self.state_file.unlink()
        except FileNotFoundError:
            pass


def _wait(proc: subprocess.Popen, timeout: float) -> None:
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def run_cluster(
    host: str,
    port: int,
    *,
    processes: int,
    threads: int = 16,
    functions: list[str] | None = None,
    background: bool = True,
    port_base: int | None = None,
    prepare_db: bool = True,
) -> int:
    """Run the cluster until SIGTERM/SIGINT; the exit status (0, or 1 when it had to give up)."""
    from studyhub.core.logs import setup_logging

    setup_logging()
    cluster = Cluster(
        host,
        port,
        processes=processes,
        threads=threads,
        functions=functions,
        background=background,
        port_base=port_base,
        prepare_db=prepare_db,
    )
    return cluster.run()


# --- one worker process ---------------------------------------------------------------------


def _worker_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m local.cluster", description="one cluster worker")
    parser.add_argument("--worker", required=True, help="the function this process serves")
    parser.add_argument("--fd", required=True, type=int, help="the inherited listening socket")
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args(argv)
    sock = socket.socket(fileno=args.fd)
    from .serve import serve

    serve(
        "127.0.0.1",
        sock.getsockname()[1],
        threads=args.threads,
        functions=[args.worker],
        prepare_db=False,
        background=False,
        sockets=[sock],
        per_client_connections=None,  # behind Nginx: every connection comes from Nginx
    )


if __name__ == "__main__":
    _worker_main(sys.argv[1:])
