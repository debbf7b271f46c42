"""A student takes an exam in the console (issue 16): teacher1 builds a paper of five topic types
and assigns it to the demo class as an exam through the API; student1 signs in, opens it from
"我的作业", answers each type with its own input, refreshes the page mid-exam and finds every
answer (the server's draft and the last, not yet saved one from localStorage), hands it in and
reads its result. On a phone, student2 clears a mistake from its book and opens today's practice.
Screenshots at desktop and phone widths."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

pytestmark = pytest.mark.browser

# teacher1's demo topics (domain/work/demo.py) by type, with what the student answers
ANSWERS = {
    0: "C",  # 下列哪个是不可变类型？A. list B. dict C. tuple D. set -> right
    1: "AC",  # 下列哪些是线性结构？A. 队列 B. 二叉树 C. 链表 D. 图 -> right
    2: "正确",  # 字典保持插入顺序 -> right
    3: "后进先出",  # 栈是一种____的线性表 -> right
    4: "列表推导式用一行表达式构造新列表。",  # waits for the teacher's mark
}


TOKENS: dict[tuple[str, str], str] = {}  # one `studyhub token` run (a process start) per user and server


def _client(platform, username: str) -> httpx.Client:
    key = (platform.url, username)
    if key not in TOKENS:
        TOKENS[key] = platform.token(username)
    return httpx.Client(base_url=platform.api, headers={"Authorization": f"Bearer {TOKENS[key]}"}, timeout=30)


def _exam(platform) -> dict:
    """A paper of one topic per type and an open exam on it for 'Python 一班' (as teacher1)."""
    with _client(platform, "teacher1") as teacher:
        topics = teacher.get("/work/topics", params={"size": 100}).json()["results"]
        by_type: dict[int, dict] = {}
        for topic in sorted(topics, key=lambda t: t["id"]):
            if topic["label_name"] in ("Python基础", "数据结构"):  # teacher1's labels, not an exam's
                by_type.setdefault(topic["type"], topic)
        assert set(by_type) == set(ANSWERS), by_type
        klass = next(
            c
            for c in teacher.get("/school/classes", params={"size": 100}).json()["results"]
            if c["name"] == "Python 一班"
        )
        items = [{"topic": by_type[t]["id"], "score": 2} for t in sorted(by_type)]
        paper = teacher.post("/work/papers", json={"title": "浏览器考试卷", "items": items})
        assert paper.status_code == 201, paper.text
        now = datetime.now(UTC)
        title = f"浏览器考试 {uuid.uuid4().hex[:6]}"
        exam = teacher.post(
            "/work/assignments",
            json={
                "paper": paper.json()["id"],
                "title": title,
                "kind": "exam",
                "classes": [klass["id"]],
                "start_time": (now - timedelta(minutes=1)).isoformat(),
                "end_time": (now + timedelta(hours=1)).isoformat(),
                "time_limit_minutes": 30,
                "reveal": "after_submit",
            },
        )
        assert exam.status_code == 201, exam.text
        return {"id": exam.json()["id"], "title": title, "topics": {t: by_type[t] for t in by_type}}


def _row(page, topic):
    return page.get_by_test_id("question-row").filter(has_text=topic["subject"][:12])


def _answer(page, exam, kinds) -> None:
    for kind in kinds:
        row, value = _row(page, exam["topics"][kind]), ANSWERS[kind]
        if kind == 0:
            row.get_by_role("radio", name=re.compile(f"^{value}")).check()
        elif kind == 1:
            for letter in value:
                row.get_by_role("checkbox", name=re.compile(f"^{letter}")).check()
        elif kind == 2:
            row.get_by_role("radio", name=re.compile("^对")).check()
        elif kind == 3:
            row.get_by_label("第 1 空").fill(value)
        else:
            row.get_by_label("作答").fill(value)


def _assert_answered(page, exam) -> None:
    topics = exam["topics"]
    assert _row(page, topics[0]).get_by_role("radio", name=re.compile("^C")).is_checked()
    assert _row(page, topics[1]).get_by_role("checkbox", name=re.compile("^A")).is_checked()
    assert _row(page, topics[1]).get_by_role("checkbox", name=re.compile("^C")).is_checked()
    assert not _row(page, topics[1]).get_by_role("checkbox", name=re.compile("^B")).is_checked()
    assert _row(page, topics[2]).get_by_role("radio", name=re.compile("^对")).is_checked()
    assert _row(page, topics[3]).get_by_label("第 1 空").input_value() == ANSWERS[3]
    assert _row(page, topics[4]).get_by_label("作答").input_value() == ANSWERS[4]


def test_student_takes_an_exam_survives_a_refresh_and_sees_its_result(console_server, desktop, phone, login, shot):
    exam = _exam(console_server)
    page = desktop
    login(page, "student1")
    page.goto(f"{console_server.url}/student/assignments")
    row = page.get_by_test_id("assignment-row").filter(has_text=exam["title"])
    row.get_by_role("link", name="进入考试").click()
    page.get_by_role("button", name="开始考试").click()
    page.get_by_test_id("countdown").wait_for()
    assert re.search(r"\d\d:\d\d", page.get_by_test_id("countdown").inner_text())

    # four answers reach the server's draft, the fifth is typed just before the refresh
    _answer(page, exam, [0, 1, 2, 3])
    page.get_by_test_id("save-state").filter(has_text="草稿已保存").wait_for()
    _answer(page, exam, [4])
    shot(page, "student-exam")
    page.reload()
    page.get_by_test_id("question-row").first.wait_for()
    _assert_answered(page, exam)
    page.get_by_test_id("save-state").filter(has_text="草稿已保存").wait_for()  # the local answer is sent
    with _client(console_server, "student1") as student:  # starting again answers the same attempt
        attempt = student.post(f"/work/assignments/{exam['id']}/start").json()
    drafted = {a["topic"]: a["answer"] for a in attempt["answers"]}
    assert drafted == {exam["topics"][k]["id"]: v for k, v in ANSWERS.items()}

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="交卷").click()
    score = page.get_by_test_id("score")
    score.wait_for()  # the router's push to the result (a same-document navigation)
    assert re.search(r"/student/submissions/\d+$", page.url), page.url
    assert "8 / 10" in score.inner_text().replace("\n", " ")  # four right at 2 each, the essay unmarked
    results = page.get_by_test_id("result-row")
    assert results.count() == 5
    assert results.locator(".verdict.wrong").count() == 0
    assert results.locator(".verdict.right").count() == 4  # reveal after_submit: right/wrong shown at once
    assert results.filter(has_text="待批改").count() == 1
    shot(page, "student-exam-result")
    result_url = page.url
    page.goto(f"{console_server.url}/student/assignments")
    page.get_by_test_id("assignment-row").filter(has_text=exam["title"]).get_by_role("link", name="查看成绩").click()
    page.get_by_test_id("score").wait_for()
    assert page.url == result_url

    # on a phone, student2 (the demo homework left it mistakes): the mistake book loses one it
    # removes, today's practice and the assignments read as well
    login(phone, "student2")
    phone.goto(f"{console_server.url}/student/mistakes")
    mistakes = phone.get_by_test_id("mistake-row")
    mistakes.first.wait_for()
    before = mistakes.count()
    assert before >= 3  # its wrong answers of the demo homework
    gone = mistakes.first.locator("p").first.inner_text()
    phone.once("dialog", lambda dialog: dialog.accept())
    mistakes.first.get_by_role("button", name="移出错题本").click()
    phone.get_by_test_id("mistake-row").filter(has_text=gone).wait_for(state="detached")
    assert mistakes.count() == before - 1
    shot(phone, "student-mistakes")
    phone.goto(f"{console_server.url}/student/practice")
    phone.locator("[data-testid=practice-row], p.empty").first.wait_for()
    if phone.get_by_test_id("practice-row").count():  # similar topics found through the search index
        row = phone.get_by_test_id("practice-row").first
        choice = row.locator("input[type=radio], input[type=checkbox]")
        if choice.count():
            choice.first.check()
        else:
            row.locator("input, textarea").first.fill("后进先出")
        row.get_by_role("button", name="提交答案").click()
        assert re.search("正确|错误|参考答案", row.get_by_test_id("practice-result").inner_text())
    shot(phone, "student-practice")
    phone.goto(f"{console_server.url}/student/assignments")
    phone.get_by_test_id("assignment-list").wait_for()
    shot(phone, "student-assignments")
