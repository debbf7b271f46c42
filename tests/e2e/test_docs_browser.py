"""``/api/docs`` in a real browser (issue 12 item 2): headless Chromium (Debian's ``chromium``,
driven by Playwright from PyPI; ``scripts/test.sh`` installs both and the CJK fonts, never
``playwright install``) opens the Swagger UI page of a running ``studyhub serve``, finds every
group's operations listed, and "Try it out" → "Execute" on ``GET /users/area`` shows the
provinces in the response panel. The screenshot is kept under ``var/artifacts/`` for CI.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import report
from served import served

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "var" / "artifacts"
AREA_OPERATION = "#operations-users-users_area_provinces_get"  # Swagger UI's id: tag and operationId


@pytest.fixture(scope="module")
def docs_server(tmp_path_factory):
    """The users function (``GET /users/area``) and the meta function (``/api/docs``)."""
    with served(tmp_path_factory.mktemp("docs-browser"), None, "--function", "meta") as server:
        yield server


# `browser`: the one chromium of the session (tests/console_fixtures.py): Playwright's sync API
# runs one instance per process, so every browser test shares it.


@pytest.mark.timeout(120)
def test_docs_page_lists_the_operations_and_try_it_out_on_areas_shows_the_provinces(docs_server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 1600}, locale="zh-CN")
    requests_outside: list[str] = []
    listed = 0
    page.on(
        "request",
        lambda request: (
            requests_outside.append(request.url) if not request.url.startswith((docs_server.url, "data:")) else None
        ),
    )
    try:
        page.goto(f"{docs_server.url}/api/docs", wait_until="networkidle", timeout=30_000)
        page.wait_for_selector(".opblock", timeout=30_000)
        listed = page.locator(".opblock").count()
        tags = set(page.locator(".opblock-tag").all_inner_texts())
        assert listed >= 50, f"only {listed} operations listed"
        assert {"users", "school", "work", "community", "shopping"} <= {t.split()[0] for t in tags if t}, tags

        operation = page.locator(AREA_OPERATION)
        operation.locator(".opblock-summary").click()
        operation.locator("button.try-out__btn").click()
        operation.locator("button.execute").click()
        body = operation.locator(".live-responses-table .response-col_description pre").first
        body.wait_for(timeout=30_000)
        page.wait_for_function("(el) => el.textContent.includes('北京市')", arg=body.element_handle(), timeout=30_000)
        status = operation.locator(".live-responses-table .response .response-col_status").first.inner_text()
        assert status.strip() == "200", status
        assert "北京市" in body.inner_text() and "上海市" in body.inner_text()
        assert not requests_outside, f"the docs page reached outside the server (a CDN?): {requests_outside}"
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTIFACTS / "api-docs-users-area.png"
        if page.locator(AREA_OPERATION).count():
            page.locator(AREA_OPERATION).scroll_into_view_if_needed()
        page.screenshot(path=str(shot))
        page.close()
        print(f"screenshot: {shot}")
        report(f"/api/docs in chromium: {listed} operations listed; screenshot {shot}")
