"""Lambda SnapStart: what the snapshot holds, and what each restored copy redoes.

With SnapStart (``SnapStart: ApplyOn: PublishedVersions``, infra/aws/package.py) Lambda runs a
function's init once when a version is published, snapshots the memory and starts every later
execution environment from that snapshot. So:

- **before the snapshot** everything a first request would import is imported (the route modules
  ``lazy_module`` defers, the ORM with its mappers configured, the drivers, the request models'
  validators built): a restored copy answers without importing anything. Then every client is
  dropped (the database engine disposed, the cache, search, storage and queue clients forgotten):
  no socket is kept across the snapshot, a restored copy opens its own. Init opens none anyway;
  this makes sure of it. Last, ``gc.freeze()``: what was loaded is never walked again.
- **after a restore** the ``random`` module is re-seeded from the OS: every copy would otherwise
  draw the same sequence (tokens, ids and secrets come from ``secrets``/``os.urandom``, which
  the snapshot cannot repeat).

The hooks are registered through ``snapshot_restore_py`` (part of Lambda's managed Python
runtimes) only when Lambda initialises for a snapshot (``AWS_LAMBDA_INITIALIZATION_TYPE`` is
``snap-start``): elsewhere nothing is imported and nothing changes.
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
import random
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from studyhub.http.app import StudyHubApp

log = logging.getLogger("studyhub.snapstart")

# Imported inside functions on a request's path (the binder, Req, the clients): loaded for the snapshot.
REQUEST_PATH_MODULES = (
    "studyhub.core.db",
    "studyhub.core.deadline",
    "studyhub.core.security",
    "studyhub.http.auth",
    "studyhub.http.client_address",
    "studyhub.http.text_input",
    "studyhub.http.uploads",
    "studyhub.clients.cache",
    "studyhub.clients.token_denylist",
    "sqlalchemy.orm",
    "sqlalchemy.dialects.mysql.pymysql",
    "sqlalchemy.dialects.sqlite.pysqlite",
    "pymysql",
    "jwt",
)


def install(app: StudyHubApp) -> bool:
    """Register the hooks when Lambda initialises this function for a snapshot; whether it did."""
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") != "snap-start":
        return False
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:  # a runtime without the library: plain on-demand starts
        log.warning("SnapStart init without snapshot_restore_py: no runtime hooks")
        return False
    register_before_snapshot(before_snapshot, app)
    register_after_restore(after_restore)
    return True


def before_snapshot(app: StudyHubApp) -> None:
    preload(app)
    close_clients()
    gc.collect()  # the clients just dropped close their sockets now, not in a restored copy
    gc.freeze()


def after_restore() -> None:
    random.seed()  # from os.urandom: each restored copy draws its own sequence


def preload(app: StudyHubApp) -> list[str]:
    """Import what the function's routes import on first use; build their request models."""
    from studyhub.core.lazy import import_declared

    loaded = import_declared()
    for name in REQUEST_PATH_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:  # a driver this deployment doesn't ship: its first use says so
            continue
        loaded.append(name)
    from sqlalchemy.orm import configure_mappers

    from studyhub import models

    models.load_all()
    configure_mappers()
    for model in request_models(app):
        model.model_rebuild()  # defer_build: the validator is built now instead of on first use
    return loaded


def request_models(app: StudyHubApp) -> list[Any]:
    """The pydantic models a route validates requests with (bodies, forms, query filters), the
    names its declaration gives resolved as the OpenAPI generator resolves them."""
    from pydantic import BaseModel

    from studyhub.http.routedoc import resolve_doc, schema_modules

    modules = schema_modules(app)
    found: dict[str, Any] = {}
    for operation in app.openapi_operations:
        doc = resolve_doc(operation.doc, modules, where=f"{operation.path} ({operation.view})")
        for value in (doc.body, doc.form, doc.query):
            for candidate in value.values() if isinstance(value, dict) else [value]:
                if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                    found[f"{candidate.__module__}.{candidate.__qualname__}"] = candidate
    return list(found.values())


def close_clients() -> None:
    """Forget every client that may hold a connection (the next use builds a new one)."""
    from studyhub.clients import cache, queue, search, storage
    from studyhub.core import db

    for client in (db, cache, search, storage, queue):
        client.reset()
