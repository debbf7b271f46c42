"""What the schemathesis conformance run (tests/e2e/test_schemathesis.py) found, pinned as plain
contract tests on both stacks: the document and the server agree on these now."""

from __future__ import annotations

import json

import pytest
from shopping_fixtures import make_commodity


@pytest.mark.parametrize(
    "template",
    ["/api/community/articles/%0A{id}", "/api/community/articles/{id}%0A", "/api/community/articles/%09{id}"],
)
def test_a_path_id_with_a_tab_or_newline_names_no_row(client, student, template):
    api = client.as_user(student)
    article = api.post("/api/community/articles", json={"title": "标题", "content": "正文"}).json()["id"]
    assert api.get(f"/api/community/articles/{article}").status_code == 200
    answer = api.get(template.format(id=article))
    assert answer.status_code == 404, answer.text
    assert answer.json()["code"] == "not_found"


def test_a_semicolon_in_a_path_parameter_is_not_the_list_route(client, student):
    """``/orders/%3Bx`` was read as ``/orders`` (Chalice's matcher cut the path at ``;``)."""
    answer = client.as_user(student).get("/api/shopping/orders/%3B%2Ax")
    assert answer.status_code == 404, answer.text
    assert "count" not in answer.json()


@pytest.mark.parametrize(
    "query", ["size=-3&limit=5", "page=true&offset=0", "size=0&offset=2", "page=0&limit=1", "page=10001&limit=1"]
)
def test_both_pagination_pairs_are_checked_whichever_is_used(client, query):
    answer = client.get(f"/api/shopping/commodities?{query}")
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "invalid_pagination"


@pytest.mark.parametrize(
    ("path", "name", "limit"),
    [("/api/shopping/commodities", "search", 200), ("/api/work/topics/search", "subject", 5000)],
)
def test_a_text_filter_longer_than_documented_is_400(client, student, path, name, limit):
    api = client.as_user(student)
    assert api.get(path, params={name: "x" * limit}).status_code == 200
    answer = api.get(path, params={name: "x" * (limit + 1)})
    assert answer.status_code == 400, answer.text
    assert name in answer.json()["errors"]


def test_a_price_sent_as_a_binary_float_of_whole_cents_is_those_cents(client, superuser):
    admin = client.as_user(superuser)
    created = admin.post("/api/shopping/commodities", json={"name": "尺子", "price": 57 * 0.01})  # 0.5700000000000001
    assert created.status_code == 201, created.text
    assert created.json()["price"] == "0.57"
    for price in (0.005, 1e300, "1e2", " 5", "+5", "5."):
        refused = admin.post("/api/shopping/commodities", json={"name": "尺子", "price": price})
        assert refused.status_code == 400 and "price" in refused.json()["errors"], (price, refused.text)


def test_the_document_states_what_the_server_checks(client):
    document = client.get("/api/openapi.json").json()
    schemas = document["components"]["schemas"]
    number, text = schemas["CommodityIn"]["properties"]["price"]["anyOf"]
    assert number["minimum"] == 0.01 and number["multipleOf"] == 0.01
    assert text["pattern"]
    # trimmed strings: a required text needs a character that isn't a space
    assert schemas["AddressPatch"]["properties"]["receiver"]["anyOf"][0]["pattern"] == r"\S"
    # a PATCH without a body changes nothing; a PUT needs one
    article = document["paths"]["/community/articles/{id}"]
    assert article["patch"]["requestBody"]["required"] is False
    assert article["put"]["requestBody"]["required"] is True
    # uploads name the image types the server accepts by content; static files their own types
    upload = document["paths"]["/users/users/{id}/avatar"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert upload["encoding"]["file"]["contentType"] == "image/jpeg, image/png, image/gif"
    assets = document["paths"]["/docs/{asset}"]["get"]["responses"]["200"]["content"]
    assert set(assets) == {"text/css", "application/javascript"}


def test_an_empty_patch_changes_nothing(client, superuser):
    commodity = make_commodity("书签", "1.00")
    admin = client.as_user(superuser)
    answer = admin.patch(
        f"/api/shopping/commodities/{commodity}", content=b"", headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 200, answer.text
    assert json.loads(answer.text)["price"] == "1.00"


def test_a_query_parameter_sent_twice_is_400(client):
    answer = client.get("/api/shopping/commodities?search=a&search=b")
    assert answer.status_code == 400, answer.text
    assert "search" in answer.json()["errors"]


@pytest.mark.parametrize("stock", [True, "5", 5.5])
def test_an_integer_field_takes_whole_numbers_only(client, superuser, stock):
    admin = client.as_user(superuser)
    answer = admin.post("/api/shopping/commodities", json={"name": "尺子", "price": "1.00", "stock": stock})
    assert answer.status_code == 400 and "stock" in answer.json()["errors"], answer.text
    assert (
        admin.post("/api/shopping/commodities", json={"name": "尺子", "price": "1.00", "stock": 5.0}).status_code == 201
    )
