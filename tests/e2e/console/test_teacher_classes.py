"""A teacher's class in the console (issue 16): teacher1 signs in, lands on its classes, opens
"Python 一班", registers a student (the form's notice, the roster row), resets that student's
password (confirm dialog, notice): every token issued before the reset is refused from then on,
and the queued credentials email, once delivered, is in the served platform's ``var/mail``
outbox, addressed to the student and naming it. A roster file with a bad line is refused with the
line's error shown and nobody created; the roster exports as a CSV file. Screenshots at desktop and phone widths."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from email import message_from_bytes, policy
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}

# Delivers every queued credentials email now (the served platform runs without its job worker),
# as the send job would: the development mailer writes .eml files under var/mail/.
DELIVER = """
from sqlalchemy import select
from studyhub.core.db import session_scope
from studyhub.domain.school.credentials_mail import deliver
from studyhub.models.school import CredentialsMail
with session_scope() as session:
    ids = list(session.scalars(select(CredentialsMail.id)))
print([deliver(i) for i in ids])
"""


def _deliver_mail(platform) -> list[bytes]:
    done = subprocess.run(
        [sys.executable, "-c", DELIVER], env=platform.env, cwd=platform.base, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return [path.read_bytes() for path in sorted((platform.base / "var" / "mail").glob("*.eml"))]


def test_teacher_registers_a_student_and_resets_its_password(console_server, desktop, login, shot):
    page = desktop
    username = f"web{uuid.uuid4().hex[:8]}"
    email = f"{username}@example.com"

    login(page, "teacher1")
    page.wait_for_url(re.compile(r"/teacher/classes$"))
    page.get_by_test_id("class-list").get_by_role("link", name=re.compile("Python 一班")).click()
    page.get_by_test_id("class-name").filter(has_text="Python 一班").wait_for()

    page.get_by_role("button", name="注册学生").click()
    page.get_by_label("用户名").fill(username)
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("姓名（选填）").fill("网页学生")
    page.get_by_role("button", name="注册", exact=True).click()
    page.get_by_test_id("notice").filter(has_text=f"已注册学生 {username}").wait_for()
    row = page.get_by_test_id("student-row").filter(has_text=username)
    row.wait_for()

    # a token of the student from before the reset: the reset must make it useless
    teacher = {"Authorization": "Bearer " + page.evaluate("localStorage.getItem('studyhub.token')")}
    listed = httpx.get(f"{console_server.api}/school/students", params={"size": 100}, headers=teacher).json()
    student_id = next(s["id"] for s in listed["results"] if s["username"] == username)
    token = console_server.token(username)
    with httpx.Client(base_url=console_server.api, headers={"Authorization": f"Bearer {token}"}) as student:
        assert student.get(f"/users/users/{student_id}").status_code == 200

        page.once("dialog", lambda dialog: dialog.accept())
        row.get_by_role("button", name="重置密码").click()
        page.get_by_test_id("notice").filter(has_text=f"已重置 {username} 的密码").wait_for()
        assert student.get(f"/users/users/{student_id}").status_code == 401

    mails = [message_from_bytes(raw, policy=policy.default) for raw in _deliver_mail(console_server)]
    mine = [m for m in mails if m["To"] == email]
    assert len(mine) == 1, [m["To"] for m in mails]  # the reset replaced the registration's email
    assert username in mine[0].get_body(("plain",)).get_content()
    shot(page, "teacher-class-student-reset-desktop")

    # the roster export: fetched with the token, saved as a file (a BOM for Excel, the new student in it)
    with page.expect_download() as download:
        page.get_by_role("button", name="导出 CSV").click()
    exported = Path(download.value.path()).read_bytes()
    assert exported.startswith(b"\xef\xbb\xbf") and f"{username},{email}".encode() in exported, exported[:300]
    assert download.value.suggested_filename.endswith(".csv")

    # a roster with a bad line: refused whole, the line's error shown, nobody created
    roster = f"username,email\n{username}x,{username}x@example.com\nbad name,not-an-email\n".encode()
    page.get_by_test_id("roster-file").set_input_files({"name": "roster.csv", "mimeType": "text/csv", "buffer": roster})
    page.get_by_role("button", name="导入").click()
    errors = page.get_by_test_id("import-errors")
    errors.filter(has_text="第 3 行").wait_for()
    assert page.get_by_test_id("student-row").filter(has_text=f"{username}x").count() == 0

    page.set_viewport_size(PHONE)  # the same page at a phone's width (the layout is what changes)
    page.get_by_test_id("student-row").filter(has_text=username).wait_for()
    shot(page, "teacher-class-phone")
