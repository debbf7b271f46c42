"""API.md §2 "Usernames" and "Password rules", through HTTP on both stacks: one canonical form of a
name (NFKC, case-folded) for uniqueness, login and lockout; accents stay distinct, on MySQL too;
creation refuses outer whitespace, control characters and names over 150 characters; every route
that sets a password wants at least 8 characters and says so."""

import pytest
from conftest import DEFAULT_PASSWORD, login

# The spellings of issue 11 #2: trailing space, several trailing spaces, full width, another case.
SPELLINGS = ["victim ", "victim    ", "ｖｉｃｔｉｍ", "VICTIM"]
PASSWORD_TOO_SHORT = "密码至少 8 位"


def create_user(client, superuser, username, password="a-strong-pass"):
    return client.as_user(superuser).post("/api/users/users", json={"username": username, "password": password})


@pytest.fixture
def klass(client, teacher):
    response = client.as_user(teacher).post("/api/school/classes", json={"name": "一班"})
    assert response.status_code == 201, response.text
    return response.json()


def register_student(client, teacher, klass, username):
    return client.as_user(teacher).post(
        "/api/school/students", json={"username": username, "email": "s@example.com", "classes": klass["id"]}
    )


# --- login and lockout ---------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_spelling_of_a_name_logs_into_that_account(client, make_user, spelling):
    victim = make_user("student", username="victim")
    response = login(client, spelling)
    assert response.status_code == 200, response.text
    assert response.json()["id"] == victim.id and response.json()["username"] == "victim"


def test_every_spelling_shares_one_lockout_and_the_right_password_is_then_429(client, make_user):
    make_user("student", username="victim")
    for spelling in [*SPELLINGS, "Victim"]:  # 5 failures, each through a different spelling
        response = login(client, spelling, "wrong-password")
        assert response.status_code == 400 and response.json()["code"] == "invalid_credentials"
    for spelling in ["victim", *SPELLINGS, "Ｖｉｃｔｉｍ　"]:  # full width with an ideographic space
        locked = login(client, spelling, DEFAULT_PASSWORD)
        assert locked.status_code == 429, spelling
        assert locked.json()["code"] == "too_many_attempts" and "token" not in locked.json()
        assert int(locked.headers["Retry-After"]) > 0


def test_failures_through_the_real_name_lock_out_every_variant(client, make_user):
    make_user("student", username="victim")
    for _ in range(5):
        login(client, "victim", "wrong-password")
    assert [login(client, spelling).status_code for spelling in SPELLINGS] == [429] * len(SPELLINGS)


def test_accented_names_are_distinct_accounts(client, superuser):
    assert create_user(client, superuser, "victor", "plain-password").status_code == 201
    accented = create_user(client, superuser, "víctor", "accent-password")
    assert accented.status_code == 201, accented.text
    assert login(client, "VÍCTOR", "accent-password").json()["id"] == accented.json()["id"]
    assert login(client, "victor", "accent-password").json()["code"] == "invalid_credentials"
    # failures on one never lock the other
    for _ in range(5):
        login(client, "victor", "wrong-password")
    assert login(client, "víctor", "accent-password").status_code == 200


# --- creation -----------------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["ALICE", "alice", "Ａｌｉｃｅ", "ａｌｉｃｅ"])
def test_a_name_whose_canonical_form_is_taken_is_400_on_both_creation_routes(
    client, superuser, teacher, klass, spelling
):
    assert create_user(client, superuser, "Alice").status_code == 201
    for response in (create_user(client, superuser, spelling), register_student(client, teacher, klass, spelling)):
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "username_taken"
        assert response.json()["errors"]["username"] == ["已存在一位使用该名字的用户。"]
    names = [u["username"] for u in client.as_user(teacher).get("/api/users/users?size=100").json()["results"]]
    assert names.count("Alice") == 1 and spelling not in names


@pytest.mark.parametrize(
    "username,message",
    [
        ("name ", "用户名首尾不能有空格。"),
        (" name", "用户名首尾不能有空格。"),
        ("name\u3000", "用户名首尾不能有空格。"),  # ideographic space
        ("na\x07me", "用户名不能包含控制字符。"),
        ("na\x1bme", "用户名不能包含控制字符。"),
        ("na\u200bme", "用户名不能包含控制字符。"),  # zero-width space: a look-alike of "name"
        ("a" * 151, "用户名不能超过 150 个字符。"),
        ("ﷺ" * 10, "用户名不能超过 150 个字符。"),  # 10 characters, 180 once canonical
    ],
)
def test_creation_refuses_a_malformed_name_with_a_clear_message(client, superuser, teacher, klass, username, message):
    for response in (create_user(client, superuser, username), register_student(client, teacher, klass, username)):
        assert response.status_code == 400, response.text
        assert response.json()["errors"]["username"] == [message]
    assert client.as_user(superuser).get("/api/users/users").json()["count"] == 2  # the superuser and the teacher


def test_a_name_of_150_characters_is_fine(client, superuser):
    response = create_user(client, superuser, "a" * 150)
    assert response.status_code == 201 and response.json()["username"] == "a" * 150


def test_teacher_search_finds_a_name_in_any_case_or_width(client, teacher, make_user):
    make_user("student", username="Alice_cn")
    api = client.as_user(teacher)
    for term in ("alice", "ALICE", "ａｌｉｃｅ"):
        assert [u["username"] for u in api.get(f"/api/users/users?search={term}").json()["results"]] == ["Alice_cn"]


# --- passwords ----------------------------------------------------------------------------------


def test_creating_a_user_with_a_short_password_says_so(client, superuser):
    response = create_user(client, superuser, "newbie", "1234567")
    assert response.status_code == 400
    assert response.json()["errors"] == {"password": [PASSWORD_TOO_SHORT]}
    assert create_user(client, superuser, "newbie", "12345678").status_code == 201


def test_changing_to_a_short_password_says_so(client, student):
    api = client.as_user(student)
    response = api.put(
        f"/api/users/users/{student.id}/password", json={"old_password": DEFAULT_PASSWORD, "new_password": "1234567"}
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"new_password": [PASSWORD_TOO_SHORT]}
    assert login(client, student.username).status_code == 200  # unchanged


def test_a_password_is_kept_as_typed_not_trimmed(client, superuser, student):
    # Trimmed, "    ab    " would be 2 characters; as typed it is 10, and the login needs the spaces.
    assert create_user(client, superuser, "spacey", "    ab    ").status_code == 201
    assert login(client, "spacey", "    ab    ").status_code == 200
    changed = client.as_user(student).put(
        f"/api/users/users/{student.id}/password", json={"old_password": DEFAULT_PASSWORD, "new_password": "new-pass "}
    )
    assert changed.status_code == 204
    assert login(client, student.username, "new-pass ").status_code == 200
