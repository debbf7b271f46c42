"""API.md §1 "Limits on input" (issue 11, findings 1, 4 and 8): no input gets a 500, a hang or a
crash. Pagination windows, JSON depth, NUL bytes and lone surrogates, numbers out of range,
texts over their documented maximum, media paths, and the captcha whatever the ``Accept``."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from shopping_fixtures import front_door, make_commodity

HUGE_NUMBERS = [str(2**31 - 1), str(2**63 - 10), str(2**64 + 1), "9" * 40]
SUPERUSER_LISTS = [
    "/api/users/users",
    "/api/users/address",
    "/api/school/classes",
    "/api/school/students",
    "/api/work/labels",
    "/api/work/topics",
    "/api/work/topics/search",
    "/api/community/articles",
    "/api/shopping/commodities",
    "/api/shopping/cart",
    "/api/shopping/orders",
    "/api/shopping/payments",
]


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The contract's error: that status, JSON ``{"detail": <Chinese>, "code", "errors"?}``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"] and isinstance(body["code"], str)
    if code is not None:
        assert body["code"] == code, body
    return body


def post_raw(api, url: str, raw: bytes):
    return api.post(url, content=raw, headers={"Content-Type": "application/json"})


# --- pagination: the 10,000-row window, checked where page/size/limit/offset are parsed --------


@pytest.mark.parametrize("offset", HUGE_NUMBERS)
def test_search_with_a_huge_offset_is_400_and_the_server_keeps_serving(
    client, student, teacher, make_label, make_topic, index, offset
):
    topic = make_topic(teacher, make_label(teacher), "Python中的列表推导式")
    index(topic)
    api = client.as_user(student)
    assert_error(api.get("/api/work/topics/search", params={"offset": offset}), 400, "invalid_pagination")
    assert_error(
        api.get("/api/work/topics/search", params={"subject": "列表", "offset": offset}), 400, "invalid_pagination"
    )
    still = api.get("/api/work/topics/search", params={"subject": "列表"})  # the process is alive
    assert still.status_code == 200 and still.json()["count"] == 1


def test_search_window_ends_at_ten_thousand_rows(client, student, search_index):
    api = client.as_user(student)
    last = api.get("/api/work/topics/search", params={"offset": 9990, "limit": 10})
    assert last.status_code == 200 and last.json()["results"] == []
    assert_error(api.get("/api/work/topics/search", params={"offset": 9991, "limit": 10}), 400, "invalid_pagination")
    assert api.get("/api/work/topics/search", params={"page": 100, "size": 100}).status_code == 200
    assert_error(api.get("/api/work/topics/search", params={"page": 101, "size": 100}), 400, "invalid_pagination")
    # a size above 100 is served as 100, so the window counts 100 rows a page
    assert_error(api.get("/api/work/topics/search", params={"page": 101, "size": 5000}), 400, "invalid_pagination")


def test_the_embedded_index_itself_never_pages_past_the_window(teacher, make_label, make_topic, index, search_index):
    """The second line of defence: a caller that skipped the HTTP bound can't make tantivy
    allocate for a huge offset (2^31 aborted the process, 2^63 panicked and hung)."""
    index(make_topic(teacher, make_label(teacher), "Python中的列表推导式"))
    for offset in (2**31 - 1, 2**63 - 10, 2**64 + 1):
        page = search_index.search("", include_exam=True, offset=offset, limit=10)
        assert page.total == 1 and page.hits == []
        page = search_index.search("列表", include_exam=True, offset=offset, limit=10**12)
        assert page.total == 1 and page.hits == []


@pytest.mark.parametrize("url", SUPERUSER_LISTS)
def test_every_list_refuses_pages_beyond_the_window(client, superuser, search_index, url):
    api = client.as_user(superuser)
    for params in (
        {"page": str(2**64 + 1)},
        {"page": "101", "size": "100"},
        {"page": "1001"},  # size 10
        {"offset": str(2**31 - 1)},
        {"offset": str(2**63 - 10)},
        {"offset": "9999", "limit": "2"},
        {"offset": "9" * 5000},
    ):
        assert_error(api.get(url, params=params), 400, "invalid_pagination")
    for params in ({"limit": "9" * 40}, {"size": str(2**64)}):  # above 100: served as 100
        assert api.get(url, params=params).status_code == 200
    assert api.get(url, params={"page": "100", "size": "100"}).status_code == 200
    assert api.get(url, params={"offset": "9900", "limit": "100"}).status_code == 200


def test_anonymous_commodity_list_refuses_huge_pages_and_serves_size_as_100(client):
    for number in range(3):
        make_commodity(name=f"练习册 {number}", price="1.00")
    assert_error(client.get("/api/shopping/commodities", params={"page": str(2**64)}), 400, "invalid_pagination")
    assert_error(client.get("/api/shopping/commodities", params={"offset": str(2**64)}), 400, "invalid_pagination")
    served = client.get("/api/shopping/commodities", params={"size": "1000"})
    assert served.status_code == 200 and served.json()["count"] == 3 and len(served.json()["results"]) == 3
    served = client.get("/api/shopping/commodities", params={"limit": str(2**64)})
    assert served.status_code == 200 and len(served.json()["results"]) == 3


def test_a_filter_beyond_any_id_is_400_not_an_overflow(client, teacher):
    api = client.as_user(teacher)
    assert_error(api.get("/api/work/topics", params={"label": str(2**64)}), 400, "invalid_filter")
    assert_error(api.get("/api/school/students", params={"classes": "9" * 30}), 400, "invalid_filter")
    assert api.get("/api/work/topics", params={"label": str(2**53 - 1)}).json()["count"] == 0


# --- JSON bodies -------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [33, 1000, 100_000])
def test_json_nested_deeper_than_32_levels_is_400_even_anonymously(client, superuser, depth):
    nested = b'{"username": "root", "x": ' + b"[" * depth + b"]" * depth + b"}"
    assert_error(post_raw(client, "/api/users/login", nested), 400, "parse_error")
    objects = b'{"a":' * depth + b"1" + b"}" * depth
    assert_error(post_raw(client.as_user(superuser), "/api/school/classes", objects), 400, "parse_error")
    assert client.get("/api/users/area").status_code == 200


def test_json_nested_32_levels_is_parsed(client, superuser):
    body = '{"name": "一班", "extra": '.encode() + b"[" * 31 + b"]" * 31 + b"}"  # the object is level 1
    assert post_raw(client.as_user(superuser), "/api/school/classes", body).status_code == 201
    brackets_in_text = json.dumps({"name": "二班", "slogan": "[" * 100 + "{" * 100}).encode()
    created = post_raw(client.as_user(superuser), "/api/school/classes", brackets_in_text)
    assert created.status_code == 201 and created.json()["slogan"] == "[" * 100 + "{" * 100


@pytest.mark.parametrize(
    "raw",
    [
        rb'{"username": "\ud800", "password": "x", "uuid": "00000000-0000-0000-0000-000000000000", "verify": "ab"}',
        rb'{"username": "root", "password": "x", "uuid": "\udfff", "verify": "ab"}',
        rb'{"username": "ro\u0000ot", "password": "x", "uuid": "00000000-0000-0000-0000-000000000000", "verify": "a"}',
        rb'{"username": "root", "\u0000": 1, "uuid": "00000000-0000-0000-0000-000000000000", "verify": "ab"}',
        rb'{"username": "root", "password": ["ok", {"deep": "\ud83d"}], "uuid": "x", "verify": "ab"}',
    ],
)
def test_a_lone_surrogate_or_nul_anywhere_in_a_body_is_400(client, superuser, raw):
    assert_error(post_raw(client, "/api/users/login", raw), 400, "invalid_characters")


def test_a_surrogate_pair_is_text_not_an_error(client, superuser):
    body = rb'{"name": "\ud83d\ude00 \u73ed", "slogan": "\ud83d\udcda"}'
    created = post_raw(client.as_user(superuser), "/api/school/classes", body)
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "😀 班" and created.json()["slogan"] == "📚"


def test_nul_or_lone_surrogate_in_query_and_path_parameters_is_400(client, teacher):
    assert_error(client.get("/api/shopping/commodities?search=a%00b"), 400, "invalid_characters")
    assert_error(client.as_user(teacher).get("/api/users/users?search=%00"), 400, "invalid_characters")
    assert_error(client.get("/api/users/image/verification/%00"), 400, "invalid_characters")
    assert_error(client.as_user(teacher).get("/api/shopping/orders/2026%00"), 400, "invalid_characters")


def test_ids_beyond_2_53_are_400_in_bodies_and_404_in_paths(client, superuser, student):
    api = client.as_user(student)
    for raw in (str(2**53).encode(), str(2**64 + 1).encode(), b"1" + b"0" * 400):
        assert_error(post_raw(api, "/api/shopping/cart", b'{"commodity": ' + raw + b"}"), 400)
        order = b'{"cart": [' + raw + b'], "address": 1, "pay_method": 1}'
        assert_error(post_raw(api, "/api/shopping/orders", order), 400)
    admin = client.as_user(superuser)
    assert_error(admin.post("/api/school/classes", json={"name": "一班", "member": [2**53]}), 400)
    assert_error(admin.post("/api/users/users", json={"username": "x1", "password": "p" * 10, "groups": [2**64]}), 400)
    for path in ("/api/shopping/commodities/", "/api/school/classes/", "/api/work/labels/"):
        assert_error(admin.get(path + str(2**53)), 404)
        assert_error(admin.get(path + str(2**64 + 1)), 404)


def test_lists_of_ids_in_a_body_are_bounded(client, superuser):
    admin = client.as_user(superuser)
    body = admin.post("/api/school/classes", json={"name": "一班", "member": list(range(1, 40_000))})
    assert assert_error(body, 400)["errors"]["member"] == ["最多 2000 项。"]


# --- texts over their documented maximum --------------------------------------------------------

FOUR_BYTES = "𠮷"  # U+20BB7: four bytes in utf8mb4


def test_class_slogan_has_a_documented_maximum_that_fits_the_column(client, superuser):
    admin = client.as_user(superuser)
    fits = admin.post("/api/school/classes", json={"name": "一班", "slogan": FOUR_BYTES * 5000})
    assert fits.status_code == 201, fits.text[:300]
    assert admin.get(f"/api/school/classes/{fits.json()['id']}").json()["slogan"] == FOUR_BYTES * 5000
    for slogan in (FOUR_BYTES * 5001, "a" * 70_000):
        body = assert_error(admin.post("/api/school/classes", json={"name": "二班", "slogan": slogan}), 400)
        assert body["errors"]["slogan"] == ["最多 5000 个字符。"]
        too_long = admin.patch(f"/api/school/classes/{fits.json()['id']}", json={"slogan": slogan})
        assert assert_error(too_long, 400)["errors"]["slogan"] == ["最多 5000 个字符。"]


def test_commodity_description_has_a_documented_maximum_that_fits_the_column(client, superuser):
    admin = client.as_user(superuser)
    fits = admin.post(
        "/api/shopping/commodities", json={"name": "书", "price": "1.00", "description": FOUR_BYTES * 16000}
    )
    assert fits.status_code == 201, fits.text[:300]
    assert admin.get(f"/api/shopping/commodities/{fits.json()['id']}").json()["description"] == FOUR_BYTES * 16000
    for description in (FOUR_BYTES * 16_384, "a" * 16_001):
        created = admin.post(
            "/api/shopping/commodities", json={"name": "书", "price": "1.00", "description": description}
        )
        assert assert_error(created, 400)["errors"]["description"] == ["最多 16000 个字符。"]
        patched = admin.patch(f"/api/shopping/commodities/{fits.json()['id']}", json={"description": description})
        assert assert_error(patched, 400)["errors"]["description"] == ["最多 16000 个字符。"]


def test_topic_and_comment_texts_at_their_maximum_in_four_byte_characters_are_stored(
    client, teacher, make_label, make_article
):
    api = client.as_user(teacher)
    label = make_label(teacher)
    topic = {"subject": FOUR_BYTES * 5000, "type": 4, "label": label.id, "answer": FOUR_BYTES * 16000}
    assert api.post("/api/work/topics", json=topic).status_code == 201
    article = make_article(teacher)
    comment = api.post("/api/community/comments", json={"article": article.id, "content": FOUR_BYTES * 5000})
    assert comment.status_code == 201, comment.text[:300]


# --- media paths -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/media/avatars/a%00.png",
        "/api/media/%00",
        "/api/media/avatars/%0a.png",
        "/api/media/..%2f..%2fetc%2fpasswd",
        "/api/media/avatars/" + "a" * 5000 + ".png",
        "/api/media/avatars/%ed%a0%80.png",
    ],
)
def test_a_media_path_naming_no_file_is_404_json(client, path):
    from studyhub.clients.storage import get_storage

    key = get_storage().save(b"GIF89a", prefix="avatars", extension="gif", content_type="image/gif")
    assert client.get(f"/api/media/{key}").content == b"GIF89a"  # the store's directories exist
    assert_error(client.get(path), 404, "not_found")


# --- the captcha: a PNG whatever the Accept, every error JSON -------------------------------------


def bare_http() -> httpx.Client:
    """An HTTP client that sends no ``Accept`` header at all (httpx would add ``*/*``)."""
    http = httpx.Client(transport=httpx.WSGITransport(app=front_door()), base_url="http://testserver")
    del http.headers["accept"]
    return http


@pytest.mark.parametrize("accept", [None, "application/json", "text/html", "image/avif,image/webp,*/*", "image/png"])
def test_the_captcha_is_a_png_whatever_the_accept_header(client, accept):
    with bare_http() as http:
        headers = {"Accept": accept} if accept else {}
        response = http.get(f"/api/users/image/verification/{uuid.uuid4()}", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize("accept", [None, "image/png", "application/json"])
def test_a_captcha_error_is_the_contract_json_whatever_the_accept_header(client, accept):
    with bare_http() as http:
        headers = {"Accept": accept} if accept else {}
        response = http.get("/api/users/image/verification/not-a-uuid", headers=headers)
        assert_error(response, 400, "invalid_uuid")
