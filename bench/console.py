"""How heavy the web console is and how fast its login page opens on a school's slow network.

1. The bundle, read from ``console/dist``: every file's size raw and gzip-compressed (level 9,
   what the front door sends), and the first load of the login page: ``index.html``, what it
   links, and the login page's own chunks (the files the browser really fetched, see 2).
2. A real ``studyhub serve`` (embedded stack, private var dir, no jobs) and Debian's headless
   chromium through Playwright: ``/login`` opened with an empty cache under each network profile
   (Chrome DevTools' presets through CDP ``Network.emulateNetworkConditions``: "Fast 3G" 562.5 ms
   latency, 1.44 Mbit/s down; "Slow 3G" 2,000 ms latency, 400 kbit/s down; and no throttling),
   timed until the form and its captcha image are shown, then once more with the cache warm
   (hashed assets are immutable: only ``index.html`` and the API travel again). The median of
   ``--runs`` is kept; bytes are what crossed the wire (``encodedDataLength``).

    python bench/console.py [--runs 3] [--no-write]

Writes ``bench/results/console.json`` and prints a summary. It is not a test: run it when asked.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "console" / "dist"
RESULTS = ROOT / "bench" / "results" / "console.json"
CHROMIUM = "/usr/bin/chromium"
KBIT = 1000 / 8  # bytes per second in one kbit/s
# Chrome DevTools' presets (front_end/core/sdk/NetworkManager.ts): throughput in bytes/s, latency in ms
PROFILES: dict[str, dict[str, float] | None] = {
    "none": None,
    "fast_3g": {"latency": 150 * 3.75, "downloadThroughput": 1600 * KBIT * 0.9, "uploadThroughput": 750 * KBIT * 0.9},
    "slow_3g": {"latency": 400 * 5, "downloadThroughput": 500 * KBIT * 0.8, "uploadThroughput": 500 * KBIT * 0.8},
}


def bundle() -> dict[str, Any]:
    files = {}
    for path in sorted(DIST.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            files[str(path.relative_to(DIST))] = {"bytes": len(data), "gzip": len(gzip.compress(data, 9, mtime=0))}
    total = sum(f["bytes"] for f in files.values())
    total_gzip = sum(f["gzip"] for f in files.values())
    return {"files": files, "total_bytes": total, "total_gzip": total_gzip}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(base: Path) -> tuple[subprocess.Popen, str]:
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")},
        "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "common"), str(ROOT)]),
        "STUDYHUB_VAR_DIR": str(base / "var"),
        "JWT_SECRET": "bench-console-" + uuid.uuid4().hex * 2,
        "RATE_LIMIT_CAPTCHA": "100000/minute",
        "LOG_LEVEL": "WARNING",
    }
    port = free_port()
    out = (base / "serve.out").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "studyhub.ops.cli", "serve", "--no-jobs", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=base,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    import httpx

    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"studyhub serve exited: see {base / 'serve.out'}")
        try:
            if httpx.get(f"{url}/api/users/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("studyhub serve did not start")
        time.sleep(0.3)


def open_login(context, url: str, conditions: dict[str, float] | None) -> dict[str, Any]:
    """Open /login in this context; the time until the form and the captcha image are shown."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    if conditions:
        cdp.send("Network.emulateNetworkConditions", {"offline": False, **conditions})
    sizes: dict[str, int] = {}
    urls: dict[str, str] = {}
    cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], int(e["encodedDataLength"])))
    started = time.perf_counter()
    page.goto(f"{url}/login", wait_until="commit", timeout=120_000)
    page.get_by_role("button", name="登录").wait_for(timeout=120_000)
    form_ms = (time.perf_counter() - started) * 1000
    image = page.get_by_test_id("captcha-image")
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=120_000)
    captcha_ms = (time.perf_counter() - started) * 1000
    page.wait_for_timeout(200)  # the last loadingFinished events
    fetched = {urls.get(rid, rid): size for rid, size in sizes.items()}
    page.close()
    return {
        "form_ms": round(form_ms),
        "with_captcha_ms": round(captcha_ms),
        "bytes": sum(fetched.values()),
        "files": fetched,
    }


def measure(url: str, runs: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    out: dict[str, Any] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        try:
            for name, conditions in PROFILES.items():
                cold, warm = [], []
                for _ in range(runs):
                    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
                    cold.append(open_login(context, url, conditions))
                    warm.append(open_login(context, url, conditions))  # same context: its cache
                    context.close()
                out[name] = {
                    "conditions": conditions,
                    "cold_form_ms": statistics.median(r["form_ms"] for r in cold),
                    "cold_with_captcha_ms": statistics.median(r["with_captcha_ms"] for r in cold),
                    "cold_bytes": statistics.median(r["bytes"] for r in cold),
                    "warm_form_ms": statistics.median(r["form_ms"] for r in warm),
                    "warm_bytes": statistics.median(r["bytes"] for r in warm),
                    "cold_files": cold[0]["files"],
                }
        finally:
            browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if not (DIST / "index.html").is_file():
        raise SystemExit("console/dist is missing: cd console && npm ci && npm run build")
    sizes = bundle()
    with tempfile.TemporaryDirectory(prefix="bench-console-") as tmp:
        proc, url = serve(Path(tmp))
        try:
            network = measure(url, args.runs)
        finally:
            proc.terminate()
            proc.wait(timeout=15)
    first_load = {
        re.sub(r"^https?://[^/]+", "", name): size
        for name, size in network["none"]["cold_files"].items()
        if "/api/" not in name
    }
    # the document is index.html; every other file is the dist file of that path
    first_load_gzip = sum(
        sizes["files"]["index.html" if path == "/login" else path.lstrip("/")]["gzip"]
        for path in first_load
        if path == "/login" or path.lstrip("/") in sizes["files"]
    )
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "bundle": {k: v for k, v in sizes.items() if k != "files"},
        "files": sizes["files"],
        "first_load_files": sorted(first_load),
        "first_load_gzip_bytes": first_load_gzip,
        "network": network,
        "runs": args.runs,
    }
    print(f"bundle: {sizes['total_bytes']:,} bytes, {sizes['total_gzip']:,} gzip, {len(sizes['files'])} files")
    print(f"login page first load: {len(first_load)} files, {first_load_gzip:,} bytes gzip")
    for name, row in network.items():
        print(
            f"{name:8} cold: form {row['cold_form_ms']:>6} ms, with captcha {row['cold_with_captcha_ms']:>6} ms, "
            f"{row['cold_bytes']:,} bytes; warm: {row['warm_form_ms']} ms, {row['warm_bytes']:,} bytes"
        )
    if not args.no_write:
        RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
