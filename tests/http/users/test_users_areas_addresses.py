"""API.md §2: areas of China (cached) and shipping addresses (owner only, chained areas)."""

import pytest

BEIJING, BEIJING_CITY, DONGCHENG = 110000, 110100, 110101
GUANGDONG, GUANGZHOU, TIANHE = 440000, 440100, 440106


def test_provinces_are_the_real_divisions_of_china_unpaginated(client):
    body = client.get("/api/users/area").json()
    assert isinstance(body, list) and len(body) >= 30
    names = {p["name"] for p in body}
    assert {"北京市", "广东省", "新疆维吾尔自治区"} <= names
    assert set(body[0]) == {"id", "name"}


def test_area_detail_with_subs(client):
    body = client.get(f"/api/users/area/{GUANGDONG}/").json()
    assert body["name"] == "广东省" and body["parent"] is None
    assert {"id": GUANGZHOU, "name": "广州市"} in body["subs"]
    city = client.get(f"/api/users/area/{GUANGZHOU}").json()
    assert city["parent"] == GUANGDONG and {"id": TIANHE, "name": "天河区"} in city["subs"]


def test_about_three_thousand_areas_are_loaded(platform):
    from sqlalchemy import func, select

    from studyhub.core.db import session_scope
    from studyhub.models.users import Area

    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Area)) > 3000


def test_area_reads_are_served_from_the_cache(client):
    from studyhub.clients.cache import get_cache

    client.get(f"/api/users/area/{GUANGDONG}")
    cached = get_cache().get(f"areas:{GUANGDONG}")
    assert cached["name"] == "广东省"
    get_cache().set(f"areas:{GUANGDONG}", {**cached, "name": "from-cache"}, ttl=60)
    assert client.get(f"/api/users/area/{GUANGDONG}").json()["name"] == "from-cache"
    client.get(f"/api/users/area/{GUANGZHOU}")
    assert 3500 < get_cache().ttl(f"areas:{GUANGZHOU}") <= 3600  # cached for one hour


def test_unknown_area_is_404(client):
    assert client.get("/api/users/area/1").status_code == 404
    assert client.get("/api/users/area/abc").status_code == 404


def address_body(**overrides):
    body = {
        "province": GUANGDONG,
        "city": GUANGZHOU,
        "district": TIANHE,
        "place": "天河路 1 号",
        "receiver": "张三",
        "mobile": "13800138000",
    }
    body.update(overrides)
    return body


def test_create_and_read_address(client, student):
    api = client.as_user(student)
    response = api.post("/api/users/address", json=address_body(user=999))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["user"] == student.id
    assert (body["province_name"], body["city_name"], body["district_name"]) == ("广东省", "广州市", "天河区")
    assert set(body) == {
        "id",
        "user",
        "province",
        "city",
        "district",
        "province_name",
        "city_name",
        "district_name",
        "place",
        "receiver",
        "mobile",
        "create_time",
        "update_time",
    }
    assert body["create_time"].endswith("+08:00")
    assert api.get(f"/api/users/address/{body['id']}").json() == body
    listing = api.get("/api/users/address").json()
    assert listing["count"] == 1 and listing["results"][0]["id"] == body["id"]


@pytest.mark.parametrize(
    "override,field",
    [
        ({"city": BEIJING_CITY}, "city"),
        ({"district": DONGCHENG}, "district"),
        ({"province": GUANGZHOU}, "province"),
        ({"province": 1}, "province"),
    ],
)
def test_areas_must_chain(client, student, override, field):
    response = client.as_user(student).post("/api/users/address", json=address_body(**override))
    assert response.status_code == 400 and field in response.json()["errors"]


@pytest.mark.parametrize("mobile", ["12800138000", "1380013800", "138001380001", "abc"])
def test_mobile_must_be_a_chinese_mobile_number(client, student, mobile):
    response = client.as_user(student).post("/api/users/address", json=address_body(mobile=mobile))
    assert response.status_code == 400 and "mobile" in response.json()["errors"]


def test_missing_fields_are_listed(client, student):
    response = client.as_user(student).post("/api/users/address", json={})
    assert response.status_code == 400
    assert {"province", "city", "district", "place", "receiver", "mobile"} <= set(response.json()["errors"])


def test_others_addresses_are_404(client, make_user):
    owner, other = make_user("student"), make_user("student")
    address_id = client.as_user(owner).post("/api/users/address", json=address_body()).json()["id"]
    api = client.as_user(other)
    assert api.get(f"/api/users/address/{address_id}").status_code == 404
    assert api.patch(f"/api/users/address/{address_id}", json={"place": "x"}).status_code == 404
    assert api.delete(f"/api/users/address/{address_id}").status_code == 404
    assert api.get("/api/users/address").json()["count"] == 0


def test_update_address_put_and_patch(client, student):
    api = client.as_user(student)
    address_id = api.post("/api/users/address", json=address_body()).json()["id"]
    patched = api.patch(f"/api/users/address/{address_id}", json={"receiver": "李四"})
    assert patched.status_code == 200 and patched.json()["receiver"] == "李四"
    moved = api.put(
        f"/api/users/address/{address_id}", json=address_body(province=BEIJING, city=BEIJING_CITY, district=DONGCHENG)
    )
    assert moved.status_code == 200 and moved.json()["city_name"] == "北京市"
    bad = api.patch(f"/api/users/address/{address_id}", json={"city": GUANGZHOU})
    assert bad.status_code == 400
    incomplete = api.put(f"/api/users/address/{address_id}", json={"receiver": "x"})
    assert incomplete.status_code == 400


def test_delete_address_is_soft_and_then_404(client, student):
    api = client.as_user(student)
    address_id = api.post("/api/users/address", json=address_body()).json()["id"]
    assert api.delete(f"/api/users/address/{address_id}").status_code == 204
    assert api.get(f"/api/users/address/{address_id}").status_code == 404
    assert api.get("/api/users/address").json()["count"] == 0


def test_addresses_need_authentication(client):
    assert client.get("/api/users/address").status_code == 401
