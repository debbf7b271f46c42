"""CORS in a real browser (issue 12): headless Chromium (Debian's ``chromium``, driven by
Playwright from PyPI; ``scripts/test.sh`` installs both, never ``playwright install``) opens a
page served from another local origin. From the allowed origin the page loads the captcha, logs in
(the answer from ``studyhub captcha-answer``, as a developer would get it) and calls an
authenticated route with ``fetch``; from an origin ``CORS_ALLOW_ORIGINS`` leaves out, the browser
blocks the same calls. A screenshot of the page is kept under ``var/artifacts/`` for CI.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import free_port, report
from served import served

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "var" / "artifacts"
PASSWORD = "browser-Passw0rd-1"

# The frontend: plain fetch calls, as a Vue/React dev server's page would make them.
PAGE = b"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>StudyHub CORS</title></head>
<body>
<h1>StudyHub from another origin</h1>
<img id="captcha" alt="captcha">
<pre id="log"></pre>
<script>
const log = (line) => { document.getElementById("log").textContent += line + "\\n"; };
window.loadCaptcha = (api, key) => new Promise((resolve, reject) => {
  const img = document.getElementById("captcha");
  img.onload = () => resolve(img.naturalWidth);
  img.onerror = () => reject(new Error("captcha did not load"));
  img.src = `${api}/api/users/image/verification/${key}`;
});
window.loginAndCall = async (api, username, password, key, verify) => {
  try {
    const login = await fetch(`${api}/api/users/login`, {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({username, password, uuid: key, verify}),
    });
    const session = await login.json();
    log(`login ${login.status} as ${session.username}`);
    const me = await fetch(`${api}/api/users/users/${session.id}`, {
      headers: {"Authorization": `Bearer ${session.token}`},
    });
    const user = await me.json();
    log(`GET /api/users/users/${session.id} ${me.status}: ${user.username}`);
    return {login: login.status, status: me.status, user, requestId: me.headers.get("X-Request-Id")};
  } catch (error) {
    log(`blocked: ${error}`);
    return {blocked: String(error)};
  }
};
window.readPublic = async (api) => {
  try {
    const response = await fetch(`${api}/api/users/area`);
    return {status: response.status};
  } catch (error) {
    return {blocked: String(error)};
  }
};
</script>
</body></html>
"""


class _PageHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def page_server() -> Iterator[str]:
    """The frontend's origin: a tiny http.server on its own port."""
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _PageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# `browser`: the one chromium of the session (tests/console_fixtures.py): Playwright's sync API
# runs one instance per process, so every browser test shares it.


@pytest.mark.timeout(120)
def test_a_page_from_an_allowed_origin_logs_in_and_calls_an_authenticated_route(browser, tmp_path):
    started = time.monotonic()
    with page_server() as allowed, page_server() as other:
        with served(tmp_path, {"CORS_ALLOW_ORIGINS": allowed}) as api:  # `other` is not in the list
            api.cli("createsuperuser", "--username", "frontend", "--password", PASSWORD)
            page = browser.new_page()
            page.set_default_timeout(15_000)
            try:
                page.goto(allowed)
                key = str(uuid.uuid4())
                assert page.evaluate("([api, key]) => loadCaptcha(api, key)", [api.url, key]) == 140
                answer = api.cli("captcha-answer", key)  # the documented way past the captcha
                result = page.evaluate(
                    "([api, u, p, k, v]) => loginAndCall(api, u, p, k, v)", [api.url, "frontend", PASSWORD, key, answer]
                )
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "cors-browser-allowed.png"))
                assert result.get("blocked") is None, result
                assert result["login"] == 200 and result["status"] == 200
                assert result["user"]["username"] == "frontend"
                assert result["requestId"]  # an exposed header the page can read

                page.goto(other)
                key = str(uuid.uuid4())
                page.evaluate("([api, key]) => loadCaptcha(api, key)", [api.url, key])  # an <img> needs no CORS
                answer = api.cli("captcha-answer", key)
                blocked = page.evaluate(
                    "([api, u, p, k, v]) => loginAndCall(api, u, p, k, v)", [api.url, "frontend", PASSWORD, key, answer]
                )
                page.screenshot(path=str(ARTIFACTS / "cors-browser-blocked.png"))
                assert "Failed to fetch" in blocked.get("blocked", ""), blocked
                assert "Failed to fetch" in page.evaluate("(api) => readPublic(api)", api.url).get("blocked", "")
            finally:
                page.close()
    elapsed = time.monotonic() - started
    report(f"CORS browser test: {elapsed:.1f} s (studyhub serve start, Chromium, two origins)")
    assert elapsed < 60
