"""API.md §6 (issue 11, finding 10): no inconsistent rows. Cart rows of a deleted commodity leave
the cart (not listed, read, changed or ordered); nothing below Alipay's minimum of 0.01 is sold,
ordered or sent to be paid."""

from decimal import Decimal

import pytest
from shopping_fixtures import commodity_state, count_rows, make_address, make_cart_row, make_commodity, place_order


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["detail"] and body["code"]
    if code is not None:
        assert body["code"] == code, body
    return body


def delete_commodity(client, superuser, commodity_id: int) -> None:
    assert client.as_user(superuser).delete(f"/api/shopping/commodities/{commodity_id}").status_code == 204


def test_cart_rows_of_a_deleted_commodity_disappear_from_the_cart(client, student, superuser):
    gone, kept = make_commodity("绝版书", "20.00", 5), make_commodity("错题本", "5.00", 5)
    api = client.as_user(student)
    gone_row = api.post("/api/shopping/cart", json={"commodity": gone, "number": 2}).json()["id"]
    kept_row = api.post("/api/shopping/cart", json={"commodity": kept}).json()["id"]
    delete_commodity(client, superuser, gone)

    listing = api.get("/api/shopping/cart").json()
    assert listing["count"] == 1 and [row["id"] for row in listing["results"]] == [kept_row]
    assert_error(api.get(f"/api/shopping/cart/{gone_row}"), 404, "not_found")
    assert_error(api.patch(f"/api/shopping/cart/{gone_row}", json={"number": 3}), 404, "not_found")
    assert_error(api.put(f"/api/shopping/cart/{gone_row}", json={"number": 3}), 404, "not_found")
    assert_error(api.delete(f"/api/shopping/cart/{gone_row}"), 404, "not_found")
    assert api.get(f"/api/shopping/cart/{kept_row}").json()["commodity_name"] == "错题本"
    # posting it again is refused: it is no longer for sale
    assert_error(api.post("/api/shopping/cart", json={"commodity": gone}), 400, "invalid_commodity")


def test_a_cart_row_of_a_deleted_commodity_can_not_be_ordered(client, student, superuser):
    from studyhub.models.shopping import Order

    gone, kept = make_commodity("绝版书", "20.00", 5), make_commodity("错题本", "5.00", 5)
    api = client.as_user(student)
    gone_row = api.post("/api/shopping/cart", json={"commodity": gone}).json()["id"]
    kept_row = api.post("/api/shopping/cart", json={"commodity": kept}).json()["id"]
    delete_commodity(client, superuser, gone)
    address = make_address(student)

    for rows in ([gone_row], [kept_row, gone_row]):
        assert_error(place_order(api, rows, address), 400, "invalid_cart")
    assert count_rows(Order) == 0
    assert commodity_state(gone) == (5, 0) and commodity_state(kept) == (5, 0)  # nothing taken
    placed = place_order(api, [kept_row], address)
    assert placed.status_code == 201 and placed.json()["total_amount"] == "5.00"


@pytest.mark.parametrize("price", ["0", "0.00", "0.001", 0, "-0.01"])
def test_a_commodity_priced_below_one_cent_can_not_be_created(client, superuser, price):
    from studyhub.models.shopping import Commodity

    admin = client.as_user(superuser)
    body = assert_error(admin.post("/api/shopping/commodities", json={"name": "赠品", "price": price}), 400)
    assert "price" in body["errors"]
    assert count_rows(Commodity) == 0


def test_a_commodity_can_not_be_repriced_below_one_cent_but_one_cent_is_fine(client, superuser):
    admin = client.as_user(superuser)
    commodity = make_commodity("书签", "1.00")
    for price in ("0.00", "0"):
        assert (
            "price"
            in assert_error(admin.patch(f"/api/shopping/commodities/{commodity}", json={"price": price}), 400)["errors"]
        )
        put = admin.put(f"/api/shopping/commodities/{commodity}", json={"name": "书签", "price": price})
        assert "price" in assert_error(put, 400)["errors"]
    assert admin.get(f"/api/shopping/commodities/{commodity}").json()["price"] == "1.00"
    assert admin.patch(f"/api/shopping/commodities/{commodity}", json={"price": "0.01"}).json()["price"] == "0.01"
    created = admin.post("/api/shopping/commodities", json={"name": "贴纸", "price": "0.01"})
    assert created.status_code == 201 and created.json()["price"] == "0.01"


def test_an_order_totalling_below_one_cent_is_400_and_changes_nothing(client, student):
    """A commodity stored at 0.00 before prices had a minimum can still sit in a cart."""
    from studyhub.models.shopping import Order

    free = make_commodity("旧赠品", "0.00", 5)
    row = make_cart_row(student, free, 2)
    api = client.as_user(student)
    assert_error(place_order(api, [row], make_address(student)), 400, "order_too_small")
    assert count_rows(Order) == 0 and commodity_state(free) == (5, 0)
    assert api.get(f"/api/shopping/cart/{row}").json()["number"] == 2  # the cart row is still there


def test_no_pay_url_for_an_order_below_one_cent(client, student, alipay):
    """An order stored at 0.00 before the minimum: Alipay would refuse it, so no pay URL."""
    from conftest import store

    from studyhub.models.shopping import Order

    order = store(
        Order(
            order_id="20261124130509000000000101",
            user_id=student.id,
            address="广东省 广州市",
            total_count=1,
            total_amount=Decimal("0.00"),
            pay_method=1,
            status=1,
        )
    )
    assert_error(client.as_user(student).get(f"/api/shopping/payments/{order.order_id}/pay"), 409, "order_too_small")
