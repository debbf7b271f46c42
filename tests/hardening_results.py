"""Figures of the hardening suites (fuzz, faults, resources) in ``bench/results/hardening.json``,
one key per suite: read, merged, written back under a lock (several suites and processes write it)."""

from __future__ import annotations

import fcntl
import json
import tempfile
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parents[1] / "bench" / "results" / "hardening.json"
LOCK = Path(tempfile.gettempdir()) / "studyhub-hardening-results.lock"


def record(key: str, figures: dict[str, Any], *, results: Path = RESULTS) -> None:
    results.parent.mkdir(parents=True, exist_ok=True)
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            data = json.loads(results.read_text())
        except (FileNotFoundError, ValueError):
            data = {}
        data[key] = {**data.get(key, {}), **figures}
        results.write_text(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
