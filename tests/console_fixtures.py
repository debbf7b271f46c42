"""The console's browser harness (issue 16; registered in tests/conftest.py's ``pytest_plugins``): a real ``studyhub serve`` per stack (embedded, and
MariaDB + Redis with a private database), seeded with ``studyhub seed --demo`` (admin, teacher1,
student1; password ``studyhub-demo``), and Debian's headless chromium driven by Playwright.

Fixtures:
- ``console_server``: the served platform (``tests/served_platform.py``: ``.url``, ``.api``,
  ``.cli(...)``, ``.token(user)``, ``.stack``), one per stack for the whole session;
- ``desktop`` (1280×800) and ``phone`` (390×844, touch): a fresh page each (no one signed in);
  an uncaught script error or a Content-Security-Policy refusal on the page fails the test;
- ``login(page, username, password="studyhub-demo")``: through the login page, the captcha's
  answer read with ``studyhub captcha-answer`` (development only: it reads the server's cache);
- ``shot(page, name)``: a full-page screenshot in ``var/screenshots/<stack>-<name>-<width>.png``
  (kept by CI as an artifact).

A flow module marks itself ``pytestmark = pytest.mark.browser``.
Run: ``bash scripts/test.sh -m browser`` (or ``python -m pytest tests/e2e/console -m browser``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import missing
from served_platform import Platform, serve_platform

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "var" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--lang=zh-CN",  # the browser's own words (a file input's button) in Chinese too
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
DEMO_PASSWORD = "studyhub-demo"
STEP_MS = 30_000  # one wait in a flow: generous for two shared cores, bounded all the same


@pytest.fixture(scope="session", params=["embedded", "mysql"])
def console_server(request, tmp_path_factory) -> Iterator[Platform]:
    """One served, demo-seeded platform per stack for the whole session (few server starts).
    Its Alipay server calls (refunds, queries) go to a fake gateway, ``.alipay``
    (tests/alipay_gateway.py), holding the throwaway keys served_platform made for it."""
    from alipay_gateway import FakeAlipay
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    base = tmp_path_factory.mktemp(f"console-{request.param}")
    gateway = FakeAlipay(app_public_key=None, alipay_private_key=None, app_id="2021000000000000")
    gateway.start()
    try:
        with serve_platform(request.param, base, {"ALIPAY_GATEWAY": gateway.url}) as platform:
            gateway.app_public_key = load_pem_private_key((base / "app.key").read_bytes(), None).public_key()
            gateway.alipay_private_key = load_pem_private_key((base / "alipay.key").read_bytes(), None)
            platform.alipay = gateway  # type: ignore[attr-defined]
            yield platform
    finally:
        gateway.stop()


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright is not installed (pip install -e '.[dev]')")
    if not Path(CHROMIUM).exists():
        missing("chromium is not installed (Debian: apt-get install chromium; scripts/test.sh does it)")
    fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True) if shutil.which("fc-list") else None
    if fonts is None or not fonts.stdout.strip():
        missing("no CJK font: the console's Chinese would render as boxes (Debian: apt-get install fonts-noto-cjk)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30_000)
        try:
            yield chromium
        finally:
            chromium.close()


def _page(browser, **options):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **options)
    page = context.new_page()
    page.set_default_timeout(STEP_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # what the page's Content-Security-Policy refused (local/console.py) is a bug of the page too
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    return context, page, errors


@pytest.fixture
def desktop(browser):
    context, page, errors = _page(browser, viewport=DESKTOP)
    yield page
    context.close()
    assert not errors, f"uncaught script errors on the page: {errors}"


@pytest.fixture
def phone(browser):
    context, page, errors = _page(browser, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    yield page
    context.close()
    assert not errors, f"uncaught script errors on the page: {errors}"


def captcha_answer(server: Platform, page) -> str:
    """The answer of the captcha the login page shows, once its image has loaded (the server
    keeps the answer when it draws the image)."""
    image = page.get_by_test_id("captcha-image")
    image.wait_for()
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    return server.cli("captcha-answer", image.get_attribute("data-uuid") or "")


@pytest.fixture
def login(console_server) -> Callable[..., None]:
    def sign_in(page, username: str, password: str = DEMO_PASSWORD) -> None:
        page.goto(f"{console_server.url}/login")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码", exact=True).fill(password)
        page.get_by_label("验证码").fill(captcha_answer(console_server, page))
        page.get_by_role("button", name="登录").click()
        signed_in, refused = page.get_by_test_id("current-user"), page.get_by_test_id("error")
        signed_in.or_(refused).first.wait_for()
        assert not refused.is_visible(), f"login as {username} refused: {refused.inner_text()}"
        page.wait_for_url(re.compile(r"^(?!.*/login).*$"))

    return sign_in


@pytest.fixture
def shot(console_server) -> Callable[[object, str], Path]:
    def take(page, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        width = (page.viewport_size or DESKTOP)["width"]
        suffix = "" if name.endswith(("-desktop", "-phone")) else ("-phone" if width < 600 else "-desktop")
        path = SCREENSHOTS / f"{console_server.stack}-{name}{suffix}.png"
        # a menu still sliding shut is fast-forwarded, spinners stopped: the page as it settles
        page.screenshot(path=str(path), full_page=True, animations="disabled")
        return path

    return take
