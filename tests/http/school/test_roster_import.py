"""API.md §3: a class roster imported from a CSV (UTF-8, with or without BOM, CRLF) or an .xlsx,
all or nothing, each new student emailed through the outbox; and exported as CSV for Excel."""

from __future__ import annotations

import csv
import io
import re
import time
import zipfile

import pytest
from conftest import free_port, login
from mail_fixtures import SmtpServer, queued_messages

HEADER = "username,email,first_name,age,sex"
FAN_OUT = "studyhub.school.queue_credentials_mail"  # queues one send job per student


@pytest.fixture
def klass(client, teacher):
    response = client.as_user(teacher).post("/api/school/classes", json={"name": "初二（3）班"})
    assert response.status_code == 201
    return response.json()


def upload(api, class_id, data: bytes, filename="roster.csv", content_type="text/csv"):
    return api.post(f"/api/school/classes/{class_id}/students/import", files={"file": (filename, data, content_type)})


def csv_bytes(*lines: str, bom=True, newline="\r\n") -> bytes:
    return (("\ufeff" if bom else "") + newline.join(lines) + newline).encode()


def xlsx_bytes(rows) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def students(client, teacher, class_id=None):
    query = f"?classes={class_id}&size=100" if class_id else "?size=100"
    return client.as_user(teacher).get(f"/api/school/students{query}").json()["results"]


def outbox():
    from sqlalchemy import select

    from studyhub.core.db import session_scope
    from studyhub.models.school import CredentialsMail

    with session_scope() as session:
        return [(m.id, m.user_id, m.email, m.class_name, m.secret) for m in session.scalars(select(CredentialsMail))]


def queued_mail_ids(before: int) -> list[int]:
    """The outbox ids the import's one job was queued with (nothing else is queued)."""
    jobs = queued_messages()[before:]
    assert [j["task"] for j in jobs] in ([FAN_OUT], []), jobs
    return sorted(jobs[0]["args"][0]) if jobs else []


# --- importing -----------------------------------------------------------------------------------


def test_excel_csv_with_bom_and_crlf_creates_every_student_in_the_class(client, teacher, klass):
    before = len(queued_messages())
    data = csv_bytes(
        HEADER, "xiaoming,xm@example.com,小明,12,1", "xiaohong,xh@example.com,小红,,女", "lilei,ll@example.com"
    )
    response = upload(client.as_user(teacher), klass["id"], data)
    assert response.status_code == 201, response.text
    assert response.json() == {"created": 3}

    found = {s["username"]: s for s in students(client, teacher, klass["id"])}
    assert set(found) == {"xiaoming", "xiaohong", "lilei"}
    assert (found["xiaoming"]["first_name"], found["xiaoming"]["age"], found["xiaoming"]["sex"]) == ("小明", 12, 1)
    assert (found["xiaohong"]["age"], found["xiaohong"]["sex"]) == (None, 0)
    assert found["lilei"]["first_name"] == "" and found["lilei"]["groups"] == [2]

    mails = outbox()
    assert sorted(m[2] for m in mails) == ["ll@example.com", "xh@example.com", "xm@example.com"]
    assert {m[3] for m in mails} == {"初二（3）班"}
    assert queued_mail_ids(before) == sorted(m[0] for m in mails)
    assert {m[4] for m in mails} == {""}  # no password yet: the send job makes it


def test_csv_without_bom_and_with_plain_newlines_and_columns_in_any_order(client, teacher, klass):
    data = csv_bytes("email,username", "a@example.com,alpha", "", "b@example.com,beta", bom=False, newline="\n")
    response = upload(client.as_user(teacher), klass["id"], data, content_type="application/octet-stream")
    assert response.status_code == 201, response.text
    assert response.json() == {"created": 2}
    assert {s["username"] for s in students(client, teacher, klass["id"])} == {"alpha", "beta"}


def test_xlsx_made_with_openpyxl_is_read_by_content(client, teacher, klass):
    rows = [
        ["username", "email", "first_name", "age", "sex"],
        [2023001, "n1@example.com", "韩梅梅", 13.0, "女"],
        ["lilei", "n2@example.com", None, 14, 1],
        [None, None, None, None, None],
    ]
    data = xlsx_bytes(rows)
    # the name and declared type say CSV: the content decides
    response = upload(client.as_user(teacher), klass["id"], data, filename="名单.csv", content_type="text/csv")
    assert response.status_code == 201, response.text
    assert response.json() == {"created": 2}
    found = {s["username"]: s for s in students(client, teacher, klass["id"])}
    assert (found["2023001"]["first_name"], found["2023001"]["age"], found["2023001"]["sex"]) == ("韩梅梅", 13, 0)
    assert (found["lilei"]["age"], found["lilei"]["sex"]) == (14, 1)
    assert len(outbox()) == 2


def test_a_class_of_45_is_one_request_with_45_emails_queued(client, teacher, klass):
    before = len(queued_messages())
    lines = [HEADER] + [f"pupil{i:02d},pupil{i:02d}@example.com,学生{i},{10 + i % 5},{i % 2}" for i in range(45)]
    started = time.monotonic()
    response = upload(client.as_user(teacher), klass["id"], csv_bytes(*lines))
    elapsed = time.monotonic() - started
    assert response.status_code == 201, response.text
    assert response.json() == {"created": 45}
    assert elapsed < 10, f"45 students took {elapsed:.1f}s"
    assert len(students(client, teacher, klass["id"])) == 45
    mails = outbox()
    assert len(mails) == 45 and len({m[1] for m in mails}) == 45
    assert queued_mail_ids(before) == sorted(m[0] for m in mails)


def test_bad_rows_name_their_lines_and_nobody_is_created(client, teacher, student, klass):
    before = len(queued_messages())
    data = csv_bytes(
        HEADER,
        "good1,g1@example.com,,,",  # line 2
        "has space,x@example.com,,,",  # line 3: the username rules of a registration
        "good2,not-an-email,,,",  # line 4
        "good3,g3@example.com,,0,",  # line 5: age 1-120
        "",  # line 6: blank, skipped but counted
        "good4,g4@example.com,,12,2",  # line 7: sex 0/1
        "GOOD1,g5@example.com,,,",  # line 8: good1 again, in another case
        f"{student.username.upper()},g6@example.com,,,",  # line 9: taken (canonical form)
        "good5,g7@example.com,,abc,",  # line 10
    )
    response = upload(client.as_user(teacher), klass["id"], data)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "invalid_roster"
    assert list(body["errors"]) == ["line 3", "line 4", "line 5", "line 7", "line 8", "line 9", "line 10"]
    assert body["errors"]["line 3"][0].startswith("username")
    assert body["errors"]["line 4"][0].startswith("email")
    assert body["errors"]["line 5"] == ["age：不能小于 1。"]
    assert body["errors"]["line 7"][0].startswith("sex")
    assert "第 2 行" in body["errors"]["line 8"][0]
    assert body["errors"]["line 9"] == ["username：已存在一位使用该名字的用户。"]
    assert [s["username"] for s in students(client, teacher)] == [student.username]
    assert outbox() == [] and queued_mail_ids(before) == []


def test_a_bad_row_in_an_xlsx_names_its_sheet_row(client, teacher, klass):
    data = xlsx_bytes([["username", "email"], ["ok", "ok@example.com"], ["bad", "bad-email"]])
    response = upload(client.as_user(teacher), klass["id"], data, filename="r.xlsx")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["line 3"]
    assert students(client, teacher) == []


@pytest.mark.parametrize(
    "header,problem",
    [
        ("username,first_name", "缺少列：email"),
        ("username,email,phone", "未知的列：phone"),
        ("username,email,email", "重复的列：email"),
    ],
)
def test_a_bad_header_is_line_1(client, teacher, klass, header, problem):
    response = upload(client.as_user(teacher), klass["id"], csv_bytes(header, "a,a@example.com,x"))
    assert response.status_code == 400
    assert problem in response.json()["errors"]["line 1"][0]


@pytest.mark.parametrize(
    "data,code",
    [
        (csv_bytes(HEADER), "empty_roster"),
        (b"", "empty_roster"),
        ("username,email\r\n小明,xm@example.com\r\n".encode("gbk"), "invalid_file"),  # Excel's ANSI CSV
        (b"\xd0\xcf\x11\xe0" + b"\0" * 600, "invalid_file"),  # an old .xls
        (b"PK\x03\x04 not really a zip", "invalid_file"),
        (b"username,email\r\na\0b,c@example.com\r\n", "invalid_file"),
    ],
)
def test_files_that_are_not_a_roster_are_400(client, teacher, klass, data, code):
    response = upload(client.as_user(teacher), klass["id"], data)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == code and "file" in response.json()["errors"]


def test_a_zip_that_is_not_a_workbook_or_a_damaged_workbook_is_400(client, teacher, klass):
    other = io.BytesIO()
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    damaged = io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as archive:
        archive.writestr("xl/workbook.xml", "<not-a-workbook")
    for data in (other.getvalue(), damaged.getvalue()):
        response = upload(client.as_user(teacher), klass["id"], data, filename="r.xlsx")
        assert response.status_code == 400 and response.json()["code"] == "invalid_file", response.text


def test_an_xlsx_that_unpacks_to_too_much_is_413_before_parsing(client, teacher, klass):
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/sharedStrings.xml", "<sst>" + "a" * (40 * 1024 * 1024) + "</sst>")
    assert len(bomb.getvalue()) < 200_000
    response = upload(client.as_user(teacher), klass["id"], bomb.getvalue(), filename="r.xlsx")
    assert response.status_code == 413 and response.json()["code"] == "payload_too_large"


def test_more_than_1000_students_is_400_and_a_file_over_2_mib_is_413(client, teacher, klass):
    api = client.as_user(teacher)
    lines = [HEADER] + [f"p{i},p{i}@example.com" for i in range(1001)]
    response = upload(api, klass["id"], csv_bytes(*lines))
    assert response.status_code == 400 and response.json()["code"] == "too_many_rows"
    huge = csv_bytes(HEADER, "a,a@example.com," + "x" * (2 * 1024 * 1024))
    response = upload(api, klass["id"], huge)
    assert response.status_code == 413 and response.json()["code"] == "payload_too_large"
    assert students(client, teacher) == [] and outbox() == []


def test_who_may_import_and_into_what(client, teacher, student, klass):
    data = csv_bytes(HEADER, "a1,a1@example.com")
    assert upload(client.as_user(student), klass["id"], data).status_code == 403
    assert upload(client, klass["id"], data).status_code == 401
    assert upload(client.as_user(teacher), 987654, data).status_code == 404
    api = client.as_user(teacher)
    no_file = api.post(f"/api/school/classes/{klass['id']}/students/import", files={"other": ("a.csv", data)})
    assert no_file.status_code == 400 and "file" in no_file.json()["errors"]
    as_json = api.post(f"/api/school/classes/{klass['id']}/students/import", json={"file": "x"})
    assert as_json.status_code == 415
    assert api.delete(f"/api/school/classes/{klass['id']}").status_code == 204
    assert upload(api, klass["id"], data).status_code == 404
    assert [s["username"] for s in students(client, teacher)] == [student.username]


def test_each_imported_student_gets_one_email_with_its_own_password_and_can_log_in(
    client, teacher, klass, job_worker, monkeypatch
):
    from studyhub.core import config

    server = SmtpServer(free_port())
    server.start()
    try:
        monkeypatch.setenv("SMTP_URL", f"smtp://127.0.0.1:{server.port}")
        config.reset()
        data = csv_bytes(HEADER, "meimei,mm@example.com,韩梅梅,13,0", "lilei,ll@example.com,李雷,13,1")
        assert upload(client.as_user(teacher), klass["id"], data).status_code == 201
        received = server.wait_for(2, timeout=60)
        passwords = {}
        for recipients, message, _tls in received:
            text = message.get_body(("plain",)).get_content()
            username = "meimei" if recipients == ["mm@example.com"] else "lilei"
            assert username in text and "初二（3）班" in text
            passwords[username] = re.search(r"初始密码：(\S+)", text).group(1)
        assert set(passwords) == {"meimei", "lilei"} and len(set(passwords.values())) == 2
        assert all(len(p) >= 10 for p in passwords.values())
        for username, password in passwords.items():
            assert login(client, username, password).status_code == 200
        time.sleep(1)
        assert len(server.received) == 2 and outbox() == []
    finally:
        server.stop()
        config.reset()


def test_before_its_email_goes_out_an_imported_account_has_no_password_that_works(client, teacher, klass):
    from sqlalchemy import select

    from studyhub.core.db import session_scope
    from studyhub.models.users import User

    assert upload(client.as_user(teacher), klass["id"], csv_bytes(HEADER, "waiting,w@example.com")).status_code == 201
    with session_scope() as session:
        stored = session.scalar(select(User.password).where(User.username == "waiting"))
    assert stored == "!"
    for guess in ("!", "waiting", "waiting@example.com"):
        assert login(client, "waiting", guess).json()["code"] == "invalid_credentials"


def test_a_password_set_before_the_email_job_runs_is_kept_and_no_email_goes_out(client, teacher, klass):
    from conftest import password_hash
    from sqlalchemy import update

    from studyhub.core.db import session_scope
    from studyhub.domain.school.credentials_mail import deliver
    from studyhub.models.users import User

    assert upload(client.as_user(teacher), klass["id"], csv_bytes(HEADER, "early,e@example.com")).status_code == 201
    ((mail_id, user_id, *_),) = outbox()
    with session_scope() as session:  # an operator set it meanwhile (studyhub set-password)
        session.execute(update(User).where(User.id == user_id).values(password=password_hash("chosen-by-operator")))
    assert deliver(mail_id) == "dropped"
    assert outbox() == []
    assert login(client, "early", "chosen-by-operator").status_code == 200


# --- exporting -----------------------------------------------------------------------------------


def test_export_is_a_csv_excel_reads_with_a_bom_and_no_passwords(client, teacher, make_user, klass):
    api = client.as_user(teacher)
    data = csv_bytes(HEADER, "xiaoming,xm@example.com,小明,12,1", "formula,f@example.com,=1+2,,0")
    assert upload(api, klass["id"], data).status_code == 201
    leaver = next(s for s in students(client, teacher) if s["username"] == "formula")
    outsider = make_user("student")

    response = api.get(f"/api/school/classes/{klass['id']}/students/export")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=") and "filename*=UTF-8''" in disposition
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    assert rows[0] == HEADER.split(",")
    assert rows[1:] == [
        ["xiaoming", "xm@example.com", "小明", "12", "1"],
        ["formula", "f@example.com", "'=1+2", "", "0"],
    ]
    assert "password" not in response.text.lower() and outsider.username not in response.text

    # deactivated students leave the roster; the file imports back into another class unchanged
    assert api.delete(f"/api/school/students/{leaver['id']}").status_code == 204
    exported = api.get(f"/api/school/classes/{klass['id']}/students/export").content
    assert b"formula" not in exported
    other = api.post("/api/school/classes", json={"name": "二班"}).json()
    assert api.delete(f"/api/school/students/{students(client, teacher)[0]['id']}").status_code == 204
    reimport = upload(api, other["id"], exported.replace(b"xiaoming", b"xiaoming2"))
    assert reimport.status_code == 201, reimport.text


def test_export_of_an_empty_class_is_the_header_and_only_teachers_may_export(client, teacher, student, klass):
    url = f"/api/school/classes/{klass['id']}/students/export"
    assert client.as_user(teacher).get(url).content == "\ufeffusername,email,first_name,age,sex\r\n".encode()
    assert client.as_user(student).get(url).status_code == 403
    assert client.get(url).status_code == 401
    assert client.as_user(teacher).get("/api/school/classes/987654/students/export").status_code == 404
