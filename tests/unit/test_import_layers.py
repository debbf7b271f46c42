"""Every import in our own code points down the layers, and no import goes in a circle.

The walk reads the source with ``ast`` (nothing is imported) and sees every way one of our modules
reaches another: ``import``/``from ... import`` at module level or inside a function, ``from pkg
import submodule``, relative imports, ``importlib.import_module(...)``/``__import__(...)``, and
strings that name a module (``"pkg.module"``, ``"pkg.module:attr"``, an f-string ``f"{__name__}.{x}"``
that picks a submodule). An import call whose target it cannot read must be declared in
``DYNAMIC_IMPORTS`` below, so nothing reaches another module unseen.

Imports under ``if TYPE_CHECKING:`` obey the same arrows but are left out of the cycle check: they
never run, so a back-reference needed only for a type annotation can't deadlock an import.
"""

from __future__ import annotations

import ast
import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# --- the rules ---------------------------------------------------------------------------------
# A module belongs to one unit (see unit_of); a unit may import itself and what its row lists.
SHARED_DOMAIN = ("studyhub.domain", "studyhub.domain.access", "studyhub.domain.schema", "studyhub.domain.images")
# A group's module other groups may use: creating and rendering a user (school's students, community's authors),
# the rendered user's shape (users.schemas.UserPublic, in the OpenAPI document; users.user_reads.render_user,
# the JSON a class's members are rendered with on Core), and the username rules
# (users.usernames: one canonical form, one set of rules for every way an account is created).
SHARED_GROUP_MODULES = (
    "studyhub.domain.users.accounts",
    "studyhub.domain.users.schemas",
    "studyhub.domain.users.user_reads",
    "studyhub.domain.users.usernames",
)
LAYER_BELOW_OPS = ("core", "tables", "models", "migrations", "clients", "http", "domain", "domain.*")
ALLOWED: dict[str, tuple[str, ...]] = {
    # unit             may import
    "core": (),
    "tables": ("core",),  # Core tables, read without the ORM; the models map them
    "models": ("core", "tables"),
    "migrations": ("core", "tables", "models"),
    "clients": ("core",),
    "http": ("core", "tables", "models", "clients"),
    "domain": ("core", "tables", "models", "clients"),  # domain.access, .schema, .images: shared by every group
    "domain.*": ("core", "tables", "models", "clients", "domain", *SHARED_GROUP_MODULES),  # + its own group
    "ops": (*LAYER_BELOW_OPS, "jobs", "local"),  # on top: nothing imports ops
    "jobs": ("core", "tables", "models", "clients", "domain", "domain.*"),
    "functions.*": ("core", "tables", "models", "clients", "http", "domain", "domain.*"),  # not another function
    "local": ("functions.*", "jobs", *LAYER_BELOW_OPS),
    "studyhub": (),  # the package's __init__: a docstring, so importing any module stays cheap
}

# Import calls whose target the walk can't read from the source: where they go, and why.
DYNAMIC_IMPORTS: dict[str, tuple[str, ...]] = {
    # load_app(name) imports functions/<name>/app.py by file path (spec_from_file_location)
    "local.loader": ("functions.*.app",),
    # load_all() imports f"{__name__}.{group}" for every group's models module
    "studyhub.models": ("studyhub.models.*",),
    # lazy_module(name) / lazy_function(name, attr) import the module their caller names: the
    # walk reads that name at the call site (a literal, checked like any import there)
    "studyhub.core.lazy": (),
    # preload() imports the names of its REQUEST_PATH_MODULES: strings, read as edges like the above
    "studyhub.http.snapstart": (),
    # resolve_schema() imports the schema modules a function's app.py names (StudyHubApp.schemas:
    # literals there, checked as that function's edges) and SHARED_SCHEMAS (strings, read as edges)
    "studyhub.http.routedoc": (),
}
IMPORT_CALLS = {"import_module", "__import__", "spec_from_file_location", "lazy_module", "lazy_function"}


def unit_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "functions":
        return f"functions.{parts[1]}"
    if parts[0] in ("jobs", "local"):
        return parts[0]
    if module in ("studyhub", "studyhub.__main__"):
        return "ops" if module.endswith("__main__") else "studyhub"
    if module in SHARED_DOMAIN:
        return "domain"
    if parts[1] == "domain":
        return f"domain.{parts[2]}"
    return parts[1]


def rule_for(unit: str) -> tuple[str, ...]:
    for pattern in (unit, unit.rsplit(".", 1)[0] + ".*"):
        if pattern in ALLOWED:
            return ALLOWED[pattern]
    raise AssertionError(f"no rule for unit {unit!r}: add a row to ALLOWED")


def may_import(importer: str, target: str) -> bool:
    source, dest = unit_of(importer), unit_of(target)
    if dest == "studyhub":  # the root package runs before any studyhub module anyway
        return True
    allowed = rule_for(source)
    return source == dest or target in allowed or dest in allowed or (dest.rsplit(".", 1)[0] + ".*") in allowed


# --- the walk ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Edge:
    importer: str
    target: str
    line: int
    typing_only: bool


def our_modules(root: Path) -> dict[str, Path]:
    """Module name -> file for the layer, jobs, local and every function's app.py under root."""
    modules: dict[str, Path] = {}
    for base, top in ((root / "layers/common", "studyhub"), (root, "jobs"), (root, "local")):
        for path in sorted((base / top).rglob("*.py")):
            parts = list(path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    for app in sorted(root.glob("functions/*/app.py")):
        modules[f"functions.{app.parent.name}.app"] = app
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _typing_only_nodes(tree: ast.AST) -> set[int]:
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            hidden.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    return hidden


def _docstrings(tree: ast.AST) -> set[int]:
    return {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }


class _Walker:
    def __init__(self, module: str, is_package: bool, known: dict[str, Path]) -> None:
        self.module, self.known = module, known
        self.package = module if is_package else module.rpartition(".")[0]

    def resolve(self, name: str) -> list[str]:
        """Our module a dotted name (or ``pkg.*``) refers to: the longest known prefix."""
        if "*" in name:
            return fnmatch.filter(self.known, name)
        parts = name.split(".")
        for end in range(len(parts), 0, -1):
            if ".".join(parts[:end]) in self.known:
                return [".".join(parts[:end])]
        return []

    def from_import(self, node: ast.ImportFrom) -> Iterator[str]:
        base = node.module or ""
        if node.level:
            anchor = self.package.split(".")[: len(self.package.split(".")) - node.level + 1]
            base = ".".join([*anchor, base] if base else anchor)
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            yield from self.resolve(submodule) if submodule in self.known else self.resolve(base)

    def fstring_prefix(self, node: ast.JoinedStr) -> str | None:
        text = ""
        for value in node.values:
            if isinstance(value, ast.Constant):
                text += str(value.value)
            elif isinstance(value.value, ast.Name) and value.value.id in ("__name__", "__package__"):
                text += self.module if value.value.id == "__name__" else self.package
            else:
                return text if text.endswith(".") else None
        return text

    def strings(self, node: ast.AST) -> Iterator[str]:
        """A string that names one of our modules: "pkg.mod", "pkg.mod:attr", f"{__name__}.{x}"."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            name, colon, attr = node.value.partition(":")
            # A bare word ("jobs", "studyhub") is a logger name or a YAML key, not an import target.
            if name in self.known and ("." in name if not colon else attr.isidentifier()):
                yield name
        elif isinstance(node, ast.JoinedStr):
            prefix = self.fstring_prefix(node)
            if prefix and prefix.endswith(".") and prefix[:-1] in self.known:
                yield from self.resolve(prefix + "*")

    def edges(self, tree: ast.AST) -> Iterator[Edge]:
        typing_only, docstrings = _typing_only_nodes(tree), _docstrings(tree)
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [t for alias in node.names for t in self.resolve(alias.name)]
            elif isinstance(node, ast.ImportFrom):
                targets = list(self.from_import(node))
            elif isinstance(node, ast.Constant | ast.JoinedStr) and id(node) not in docstrings:
                targets = list(self.strings(node))
            elif isinstance(node, ast.Call) and self.unreadable_import_call(node):
                declared = DYNAMIC_IMPORTS.get(self.module)
                assert declared is not None, (
                    f"{self.module}:{node.lineno}: an import whose target can't be read; declare it"
                )
                targets = [t for name in declared for t in self.resolve(name)]
            for target in targets:
                if target != self.module:
                    yield Edge(self.module, target, getattr(node, "lineno", 0), id(node) in typing_only)

    @staticmethod
    def unreadable_import_call(node: ast.Call) -> bool:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name == "spec_from_file_location":  # the module comes from a file path: never readable
            return True
        return name in IMPORT_CALLS and bool(node.args) and not isinstance(node.args[0], ast.Constant | ast.JoinedStr)


def import_edges(root: Path) -> list[Edge]:
    known = our_modules(root)
    edges: list[Edge] = []
    for module, path in known.items():
        walker = _Walker(module, path.name == "__init__.py", known)
        edges.extend(walker.edges(ast.parse(path.read_text(), str(path))))
    return list(dict.fromkeys(edges))


# --- the checks --------------------------------------------------------------------------------
def upward_edges(edges: list[Edge]) -> list[str]:
    return sorted(
        f"{e.importer}:{e.line} imports {e.target} ({unit_of(e.importer)} -> {unit_of(e.target)})"
        for e in edges
        if not may_import(e.importer, e.target)
    )


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def cycles(edges: list[Edge]) -> list[str]:
    """Cycles between modules, and between units (groups, layers), among imports that run."""
    modules: dict[str, set[str]] = {}
    units: dict[str, set[str]] = {}
    for e in edges:
        if e.typing_only:
            continue
        modules.setdefault(e.importer, set()).add(e.target)
        if unit_of(e.importer) != unit_of(e.target):
            units.setdefault(unit_of(e.importer), set()).add(unit_of(e.target))
    return sorted(f"modules: {' <-> '.join(c)}" for c in _cycles(modules)) + sorted(
        f"units: {' <-> '.join(c)}" for c in _cycles(units)
    )


# --- the tests ---------------------------------------------------------------------------------
def test_every_import_points_down_the_layers():
    edges = import_edges(ROOT)
    assert len(edges) > 300, "the walk found too few imports: is it still reading the right folders?"
    assert upward_edges(edges) == []


def test_no_import_goes_in_a_circle():
    assert cycles(import_edges(ROOT)) == []


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_checker_reports_upward_imports_and_cycles(tmp_path):
    layer = "layers/common/studyhub"
    _write(
        tmp_path,
        {
            f"{layer}/__init__.py": "",
            f"{layer}/core/__init__.py": "",
            f"{layer}/core/config.py": "def load():\n    from studyhub.http import binder\n",  # lazy, upward
            f"{layer}/http/__init__.py": "",
            f"{layer}/http/binder.py": "import studyhub.core.config\n",
            f"{layer}/domain/__init__.py": "",
            f"{layer}/domain/users/__init__.py": "",
            f"{layer}/domain/users/accounts.py": "import importlib\nimportlib.import_module('studyhub.domain.work.topics')\n",
            f"{layer}/domain/work/__init__.py": "",
            f"{layer}/domain/work/topics.py": "from ..users import accounts\n",
            f"{layer}/clients/__init__.py": "",
            f"{layer}/clients/queue.py": "TRANSPORT = 'jobs.runtime:Transport'\n",
            f"{layer}/clients/cache.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from studyhub.http import binder\n",
            "jobs/__init__.py": "",
            "jobs/runtime.py": "from studyhub.clients import queue\n",
            "local/__init__.py": "",
            f"{layer}/ops/__init__.py": "",
            f"{layer}/ops/cli.py": "from local import serve\n",
            "local/serve.py": "import studyhub.core.config\n",
            "functions/users/app.py": "from studyhub.ops import cli\n",  # nothing imports ops
        },
    )
    edges = import_edges(tmp_path)
    assert upward_edges(edges) == [
        "functions.users.app:1 imports studyhub.ops.cli (functions.users -> ops)",
        "studyhub.clients.cache:3 imports studyhub.http.binder (clients -> http)",
        "studyhub.clients.queue:1 imports jobs.runtime (clients -> jobs)",
        "studyhub.core.config:2 imports studyhub.http.binder (core -> http)",
        "studyhub.domain.users.accounts:2 imports studyhub.domain.work.topics (domain.users -> domain.work)",
    ]
    assert cycles(edges) == [
        "modules: jobs.runtime <-> studyhub.clients.queue",
        "modules: studyhub.core.config <-> studyhub.http.binder",
        "modules: studyhub.domain.users.accounts <-> studyhub.domain.work.topics",
        "units: clients <-> jobs",
        "units: core <-> http",
        "units: domain.users <-> domain.work",
    ]
