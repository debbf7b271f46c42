"""A teacher's question bank, paper, assignment, marking and statistics in the console (issue 16):
teacher1 builds a paper from a search (the matched term highlighted as a <mark>, from the API's
markers, never its HTML: a subject holding markup shows it as text) and a label's topics, gives a score, sees the total, saves it, assigns
it to "Python 一班" as a timed exam; the API shows exactly that. Then the demo homework's marking
queue: student1's question-and-answer item is marked and the submission becomes graded; the
statistics page draws its two SVG charts. Screenshots at desktop and phone widths."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid

import httpx
import pytest

# The flows issue 16 names run on both stacks; this one is about pages, not the database behind
# them (which the HTTP suites run on both), so it runs on the embedded stack: CI stays under 20 minutes.
pytestmark = [pytest.mark.browser, pytest.mark.embedded_only]
PHONE = {"width": 390, "height": 844}
# markup in a subject must come out of a highlighted search result as text, never as elements
HOSTILE = '列表注入<img src=x onerror="window.__xss=1"><b>粗</b>'
# the served platform runs without its job worker: index the new topic as its job would
INDEX = "import sys; from studyhub.domain.work.search_sync import sync_topics; sync_topics([int(sys.argv[1])])"


def _hostile_topic(platform, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=platform.api, headers=headers, timeout=30) as teacher:
        label = next(x for x in teacher.get("/work/labels").json()["results"] if x["name"] == "Python基础")
        made = teacher.post("/work/topics", json={"subject": HOSTILE, "type": 4, "label": label["id"], "answer": "无"})
        assert made.status_code == 201, made.text
    done = subprocess.run(
        [sys.executable, "-c", INDEX, str(made.json()["id"])],
        env=platform.env,
        cwd=platform.base,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def test_teacher_builds_a_paper_assigns_it_and_marks_the_demo_homework(console_server, desktop, login, shot):
    url, page = console_server.url, desktop
    title = f"网页试卷 {uuid.uuid4().hex[:6]}"
    login(page, "teacher1")
    token = page.evaluate("localStorage.getItem('studyhub.token')")
    _hostile_topic(console_server, token)

    page.goto(f"{url}/teacher/papers/new")
    page.get_by_label("试卷标题").fill(title)
    page.get_by_label("搜索题干").fill("列表")
    page.get_by_role("button", name="搜索", exact=True).click()
    found = page.get_by_test_id("bank-row").filter(has_text="列表推导式")
    found.locator("mark", has_text="列表").first.wait_for()
    assert "<span" not in found.first.inner_text()  # the API's markup became a <mark>, not text
    hostile = page.get_by_test_id("bank-row").filter(has_text='<img src=x onerror="window.__xss=1"><b>粗</b>')
    hostile.locator("mark", has_text="列表").wait_for()
    assert page.get_by_test_id("bank-list").locator("img, b").count() == 0
    assert page.evaluate("window.__xss") is None
    found.first.get_by_role("button", name="加入").click()
    page.get_by_role("button", name="清除搜索").click()
    page.get_by_label("标签").select_option(label="数据结构")
    stack = page.get_by_test_id("bank-row").filter(has_text="栈是一种")
    stack.get_by_role("button", name="加入").click()
    assert stack.get_by_role("button", name="已加入").is_disabled()
    page.get_by_label("第 1 题分值").fill("5")
    page.get_by_label("第 2 题分值").fill("2.5")
    page.get_by_test_id("paper-total").filter(has_text="7.5").wait_for()
    page.get_by_role("button", name="保存试卷").click()
    page.wait_for_url(re.compile(r"/teacher/papers$"))

    page.get_by_test_id("paper-row").filter(has_text=title).get_by_role("link", name="布置").click()
    page.wait_for_url(re.compile(r"/teacher/assignments\?paper=\d+"))
    page.get_by_label("标题（选填，默认用试卷标题）").fill(title)
    page.get_by_role("radio", name="考试").check()
    page.get_by_role("checkbox", name="Python 一班").check()
    page.get_by_label("限时（分钟，选填）").fill("30")
    page.get_by_label("公布答案").select_option("after_end")
    page.get_by_role("button", name="布置", exact=True).click()
    made_row, refused = page.get_by_test_id("assignment-row").filter(has_text=title), page.get_by_test_id("error")
    made_row.or_(refused).first.wait_for()
    assert not refused.count(), refused.all_inner_texts()
    made_row.wait_for()
    shot(page, "teacher-assignments-desktop")

    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=console_server.api, headers=headers, timeout=30) as teacher:
        made = next(
            a for a in teacher.get("/work/assignments", params={"size": 100}).json()["results"] if a["title"] == title
        )
        klass = next(c for c in teacher.get("/school/classes").json()["results"] if c["name"] == "Python 一班")
        paper = teacher.get(f"/work/papers/{made['paper']}").json()
    assert (made["kind"], made["classes"], made["time_limit_minutes"], made["reveal"]) == (
        "exam",
        [klass["id"]],
        30,
        "after_end",
    )
    assert [(i["topic"]["subject"][:4], i["score"]) for i in paper["items"]] == [("Pyth", 5), ("栈是一种", 2.5)]
    assert paper["total_score"] == 7.5

    # the demo homework: student1's question-and-answer item waits for a mark
    page.goto(f"{url}/teacher/assignments")
    page.get_by_test_id("assignment-row").filter(has_text="第一周作业").get_by_role("link", name="批改与统计").click()
    page.get_by_role("img", name="得分率分布（人数）").wait_for()
    page.get_by_role("img", name="各题正确率").wait_for()
    row = page.get_by_test_id("submission-row").filter(has_text="student1")
    row.filter(has_text="待批改").get_by_role("link", name="批改").click()
    page.get_by_label(re.compile(r"^得分（0–")).fill("1.5")
    page.get_by_label("评语（选填）").fill("要点对了，可以再举个例子。")
    page.get_by_role("button", name="保存批改").click()
    page.get_by_test_id("submission-summary").filter(has_text="已批改").wait_for()
    page.get_by_role("link", name="返回批改队列").click()
    page.get_by_test_id("submission-row").filter(has_text="student1").filter(has_text="已批改").wait_for()
    shot(page, "teacher-stats-desktop")

    page.set_viewport_size(PHONE)  # the same page at a phone's width
    page.get_by_role("img", name="得分率分布（人数）").wait_for()
    shot(page, "teacher-stats-phone")
