"""Every main page of the teacher and operator roles opens in a real browser without an error
(issue 16): each one's heading shows, nothing is left loading, no error banner, no script error.
Each page's screenshot goes to ``var/screenshots/`` (CI artifact); with
``STUDYHUB_WRITE_DOCS_SCREENSHOTS=1`` the embedded stack's also go to ``docs/console/`` (the
README's pictures: regenerate them after changing a page, then commit them)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx
import pytest

# Pictures of pages: what a page shows is the same on both stacks (the flows run on both), so
# they are taken on the embedded one only.
pytestmark = [pytest.mark.browser, pytest.mark.embedded_only]

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
DOCS = Path(__file__).resolve().parents[3] / "docs" / "console"


def _ids(platform, token: str) -> dict[str, int]:
    """Ids the detail pages need: the demo class, a topic, teacher1's demo paper and homework."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=platform.api, headers=headers, timeout=30) as teacher:
        klass = next(c for c in teacher.get("/school/classes").json()["results"] if c["name"] == "Python 一班")
        topic = next(t for t in teacher.get("/work/topics", params={"size": 100}).json()["results"] if t["type"] == 1)
        paper = next(
            p
            for p in teacher.get("/work/papers", params={"size": 100}).json()["results"]
            if p["title"] == "Python 基础小测"
        )
        homework = next(
            a
            for a in teacher.get("/work/assignments", params={"size": 100}).json()["results"]
            if a["title"] == "第一周作业"
        )
    return {"class": klass["id"], "topic": topic["id"], "paper": paper["id"], "homework": homework["id"]}


def _visit(page, url: str, heading: str) -> None:
    page.goto(url)
    page.get_by_role("heading", name=heading, level=1).wait_for()
    page.wait_for_load_state("networkidle")
    page.get_by_test_id("loading").wait_for(state="detached")
    errors = page.get_by_test_id("error")
    assert errors.count() == 0, f"{url}: {errors.all_inner_texts()}"


def _keep(platform, path: Path) -> None:
    if os.environ.get("STUDYHUB_WRITE_DOCS_SCREENSHOTS") == "1" and platform.stack == "embedded":
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS / path.name.removeprefix(f"{platform.stack}-"))


def test_every_teacher_and_operator_page_opens_and_is_photographed(console_server, desktop, login, shot):
    url, page = console_server.url, desktop
    login(page, "teacher1")
    ids = _ids(console_server, page.evaluate("localStorage.getItem('studyhub.token')"))
    teacher_pages = [
        ("teacher-classes", "/teacher/classes", "班级与学生"),
        ("teacher-class", f"/teacher/classes/{ids['class']}", "Python 一班"),
        ("teacher-labels", "/teacher/labels", "题库标签"),
        ("teacher-topics-search", "/teacher/topics?q=列表", "题库"),
        ("teacher-topic-editor", f"/teacher/topics/{ids['topic']}", "编辑题目"),
        ("teacher-paper", f"/teacher/papers/{ids['paper']}", "编辑试卷"),
        ("teacher-assignments", "/teacher/assignments", "作业与考试"),
        ("teacher-stats", f"/teacher/assignments/{ids['homework']}", "第一周作业"),
    ]
    operator_pages = [
        ("operator-users", "/operator/users", "用户"),
        ("operator-commodities", "/operator/commodities", "商品"),
        ("operator-orders", "/operator/orders", "订单"),
        ("operator-payments", "/operator/payments", "支付记录"),
        ("operator-health", "/operator/health", "服务健康"),
    ]
    phone_pages = {"teacher-class", "teacher-topic-editor", "teacher-stats", "operator-orders", "operator-health"}

    for who, pages in (("teacher1", teacher_pages), ("admin", operator_pages)):
        if who == "admin":  # the teacher signs out first
            page.get_by_test_id("logout").click()
            page.wait_for_url("**/login**")
            login(page, who)
        for name, path, heading in pages:
            page.set_viewport_size(DESKTOP)
            _visit(page, url + path, heading)
            if name == "operator-health":  # every group of the discovery document, each healthy
                page.get_by_test_id("health-row").nth(4).wait_for()
                assert page.get_by_test_id("health-row").filter(has_text="正常").count() == 5
            if name == "teacher-topic-editor":  # the preview shows the options the subject holds
                assert page.get_by_test_id("topic-preview").get_by_role("checkbox").count() == 4
            _keep(console_server, shot(page, name))
            if name in phone_pages:  # the same page at a phone's width: the layout is what changes
                page.set_viewport_size(PHONE)
                page.get_by_role("heading", name=heading, level=1).wait_for()
                _keep(console_server, shot(page, name))


def test_every_student_page_opens_and_is_photographed(console_server, phone, login, shot):
    """A student's pages, on the phone a student mostly has (desktop as well for the README)."""
    url, page = console_server.url, phone
    login(page, "student1")
    student_pages = [
        ("student-classes", "/student/classes", "我的班级"),
        ("student-assignments", "/student/assignments", "我的作业"),
        ("student-mistakes", "/student/mistakes", "错题本"),
        ("student-practice", "/student/practice", "今日练习"),
        ("student-articles", "/articles", "文章"),
        ("student-shop", "/shop", "商城"),
        ("student-orders", "/shop/orders", "我的订单"),
        ("student-profile", "/profile", "个人资料"),
        ("student-addresses", "/addresses", "收货地址"),
    ]
    for name, path, heading in student_pages:
        page.set_viewport_size(PHONE)
        page.goto(url + path)
        page.get_by_role("heading", name=heading, level=1).wait_for()
        page.wait_for_load_state("networkidle")
        page.get_by_test_id("loading").wait_for(state="detached")
        errors = page.get_by_test_id("error")
        assert errors.count() == 0, f"{path}: {errors.all_inner_texts()}"
        _keep(console_server, shot(page, f"{name}-phone"))
        if name in {"student-assignments", "student-shop"}:
            page.set_viewport_size(DESKTOP)
            page.get_by_role("heading", name=heading, level=1).wait_for()
            _keep(console_server, shot(page, f"{name}-desktop"))
