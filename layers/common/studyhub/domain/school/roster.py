"""A class roster in and out (API.md §3): importing a CSV or ``.xlsx`` of students into a class,
all or nothing, and exporting a class's students as CSV that Excel opens.

Import: the whole file is read and every row validated (the rules of one registration, names
repeated in the file, names already taken) before anything is written; one bad row is a ``400``
naming its line and nobody is created. Then, in one transaction, the accounts (one flush,
``accounts.create_users``), their memberships and one credentials-email outbox row each.

The accounts have no password yet: each outbox row is marked ``PASSWORD_PENDING`` and its send
job generates the password, stores its argon2 hash and emails it (``credentials_mail``). Hashing
inline would cost 0.1-0.8 s per student with argon2's defaults (kept): minutes for 1,000. After
the commit one job is queued, which queues the send job of every row (publishing 1,000 messages
in the request takes seconds on the embedded queue); a lost job is covered by the outbox sweep.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from studyhub.clients.queue import enqueue
from studyhub.core import errors
from studyhub.core.validation import field_errors
from studyhub.domain.access import Caller, require_teacher
from studyhub.domain.school.credentials_mail import PASSWORD_PENDING
from studyhub.domain.school.task_names import QUEUE_CREDENTIALS_MAIL
from studyhub.domain.users.accounts import NewAccount, create_users
from studyhub.domain.users.usernames import USERNAME_TAKEN, canonical_username, taken_usernames
from studyhub.models.school import Classes, CredentialsMail, class_members
from studyhub.models.users import STUDENT_GROUP_ID, User, user_groups

from .schemas import RosterRow

COLUMNS = ("username", "email", "first_name", "age", "sex")
REQUIRED_COLUMNS = ("username", "email")
MAX_ROWS = 1000  # students in one request
MAX_FILE_BYTES = 2 * 1024 * 1024  # 1,000 rows are about 100 KB of CSV, far less as .xlsx
# Lines read at most, blank ones included (a sheet may declare rows far below its data).
MAX_LINES = 10 * MAX_ROWS
# An .xlsx is a zip: what its members unpack to is checked from the zip's directory before any
# XML is parsed (zipfile never unpacks a member beyond its declared size).
XLSX_MAX_UNPACKED = 32 * 1024 * 1024
XLSX_MAX_MEMBERS = 200
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls
# Cells Excel would run as a formula: prefixed with ' on export, the quote dropped on import.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
SEX_WORDS = {"女": 0, "男": 1}
INTEGER = re.compile(r"[+-]?\d+")

SAVE_AS_HINT = "请上传 .xlsx，或在 Excel 中“另存为 CSV UTF-8（逗号分隔）”"


def _bad_file(message: str, code: str = "invalid_file") -> errors.Invalid:
    return errors.Invalid(message, code=code, errors={"file": [message]})


# --- reading a file: (line number, cells) ----------------------------------------------------


def _csv_lines(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    try:
        text = data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a BOM
    except UnicodeDecodeError:
        raise _bad_file(f"文件不是 UTF-8 编码的 CSV。{SAVE_AS_HINT}") from None
    if "\x00" in text:
        raise _bad_file(f"文件不是文本。{SAVE_AS_HINT}")
    reader = csv.reader(io.StringIO(text, newline=""))  # "\r\n", "\n" and quoted line breaks
    line = 1
    try:
        for cells in reader:
            yield line, cells
            line = reader.line_num + 1  # a quoted field may span lines: the next record starts here
    except csv.Error as error:
        raise errors.Invalid(
            "文件格式错误", code="invalid_file", errors={f"line {reader.line_num}": [f"CSV 格式错误：{error}"]}
        ) from None


def _xlsx_lines(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    import openpyxl

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            names = {m.filename for m in members}
    except (zipfile.BadZipFile, ValueError):
        raise _bad_file(f"无法读取该 .xlsx 文件。{SAVE_AS_HINT}") from None
    if "xl/workbook.xml" not in names:
        raise _bad_file(f"该压缩文件不是 .xlsx 工作簿。{SAVE_AS_HINT}")
    if len(members) > XLSX_MAX_MEMBERS or sum(m.file_size for m in members) > XLSX_MAX_UNPACKED:
        raise errors.PayloadTooLarge("该 .xlsx 文件解压后过大")
    # openpyxl raises many kinds of error on a damaged file (zip, XML, KeyError, TypeError ...):
    # any of them is a file we can't read, never a 500.
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception:  # noqa: BLE001 - see above
        raise _bad_file(f"无法读取该 .xlsx 文件。{SAVE_AS_HINT}") from None
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None or not hasattr(sheet, "iter_rows"):
            raise _bad_file("工作簿中没有工作表。")
        rows = sheet.iter_rows(max_col=len(COLUMNS) + 1, values_only=True)  # one more: an unknown column shows
        line = 0
        while True:
            try:
                cells = next(rows)
            except StopIteration:
                return
            except Exception:  # noqa: BLE001 - a damaged sheet, as above
                raise _bad_file(f"无法读取该 .xlsx 文件（第 {line + 1} 行附近）。") from None
            line += 1
            yield line, list(cells)
    finally:
        workbook.close()


def _lines(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    """A file's lines by its content, whatever its name or declared type."""
    if data.startswith(ZIP_MAGIC):
        return _xlsx_lines(data)
    if data.startswith(OLE_MAGIC):
        raise _bad_file(f"不支持旧版 .xls 文件。{SAVE_AS_HINT}")
    return _csv_lines(data)


# --- cells to a row ----------------------------------------------------------------------------


def _text(value: Any) -> Any:
    """A cell as the text a registration body would carry; numbers as Excel shows them."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool):
        return value  # refused by the row's rules, never read as 0/1
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        value = value.strip()
        if len(value) > 1 and value[0] == "'" and value.startswith(tuple("'" + c for c in FORMULA_START)):
            value = value[1:]  # our own export's guard against formulas
    return value


def _number(value: Any, words: dict[str, int] | None = None) -> Any:
    """An optional integer cell: blank is null, ``"12"`` is 12; anything else is left for the rules."""
    value = _text(value)
    if value == "":
        return None
    if isinstance(value, str):
        if words and value in words:
            return words[value]
        if INTEGER.fullmatch(value):
            return int(value)
    return value


def _header(cells: list[Any]) -> tuple[list[str], list[str]]:
    """The column of each position (``""``: a blank column, skipped) and the problems, if any."""
    names = [str(_text(c)).strip().lower() if c is not None else "" for c in cells]
    problems = [f"未知的列：{n}（可用的列：{', '.join(COLUMNS)}）" for n in names if n and n not in COLUMNS]
    problems += [f"缺少列：{n}" for n in REQUIRED_COLUMNS if n not in names]
    problems += [f"重复的列：{n}" for n in COLUMNS if names.count(n) > 1]
    return names, problems


def _row_fields(names: list[str], cells: list[Any]) -> dict[str, Any]:
    raw = {name: cells[i] if i < len(cells) else None for i, name in enumerate(names) if name}
    return {
        "username": _text(raw.get("username")),
        "email": _text(raw.get("email")),
        "first_name": _text(raw.get("first_name")),
        "age": _number(raw.get("age")),
        "sex": _number(raw.get("sex"), SEX_WORDS),
    }


def _messages(by_field: dict[str, list[str]]) -> list[str]:
    return [f"{name}：{message}" for name, messages in by_field.items() for message in messages]


def _parsed_rows(data: bytes) -> tuple[list[tuple[int, RosterRow]], dict[str, list[str]]]:
    """Every data row validated on its own: ``([(line, row)], {"line N": [problems]})``."""
    problems: dict[str, list[str]] = {}
    rows: list[tuple[int, RosterRow]] = []
    names: list[str] | None = None
    for line, cells in _lines(data):
        if line > MAX_LINES:
            raise _bad_file(f"文件超过 {MAX_LINES} 行", code="too_many_rows")
        if names is None:
            names, header_problems = _header(cells)
            if header_problems:
                raise errors.Invalid("表头有误", code="invalid_roster", errors={"line 1": header_problems})
        elif any(_text(c) != "" for c in cells):  # blank lines are skipped (Excel leaves some at the end)
            if len(rows) + len(problems) >= MAX_ROWS:
                raise _bad_file(f"一次最多导入 {MAX_ROWS} 名学生", code="too_many_rows")
            try:
                rows.append((line, RosterRow.model_validate(_row_fields(names, cells))))
            except ValidationError as error:
                problems[f"line {line}"] = _messages(field_errors(error))
    if not (rows or problems):
        raise _bad_file("文件中没有学生", code="empty_roster")
    return rows, problems


def _name_problems(session: Session, rows: list[tuple[int, RosterRow]], problems: dict[str, list[str]]) -> None:
    """A name twice in the file (the later lines are wrong) or taken by an account, active or not."""
    first_line: dict[str, int] = {}
    for line, row in rows:
        canonical = canonical_username(row.username)
        if canonical in first_line:
            problems.setdefault(f"line {line}", []).append(f"username：与第 {first_line[canonical]} 行的用户名重复。")
        else:
            first_line[canonical] = line
    for canonical in taken_usernames(session, list(first_line)):
        problems.setdefault(f"line {first_line[canonical]}", []).append(f"username：{USERNAME_TAKEN}")


def read_roster(session: Session, data: bytes) -> list[RosterRow]:
    """Every row of the file, validated as one registration each and against each other and the
    accounts that exist; any problem is a 400 with ``errors: {"line N": [...]}`` (header: line 1)."""
    rows, problems = _parsed_rows(data)
    _name_problems(session, rows, problems)
    if problems:
        ordered = dict(sorted(problems.items(), key=lambda item: int(item[0].split()[1])))
        raise errors.Invalid(
            f"导入文件有 {len(ordered)} 行有误，没有创建任何学生", code="invalid_roster", errors=ordered
        )
    return [row for _line, row in rows]


# --- import and export -------------------------------------------------------------------------


def _live_class(session: Session, class_id: int) -> Classes:
    klass = session.get(Classes, class_id)
    if klass is None or klass.is_delete:
        raise errors.NotFound()
    return klass


def import_students(session: Session, caller: Caller, class_id: int, files: dict[str, Any]) -> dict[str, int]:
    """One transaction: every student of the file (student group, this class, no password yet),
    one outbox row each; the send jobs are queued after the commit."""
    require_teacher(caller)
    klass = _live_class(session, class_id)
    upload = files.get("file")
    if upload is None:
        raise errors.Invalid.field("file", "没有提交文件。", code="file_required")
    if len(upload.data) > MAX_FILE_BYTES:
        raise errors.PayloadTooLarge(f"文件不能超过 {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    rows = read_roster(session, upload.data)

    accounts = [NewAccount(r.username, r.email, r.first_name, r.age, r.sex) for r in rows]
    students = create_users(session, accounts, group_ids=[STUDENT_GROUP_ID])
    session.execute(insert(class_members), [{"class_id": klass.id, "user_id": s.id} for s in students])
    mails = [
        CredentialsMail(user_id=s.id, email=s.email, class_name=klass.name, secret=PASSWORD_PENDING) for s in students
    ]
    session.add_all(mails)
    session.flush()
    enqueue(session, QUEUE_CREDENTIALS_MAIL, [mail.id for mail in mails])
    return {"created": len(students)}


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def export_students(session: Session, caller: Caller, class_id: int) -> tuple[str, str]:
    """``(file name, CSV text)``: the class's active students, a BOM first so Excel reads the
    Chinese as UTF-8; the columns an import reads back, never a password."""
    require_teacher(caller)
    klass = _live_class(session, class_id)
    students = session.scalars(
        select(User)
        .join(class_members, class_members.c.user_id == User.id)
        .where(
            class_members.c.class_id == klass.id,
            User.is_active.is_(True),
            User.id.in_(select(user_groups.c.user_id).where(user_groups.c.group_id == STUDENT_GROUP_ID)),
        )
        .order_by(User.id)
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # as Excel writes it
    writer.writerow(COLUMNS)
    for s in students:
        writer.writerow([_cell(s.username), _cell(s.email), _cell(s.first_name), _cell(s.age), _cell(s.sex)])
    return f"{klass.name}.csv", "\ufeff" + out.getvalue()
