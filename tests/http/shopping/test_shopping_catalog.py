"""API.md §6: commodities (anyone reads, superuser writes) and the private cart, on both stacks."""

from shopping_fixtures import bearer, concurrently, make_commodity

COMMODITY_KEYS = {"id", "name", "price", "stock", "sales", "description", "image", "create_time", "update_time"}


def test_anyone_lists_commodities_paginated_newest_first_with_search(client):
    for i in range(12):
        make_commodity(name=f"练习册 {i}", price="9.90")
    make_commodity(name="Python 编程 100%_特价", price="39.90")
    page = client.get("/api/shopping/commodities").json()
    assert page["count"] == 13 and len(page["results"]) == 10
    assert page["next"] == "/api/shopping/commodities?page=2"
    assert page["results"][0]["name"] == "Python 编程 100%_特价"
    assert set(page["results"][0]) == COMMODITY_KEYS
    assert page["results"][0]["price"] == "39.90"
    found = client.get("/api/shopping/commodities?search=100%_").json()
    assert [c["name"] for c in found["results"]] == ["Python 编程 100%_特价"]
    assert client.get("/api/shopping/commodities?search=练习册&size=5").json()["count"] == 12


def test_anyone_reads_one_commodity(client):
    cid = make_commodity(name="错题本", price="5.00", stock=3)
    body = client.get(f"/api/shopping/commodities/{cid}/").json()
    assert body["name"] == "错题本" and body["price"] == "5.00" and body["stock"] == 3 and body["sales"] == 0
    assert body["create_time"].endswith("+08:00")
    assert client.get("/api/shopping/commodities/999999").status_code == 404
    assert client.get("/api/shopping/commodities/abc").status_code == 404


def test_superuser_creates_a_commodity_sales_are_read_only(client, superuser):
    response = client.as_user(superuser).post(
        "/api/shopping/commodities",
        json={
            "name": "算法导论",
            "price": "128.5",
            "stock": 20,
            "sales": 999,
            "description": "第三版",
            "image": "https://cdn.example.com/clrs.png",
            "id": 7,
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == COMMODITY_KEYS
    assert body["price"] == "128.50" and body["stock"] == 20 and body["sales"] == 0 and body["id"] != 7
    assert body["image"] == "https://cdn.example.com/clrs.png"


def test_students_and_teachers_cannot_write_commodities(client, student, teacher):
    cid = make_commodity()
    for user in (student, teacher):
        api = client.as_user(user)
        assert api.post("/api/shopping/commodities", json={"name": "x", "price": "1.00"}).status_code == 403
        assert api.patch(f"/api/shopping/commodities/{cid}", json={"stock": 1000}).status_code == 403
        assert api.delete(f"/api/shopping/commodities/{cid}").status_code == 403
    assert client.post("/api/shopping/commodities", json={"name": "x", "price": "1.00"}).status_code == 401
    assert client.get(f"/api/shopping/commodities/{cid}").json()["stock"] == 10


def test_invalid_commodity_bodies_are_400(client, superuser):
    api = client.as_user(superuser)
    for body, field in [
        ({"price": "1.00"}, "name"),
        ({"name": "x", "price": "-1"}, "price"),
        ({"name": "x", "price": "1.234"}, "price"),
        ({"name": "x", "price": "abc"}, "price"),
        ({"name": "x", "price": "1.00", "stock": -1}, "stock"),
        ({"name": "x", "price": "1.00", "image": "javascript:alert(1)"}, "image"),
    ]:
        response = api.post("/api/shopping/commodities", json=body)
        assert response.status_code == 400, body
        assert field in response.json()["errors"], response.json()


def test_superuser_updates_and_soft_deletes_a_commodity(client, superuser):
    cid = make_commodity(name="旧名字", price="10.00", stock=5)
    api = client.as_user(superuser)
    patched = api.patch(f"/api/shopping/commodities/{cid}", json={"price": "12.00", "sales": 50})
    assert patched.status_code == 200
    assert patched.json()["price"] == "12.00" and patched.json()["name"] == "旧名字" and patched.json()["sales"] == 0
    put = api.put(f"/api/shopping/commodities/{cid}", json={"name": "新名字", "price": "11.00", "stock": 8})
    assert put.status_code == 200 and put.json()["name"] == "新名字" and put.json()["stock"] == 8
    assert api.delete(f"/api/shopping/commodities/{cid}").status_code == 204
    assert client.get(f"/api/shopping/commodities/{cid}").status_code == 404
    assert client.get("/api/shopping/commodities").json()["count"] == 0
    assert api.patch(f"/api/shopping/commodities/{cid}", json={"stock": 1}).status_code == 404


# --- cart ---------------------------------------------------------------------------------------


def test_cart_needs_a_login(client):
    assert client.get("/api/shopping/cart").status_code == 401
    assert client.post("/api/shopping/cart", json={"commodity": 1}).status_code == 401


def test_posting_a_commodity_creates_a_cart_row_and_posting_again_adds_to_it(client, student):
    cid = make_commodity(name="草稿纸", price="2.50")
    api = client.as_user(student)
    first = api.post("/api/shopping/cart", json={"commodity": cid, "number": 2, "user": 999})
    assert first.status_code == 201, first.text
    assert first.json() == {
        "id": first.json()["id"],
        "commodity": cid,
        "commodity_name": "草稿纸",
        "price": "2.50",
        "number": 2,
    }
    second = api.post("/api/shopping/cart", json={"commodity": cid, "number": 3})
    assert second.json()["id"] == first.json()["id"] and second.json()["number"] == 5
    listing = api.get("/api/shopping/cart").json()
    assert listing["count"] == 1 and listing["results"][0]["number"] == 5


def test_concurrent_posts_of_one_commodity_end_in_one_row(client, student):
    from conftest import token_for

    cid = make_commodity()
    token = token_for(student)
    results = concurrently(
        [
            lambda http: http.post("/api/shopping/cart", json={"commodity": cid, "number": 1}, headers=bearer(token))
            for _ in range(8)
        ]
    )
    assert [r.status_code for r in results] == [201] * 8, [r.text for r in results]
    listing = client.as_user(student).get("/api/shopping/cart").json()
    assert listing["count"] == 1 and listing["results"][0]["number"] == 8


def test_cart_number_must_be_at_least_one_and_the_commodity_must_exist(client, student, superuser):
    cid = make_commodity()
    api = client.as_user(student)
    for body in (
        {"commodity": cid, "number": 0},
        {"commodity": cid, "number": -2},
        {"commodity": 999999},
        {"number": 1},
    ):
        assert api.post("/api/shopping/cart", json=body).status_code == 400, body
    client.as_user(superuser).delete(f"/api/shopping/commodities/{cid}")
    gone = api.post("/api/shopping/cart", json={"commodity": cid})
    assert gone.status_code == 400 and gone.json()["code"] == "invalid_commodity"
    row = api.post("/api/shopping/cart", json={"commodity": make_commodity()}).json()
    assert api.patch(f"/api/shopping/cart/{row['id']}", json={"number": 0}).status_code == 400


def test_owner_reads_changes_and_deletes_a_cart_row(client, student):
    api = client.as_user(student)
    row = api.post("/api/shopping/cart", json={"commodity": make_commodity(), "number": 1}).json()
    assert api.get(f"/api/shopping/cart/{row['id']}").json() == row
    assert api.put(f"/api/shopping/cart/{row['id']}", json={"number": 4}).json()["number"] == 4
    assert api.patch(f"/api/shopping/cart/{row['id']}", json={"number": 3}).json()["number"] == 3
    assert api.delete(f"/api/shopping/cart/{row['id']}").status_code == 204
    assert api.get(f"/api/shopping/cart/{row['id']}").status_code == 404


def test_another_users_cart_row_is_404_and_not_listed(client, student, make_user):
    other = make_user("student")
    row = client.as_user(other).post("/api/shopping/cart", json={"commodity": make_commodity()}).json()
    api = client.as_user(student)
    assert api.get(f"/api/shopping/cart/{row['id']}").status_code == 404
    assert api.put(f"/api/shopping/cart/{row['id']}", json={"number": 9}).status_code == 404
    assert api.delete(f"/api/shopping/cart/{row['id']}").status_code == 404
    assert api.get("/api/shopping/cart").json()["count"] == 0
    assert client.as_user(other).get(f"/api/shopping/cart/{row['id']}").json()["number"] == 1


def test_demo_seed_adds_commodities_once(client):
    from studyhub.core.db import session_scope
    from studyhub.domain.shopping.demo import seed_demo_commodities
    from studyhub.ops.seed import DEMO_SEEDERS

    assert seed_demo_commodities in DEMO_SEEDERS
    with session_scope() as session:
        assert seed_demo_commodities(session) == 5
    with session_scope() as session:
        assert seed_demo_commodities(session) == 0
    listing = client.get("/api/shopping/commodities").json()
    assert listing["count"] == 5 and all(c["stock"] > 0 for c in listing["results"])
