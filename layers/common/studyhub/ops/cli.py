"""The ``studyhub`` command (API.md §8)."""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import click

from studyhub.core.routing import ROOT

CONSOLE_DIST = ROOT / "console" / "dist"  # the web console's build, shipped with the project


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _console_return_url(host: str, port: int, env: Any) -> None:
    """Unless ALIPAY_RETURN_URL is set, Alipay's page sends the browser back to the console's
    /shop/paid (console/src/routes/shop.ts), which hands the signed query to the API."""
    if env.get("ALIPAY_RETURN_URL"):
        return
    shown = "127.0.0.1" if host in ("", "0.0.0.0", "::") else (f"[{host}]" if ":" in host else host)
    base = env.get("PUBLIC_BASE_URL") or f"http://{shown}:{port}"
    env["ALIPAY_RETURN_URL"] = f"{base.rstrip('/')}/shop/paid"


@click.group()
def main() -> None:
    """StudyHub: run the platform, manage its database and users."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--threads", default=16, show_default=True, type=int, help="worker threads per process")
@click.option("--function", "functions", multiple=True, help="serve only these functions (repeatable)")
@click.option("--no-jobs", is_flag=True, help="don't run the job worker and scheduler beside the functions")
@click.option(
    "--processes",
    default=None,
    type=click.IntRange(min=1),
    help="server processes sharing HOST:PORT (default: the CPU count); with --nginx: processes per function",
)
@click.option(
    "--nginx",
    is_flag=True,
    help="--processes per function behind a child Nginx on HOST:PORT (local/cluster.py)",
)
@click.option(
    "--worker-port-base",
    type=click.IntRange(min=0),
    default=None,
    help="with --nginx (implied): first internal port on 127.0.0.1 (default PORT+1; 0: any free ports)",
)
@click.option("--no-migrate", is_flag=True, help="don't migrate or load reference data first (done elsewhere)")
@click.option("--verbose", is_flag=True, help="show Celery's start-up banners too")
def serve(
    host: str,
    port: int,
    threads: int,
    functions: tuple[str, ...],
    no_jobs: bool,
    processes: int | None,
    nginx: bool,
    worker_port_base: int | None,
    no_migrate: bool,
    verbose: bool,
) -> None:
    """Serve every function behind one front door at http://HOST:PORT/api (docs at /api/docs)."""
    import os

    _console_return_url(host, port, os.environ)
    cores = os.cpu_count() or 1
    if nginx or worker_port_base is not None:
        from local.cluster import ClusterError, run_cluster

        try:
            status = run_cluster(
                host,
                port,
                processes=processes or max(2, cores),
                threads=threads,
                functions=list(functions) or None,
                background=not no_jobs,
                port_base=worker_port_base,
                prepare_db=not no_migrate,
            )
        except ClusterError as error:
            _fail(str(error))
        sys.exit(status)
    from local.prefork import BindError
    from local.serve import serve as run

    try:
        status = run(
            host,
            port,
            processes=processes or cores,
            threads=threads,
            functions=list(functions) or None,
            background=not no_jobs,
            prepare_db=not no_migrate,
            show_banner=True,
            verbose=verbose,
        )
    except BindError as error:
        _fail(str(error))
    sys.exit(status)


@main.command()
def migrate() -> None:
    """Bring the schema to the latest migration."""
    from studyhub.migrations import runner as migrations

    migrations.upgrade()
    click.echo("database is up to date")


@main.command()
@click.option("--demo", is_flag=True, help="also load demo users and content")
def seed(demo: bool) -> None:
    """Load groups and areas (and demo data with --demo)."""
    from studyhub.core.db import session_scope
    from studyhub.domain.users.reference import seed_reference
    from studyhub.migrations import runner as migrations
    from studyhub.ops.seed import seed_demo

    migrations.upgrade()
    with session_scope() as session:
        result = seed_reference(session)
        if demo:
            result.update(seed_demo(session))
    click.echo(" ".join(f"{k}={v}" for k, v in result.items()))


@main.command()
@click.option("--batch-size", default=1000, show_default=True, type=int, help="topics per bulk request")
def reindex(batch_size: int) -> None:
    """Rebuild the topic search index from the database (a new index, then swapped in)."""
    import time

    from studyhub.clients.search import get_search
    from studyhub.core.errors import Unavailable
    from studyhub.domain.work.search_sync import RebuildRunning, rebuild

    bars: list[Any] = []  # click's ProgressBar, entered once the total is known

    def start(total: int) -> None:
        bars.append(
            click.progressbar(length=total, label="indexing topics", show_pos=True, file=sys.stderr).__enter__()
        )

    def advance(done: int) -> None:
        if bars:
            bars[0].update(done)

    started = time.perf_counter()
    try:
        count = rebuild(batch_size=max(1, batch_size), total_hint=start, progress=advance)
    except (RebuildRunning, Unavailable) as error:
        _fail(getattr(error, "detail", None) or str(error))
    finally:
        for bar in bars:
            bar.__exit__(None, None, None)
    elapsed = time.perf_counter() - started
    click.echo(f"indexed {count} topics into the {get_search().name} search index in {elapsed:.1f} s")


@main.command()
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--email", default="")
def createsuperuser(username: str, password: str, email: str) -> None:
    """Create a superuser."""
    from studyhub.core import errors
    from studyhub.core.db import session_scope
    from studyhub.domain.users.accounts import create_user

    try:  # create_user checks the name and the password (at least 8 characters) as the API does
        with session_scope() as session:
            user = create_user(session, username=username, password=password, email=email, is_superuser=True)
            user_id = user.id
    except errors.Invalid as error:
        _fail(error.errors and next(iter(error.errors.values()))[0] or error.detail)
    except errors.Unavailable as error:
        _fail(error.detail)
    click.echo(f"superuser {username} created (id {user_id})")


@main.command()
@click.argument("username")
def token(username: str) -> None:
    """Print a valid token for USERNAME."""
    from sqlalchemy import select

    from studyhub.core.db import session_scope
    from studyhub.core.errors import Unavailable
    from studyhub.core.security import issue_token
    from studyhub.core.usernames import canonical_username
    from studyhub.models.users import User

    try:
        with session_scope() as session:
            user = session.scalar(select(User).where(User.username_canonical == canonical_username(username.strip())))
            if user is None or not user.is_active:
                _fail(f"no active user named {username!r}")
            click.echo(issue_token(user))
    except Unavailable as error:
        _fail(error.detail)


@main.command("set-password")
@click.argument("username")
@click.option(
    "--password",
    prompt="New password",
    hide_input=True,
    confirmation_prompt=True,
    help="the new password (prompted for, hidden and confirmed, when absent)",
)
def set_password_command(username: str, password: str) -> None:
    """Set USERNAME's password (at least 8 characters); every token issued before stops working."""
    from sqlalchemy import select

    from studyhub.core import errors
    from studyhub.core.db import session_scope
    from studyhub.core.usernames import canonical_username
    from studyhub.domain.users.accounts import set_password
    from studyhub.models.users import User

    try:
        with session_scope() as session:
            user = session.scalar(select(User).where(User.username_canonical == canonical_username(username.strip())))
            if user is None:
                _fail(f"no user named {username!r}")
            set_password(user, password)
            user_id, active = user.id, user.is_active
    except errors.Invalid as error:
        _fail(error.errors and next(iter(error.errors.values()))[0] or error.detail)
    except errors.Unavailable as error:
        _fail(error.detail)
    click.echo(f"password of {username} set (id {user_id}); earlier tokens no longer work")
    if not active:
        click.echo('note: this user is deactivated; a superuser reactivates it with PATCH {"is_active": true}')


@main.command("captcha-answer")
@click.argument("uuid")
def captcha_answer(uuid: str) -> None:
    """Print the answer of the live captcha UUID (development, end-to-end tests).

    It reads the cache the server uses (REDIS_URL or the embedded cache under var/), so it works
    only where the server's settings are: nothing of it is reachable over HTTP. The captcha stays
    valid (single use, as always: the login that sends the answer uses it up)."""
    from studyhub.core.errors import Unavailable
    from studyhub.domain.users.login import captcha_answer as answer_of

    try:
        answer = answer_of(uuid)
    except Unavailable as error:
        _fail(error.detail)
    if answer is None:
        _fail(f"no live captcha {uuid!r} (unknown, already used, or older than CAPTCHA_EXPIRE_SECONDS)")
    click.echo(answer)


@main.command()
def cleanup() -> None:
    """Run the cleanup job once: expire unpaid orders (asking Alipay first), receive long-shipped
    orders, refund flagged payments."""
    from studyhub.core.errors import Unavailable
    from studyhub.domain.shopping.cleanup import run_cleanup

    try:
        result = run_cleanup()
    except Unavailable as error:
        _fail(error.detail)
    click.echo(
        f"cancelled {result['cancelled']} expired unpaid orders, received {result['received']} shipped orders, "
        f"refunded {result['refunded']} payments ({result['refunds_refused']} refused by Alipay, "
        f"{result['refunds_left']} left for the next run)"
    )


@main.command("nginx-config")
@click.option("--listen", default="8080", show_default=True)
@click.option(
    "--upstream",
    "upstreams",
    multiple=True,
    metavar="NAME=HOST:PORT[,HOST:PORT]",
    help="where each function runs (default: every function at 127.0.0.1:8000)",
)
@click.option(
    "--media-root",
    type=click.Path(file_okay=False),
    default=None,
    help="serve /api/media/ from this directory (file:// storage); default: proxied to a function",
)
@click.option("--uwsgi", is_flag=True, help="speak the uwsgi protocol to the upstreams (uwsgi_pass: uWSGI's socket)")
@click.option(
    "--static-root",
    type=click.Path(file_okay=False),
    default=None,
    is_flag=False,
    flag_value=str(CONSOLE_DIST),  # `--static-root` alone
    help="serve this frontend build (dist/) at /, unknown paths falling back to its index.html; /api stays proxied;"
    " alone: the console shipped in console/dist",
)
def nginx_config(
    listen: str, upstreams: tuple[str, ...], media_root: str | None, uwsgi: bool, static_root: str | None
) -> None:
    """Print an Nginx config generated from routes.yaml."""
    from local.nginx import render_config
    from studyhub.core.routing import load_routing

    routing = load_routing()
    servers: dict[str, list[str]] = {name: ["127.0.0.1:8000"] for name in routing.functions}
    for item in upstreams:
        name, _, addrs = item.partition("=")
        if name not in servers:
            _fail(f"unknown function {name!r}")
        servers[name] = addrs.split(",")
    from pathlib import Path

    try:
        text = render_config(
            servers,
            listen=listen,
            media_root=Path(media_root).resolve() if media_root else None,
            uwsgi=uwsgi,
            static_root=Path(static_root).resolve() if static_root else None,
        )
    except ValueError as error:
        _fail(str(error))
    click.echo(text)


@main.command()
@click.option("--write", is_flag=True, help="write it to the copy shipped with the layer (studyhub/data/openapi.json)")
@click.option(
    "--markdown",
    is_flag=True,
    help="print the Markdown reference (docs/reference.md) rendered from the copy shipped with the layer",
)
def openapi(write: bool, markdown: bool) -> None:
    """Print the OpenAPI 3.1 document of every route (routes.yaml and each function's contract).

    Regenerate both committed copies: studyhub openapi --write && studyhub openapi --markdown > docs/reference.md"""
    from local.openapi import COMMITTED, render

    if write:
        COMMITTED.write_text(render(), encoding="utf-8")
        click.echo(f"wrote {COMMITTED}", err=True)
    if markdown:
        from local.reference_docs import committed_document, render_markdown

        click.echo(render_markdown(committed_document()), nl=False)
    elif not write:
        click.echo(render(), nl=False)


@main.command()
@click.option("--concurrency", "-c", type=int, default=None, help="worker processes (default: CPU count)")
@click.option("--loglevel", "-l", default="INFO", show_default=True)
@click.option("--beat", "-B", is_flag=True, help="also run the scheduler in this worker")
def worker(concurrency: int | None, loglevel: str, beat: bool) -> None:
    """Run a job worker (celery -A jobs worker), on CELERY_BROKER_URL or the embedded queue."""
    from jobs.celery_app import get_celery
    from jobs.runtime import worker_args

    get_celery().worker_main(worker_args(concurrency=concurrency, loglevel=loglevel, beat=beat))


@main.command()
@click.option("--loglevel", "-l", default="INFO", show_default=True)
def beat(loglevel: str) -> None:
    """Run the scheduler: the jobs of routes.yaml `jobs:` (celery -A jobs beat)."""
    from jobs.celery_app import get_celery
    from jobs.runtime import beat_args

    get_celery().start(beat_args(loglevel=loglevel))


if __name__ == "__main__":
    main()
