"""routes.yaml: which function serves which paths, and the scheduled jobs.

Read by every front door (the local runtime, the Nginx config, the AWS templates), the beat
schedule and the OpenAPI document. It lives at the repository's root; a Lambda package has none
(``load_routing`` then raises ``FileNotFoundError``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]  # layers/common/studyhub/core/ -> the repository
ROUTES_FILE = ROOT / "routes.yaml"
FUNCTIONS_DIR = ROOT / "functions"


@dataclass(frozen=True)
class Function:
    name: str
    prefix: str
    routes: tuple[tuple[str, tuple[str, ...]], ...]  # (path, methods)

    @property
    def directory(self) -> Path:
        return FUNCTIONS_DIR / self.name


@dataclass(frozen=True)
class Job:
    name: str
    task: str
    rate: str  # "5 minutes", "1 hour", "1 day"

    @property
    def seconds(self) -> int:
        amount, unit = self.rate.split()
        factor = {"minute": 60, "hour": 3600, "day": 86400, "second": 1}[unit.rstrip("s")]
        return int(amount) * factor


@dataclass(frozen=True)
class Routing:
    prefix: str
    functions: dict[str, Function]
    jobs: tuple[Job, ...]


@lru_cache(maxsize=1)
def load_routing(path: str = str(ROUTES_FILE)) -> Routing:
    import yaml

    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    functions = {
        name: Function(
            name=name,
            prefix=spec["prefix"],
            routes=tuple((r["path"], tuple(m.upper() for m in r["methods"])) for r in spec["routes"]),
        )
        for name, spec in (data.get("functions") or {}).items()
    }
    jobs = tuple(Job(name=j["name"], task=j["task"], rate=j["rate"]) for j in data.get("jobs") or [])
    return Routing(prefix=data.get("prefix", "/api"), functions=functions, jobs=jobs)
