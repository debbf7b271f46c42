"""Resource test for decompression bombs (issue 11 #6, API.md §1 Limits on input): 8 parallel uploads
of a ~300 KB PNG declaring 6300 × 6300 16-bit RGBA to a real ``studyhub serve`` keep the server's
RSS growth under +200 MB (it was +911 MB), each answered 400, nothing stored. The figures go to
``bench/results/hardening.json`` (key ``image_bombs``)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from conftest import report
from hardening_results import record
from image_bombs import bomb
from served import served

pytestmark = pytest.mark.slow

PARALLEL = 8
MAX_GROWTH_MB = 200


def status_kb(pid: int, field: str) -> int:
    """``VmRSS``/``VmHWM`` of a process, in KiB, from /proc/<pid>/status."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"{field} not in /proc/{pid}/status")


def reset_peak(pid: int) -> bool:
    """Start VmHWM again from the current RSS (Linux >= 4.0), so the peak is this test's own."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


class RssSampler(threading.Thread):
    """The highest VmRSS seen every 5 ms: the peak even where VmHWM can't be reset."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self.done = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak_kb = max(self.peak_kb, status_kb(self.pid, "VmRSS"))
            time.sleep(0.005)


def test_eight_parallel_decompression_bombs_cost_the_server_under_200_mb(tmp_path):
    data = bomb()
    with served(tmp_path) as server:
        token = server.superuser_token()
        with httpx.Client(base_url=server.url, timeout=60, headers={"Authorization": f"Bearer {token}"}) as http:
            me = http.get("/api/users/users?search=root").json()["results"][0]
            avatar = f"/api/users/users/{me['id']}/avatar"

            def upload(payload: bytes) -> httpx.Response:
                return http.post(avatar, files={"file": ("bomb.png", payload, "image/png")})

            # warm up: Pillow, the multipart parser and the storage are loaded, one real avatar stored
            from io import BytesIO

            from PIL import Image

            small = BytesIO()
            Image.new("RGB", (64, 64), "red").save(small, format="PNG")
            assert upload(small.getvalue()).status_code == 200
            stored_before = sorted(p for p in server.media.rglob("*") if p.is_file())
            avatar_before = http.get(f"/api/users/users/{me['id']}").json()["avatar"]

            rss_before_kb = status_kb(server.pid, "VmRSS")
            peak_was_reset = reset_peak(server.pid)
            sampler = RssSampler(server.pid)
            sampler.start()
            started = time.perf_counter()
            with ThreadPoolExecutor(PARALLEL) as pool:
                responses = list(pool.map(upload, [data] * PARALLEL))
            elapsed = time.perf_counter() - started
            sampler.done.set()
            sampler.join()
            hwm_kb = status_kb(server.pid, "VmHWM")
            rss_after_kb = status_kb(server.pid, "VmRSS")

            assert [r.status_code for r in responses] == [400] * PARALLEL, [r.text for r in responses]
            assert {r.json()["code"] for r in responses} == {"image_too_large"}
            assert sorted(p for p in server.media.rglob("*") if p.is_file()) == stored_before
            assert http.get(f"/api/users/users/{me['id']}").json()["avatar"] == avatar_before

    peak_kb = max(sampler.peak_kb, hwm_kb if peak_was_reset else 0)
    growth_mb = round((peak_kb - rss_before_kb) / 1024, 1)
    figures = {
        "parallel_uploads": PARALLEL,
        "file_kb": round(len(data) / 1024, 1),
        "declared": "6300x6300 16-bit RGBA",
        "answers": sorted({r.status_code for r in responses}),
        "rss_before_mb": round(rss_before_kb / 1024, 1),
        "rss_peak_mb": round(peak_kb / 1024, 1),
        "rss_after_mb": round(rss_after_kb / 1024, 1),
        "rss_growth_mb": growth_mb,
        "rss_growth_limit_mb": MAX_GROWTH_MB,
        "peak_from": "VmHWM (reset before) and VmRSS sampled every 5 ms" if peak_was_reset else "VmRSS sampled",
        "elapsed_s": round(elapsed, 2),
        "files_stored": 0,
    }
    record("image_bombs", figures)
    report(f"image bombs: {PARALLEL} x {figures['file_kb']} KB in parallel -> all 400, RSS +{growth_mb} MB")
    assert growth_mb < MAX_GROWTH_MB, figures
