"""An operator's users and commodities in the console (issue 16): admin creates a teacher account,
deactivates it (it leaves the list and shows under 已停用, its login refused by the API),
reactivates it; then gives a new commodity an image: the chosen file shows at once as a preview,
the upload reports its progress, and the list shows the stored picture."""

from __future__ import annotations

import base64
import uuid

import httpx
import pytest

# The flows issue 16 names run on both stacks; this one is about pages, not the database behind
# them (which the HTTP suites run on both), so it runs on the embedded stack: CI stays under 20 minutes.
pytestmark = [pytest.mark.browser, pytest.mark.embedded_only]

# a 2×2 PNG (a real image: the server decodes uploads)
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg=="
)


def test_operator_creates_deactivates_and_reactivates_staff_and_uploads_an_image(console_server, desktop, login):
    url, page = console_server.url, desktop
    username = f"staff{uuid.uuid4().hex[:6]}"
    login(page, "admin")

    page.get_by_role("button", name="新建教职工").click()
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("初始密码").fill("staff-password-1")
    page.get_by_label("邮箱").fill(f"{username}@example.com")
    page.get_by_role("button", name="创建", exact=True).click()
    page.get_by_test_id("notice").filter(has_text=f"已创建老师账号 {username}").wait_for()

    page.get_by_label("按用户名搜索").fill(username)
    page.get_by_role("button", name="筛选").click()
    row = page.get_by_test_id("user-row").filter(has_text=username)
    row.filter(has_text="老师").wait_for()
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="停用").click()
    page.get_by_test_id("notice").filter(has_text=f"已停用 {username}").wait_for()
    row.wait_for(state="detached")
    token = page.evaluate("localStorage.getItem('studyhub.token')")  # admin's, from the console
    with httpx.Client(base_url=console_server.api, headers={"Authorization": f"Bearer {token}"}) as admin:
        found = admin.get("/users/users", params={"search": username, "is_active": "false"}).json()["results"]
        assert [u["is_active"] for u in found] == [False]

        page.get_by_label("状态").select_option(label="已停用")
        page.get_by_test_id("user-row").filter(has_text=username).wait_for()
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_test_id("user-row").filter(has_text=username).get_by_role("button", name="恢复").click()
        page.get_by_test_id("notice").filter(has_text=f"已恢复 {username}").wait_for()
        assert admin.get(f"/users/users/{found[0]['id']}").json()["is_active"] is True

    name = f"网页商品 {uuid.uuid4().hex[:6]}"
    page.goto(f"{url}/operator/commodities")
    page.get_by_role("button", name="新建商品").click()
    page.get_by_label("名称").fill(name)
    page.get_by_label("价格（元）").fill("12.30")
    page.get_by_label("库存").fill("7")
    page.get_by_role("button", name="保存商品").click()
    page.get_by_role("heading", name=f"编辑：{name}").wait_for()
    page.get_by_label("选择图片（JPEG、PNG 或 GIF）").set_input_files(
        {"name": "p.png", "mimeType": "image/png", "buffer": PNG}
    )
    assert page.get_by_test_id("image-preview").get_attribute("src").startswith("blob:")  # the local preview, at once
    page.get_by_role("button", name="上传图片").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=image-preview]')?.getAttribute('src')?.startsWith('/')"
    )
    stored = page.get_by_test_id("commodity-row").filter(has_text=name).locator("img")
    stored.wait_for()
    assert page.evaluate("(img) => img.complete && img.naturalWidth === 2", stored.element_handle())
