"""The WSGI ``application`` for an external server: uWSGI, gunicorn, mod_wsgi, ...

It is the front door ``studyhub serve`` runs (``local/frontdoor.py``): every function under
``/api`` (and without it, as Nginx forwards), media under ``/api/media/``, the contract's JSON
for every error. Only the serving is here; what ``studyhub serve`` does besides is left to its
own commands, run once per deployment or as their own services:

- the schema: ``studyhub migrate`` (and ``studyhub seed`` for groups and areas) before the
  workers start; the application never migrates, so N workers never race on the schema;
- the jobs: ``studyhub worker`` and ``studyhub beat`` (on ``CELERY_BROKER_URL``, or the embedded
  queue under ``var/``); without a worker, emails and index updates wait in the queue.

Settings come from the environment as everywhere (``DATABASE_URL``, ``REDIS_URL``, ...; see the
README). Importing this module opens no database, cache or broker connection: each is created
on first use, in the process that uses it. A server that forks after importing (uWSGI without
``lazy-apps``, gunicorn with ``preload_app``) therefore hands its workers no shared socket; the
examples load the application in each worker anyway (``infra/uwsgi/uwsgi.ini``,
``infra/gunicorn/gunicorn.conf.py``).

    uwsgi --ini infra/uwsgi/uwsgi.ini                  # module = local.wsgi:application
    gunicorn -c infra/gunicorn/gunicorn.conf.py        # wsgi_app = "local.wsgi:application"

``STUDYHUB_FUNCTIONS`` (comma-separated names from routes.yaml) serves only those functions,
like ``studyhub serve --function``; unset: all of them.
"""

from __future__ import annotations

import os

from studyhub.core.logs import setup_logging

from .frontdoor import FrontDoor


def create_application() -> FrontDoor:
    setup_logging()
    from studyhub.core.routing import load_routing

    names = [name.strip() for name in os.environ.get("STUDYHUB_FUNCTIONS", "").split(",") if name.strip()]
    unknown = sorted(set(names) - set(load_routing().functions))
    if unknown:
        raise ValueError(f"STUDYHUB_FUNCTIONS names no function of routes.yaml: {', '.join(unknown)}")
    return FrontDoor(names or None)


application = create_application()
