"""The console's client-side routes never begin with an API word (issue 16): the front door takes
API paths without ``/api`` too, so a console page at ``/users/...`` could never be reloaded.
The words come from ``local/console.py``'s ``api_segments`` (routes.yaml), the one rule the
front door itself follows; the routes are read from every ``console/src/routes/*.ts``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from local.console import ConsoleFiles, api_segments
from studyhub.core.routing import load_routing

ROUTE_FILES = sorted((Path(__file__).resolve().parents[2] / "console" / "src" / "routes").glob("*.ts"))
PATH = re.compile(r"""\bpath:\s*(['"`])(/[^'"`]*)\1""")


def console_paths() -> list[tuple[str, str]]:
    return [(file.name, match.group(2)) for file in ROUTE_FILES for match in PATH.finditer(file.read_text("utf-8"))]


def test_the_route_files_are_read():
    paths = {path for _file, path in console_paths()}
    assert {"/login", "/", "/profile", "/addresses"} <= paths, paths  # the reader finds what is there


@pytest.mark.parametrize("name,path", console_paths())
def test_no_console_route_begins_with_an_api_word(name, path):
    reserved = api_segments(load_routing())
    first = path.lstrip("/").split("/", 1)[0].split("?")[0]
    assert first not in reserved, f"{name}: {path} begins with {first!r}, an API word: {sorted(reserved)}"
    # and the front door agrees: a browser reloading that page gets the console
    concrete = re.sub(r":[A-Za-z_]+(\([^)]*\))?[*+?]?", "1", path)
    assert ConsoleFiles(Path("/nonexistent"), reserved).owns("GET", concrete, "text/html,*/*")


def test_the_api_words_cover_every_group_and_the_front_doors_own():
    reserved = api_segments(load_routing())
    assert {"users", "school", "work", "community", "shopping", "media", "health", "docs", "api"} <= reserved
