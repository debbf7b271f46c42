"""API.md §6: after payment — an operator ships (2 → 3), the buyer receives (3 → 4) and finishes
(4 → 5), each change once; shipped orders are received by the cleanup job after
ORDER_AUTO_RECEIVE_DAYS; operators read everyone's orders; a commodity image is uploaded; on SQLite
a cart row's id is never handed out again."""

import io

from shopping_fixtures import buy, concurrently, make_commodity, order_row


def cash_order(client, user, **kw) -> dict:
    """A cash-on-delivery order: paid (2) as placed, ready to ship."""
    return buy(client.as_user(user), user, make_commodity(**kw), pay_method=2)


def post(api, order, step):
    return api.post(f"/api/shopping/orders/{order['order_id']}/{step}")


# --- ship / receive / finish ------------------------------------------------------------------


def test_an_order_goes_paid_shipped_received_finished(client, student, superuser):
    order = cash_order(client, student)
    assert order["status"] == 2

    shipped = post(client.as_user(superuser), order, "ship")
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["status"] == 3 and order_row(order["order_id"]).shipped_at is not None

    received = post(client.as_user(student), order, "receive")
    assert received.status_code == 200 and received.json()["status"] == 4

    finished = post(client.as_user(student), order, "finish")
    assert finished.status_code == 200 and finished.json()["status"] == 5
    assert client.as_user(student).get(f"/api/shopping/orders/{order['order_id']}").json()["status"] == 5


def test_each_step_from_the_wrong_status_is_409_and_changes_nothing(client, student, superuser):
    unpaid = buy(client.as_user(student), student, make_commodity())  # Alipay, status 1
    response = post(client.as_user(superuser), unpaid, "ship")
    assert response.status_code == 409 and response.json()["code"] == "order_not_shippable"
    assert order_row(unpaid["order_id"]).status == 1

    paid = cash_order(client, student)
    for step, code in (("receive", "order_not_receivable"), ("finish", "order_not_finishable")):
        response = post(client.as_user(student), paid, step)
        assert response.status_code == 409 and response.json()["code"] == code, response.text
    assert post(client.as_user(superuser), paid, "ship").status_code == 200
    again = post(client.as_user(superuser), paid, "ship")
    assert again.status_code == 409 and again.json()["code"] == "order_not_shippable"
    assert order_row(paid["order_id"]).status == 3


def test_only_a_superuser_ships_and_only_the_owner_receives(client, student, teacher, superuser, make_user):
    order = cash_order(client, student)
    assert post(client.as_user(student), order, "ship").status_code == 403
    assert post(client.as_user(teacher), order, "ship").status_code == 403
    assert post(client.as_user(superuser), order, "ship").status_code == 200

    other = make_user("student")
    assert post(client.as_user(other), order, "receive").status_code == 404  # not theirs: not there
    assert post(client.as_user(superuser), order, "receive").status_code == 403  # sees it, can't confirm
    assert client.post(f"/api/shopping/orders/{order['order_id']}/receive").status_code == 401
    assert post(client.as_user(superuser), {"order_id": "1" * 26}, "ship").status_code == 404
    assert order_row(order["order_id"]).status == 3


def test_two_operators_shipping_at_once_ship_once(client, student, superuser):
    from conftest import token_for
    from shopping_fixtures import bearer

    order = cash_order(client, student)
    headers = bearer(token_for(superuser))
    url = f"/api/shopping/orders/{order['order_id']}/ship"
    results = concurrently([lambda http: http.post(url, headers=headers) for _ in range(4)])
    assert sorted(r.status_code for r in results) == [200, 409, 409, 409]


def test_the_cleanup_job_receives_orders_shipped_long_ago(client, student, superuser, monkeypatch):
    from datetime import timedelta

    from sqlalchemy import update

    from studyhub.core import config
    from studyhub.core.db import session_scope
    from studyhub.domain.shopping.cleanup import run_cleanup
    from studyhub.models.base import utcnow
    from studyhub.models.shopping import Order

    old, recent = cash_order(client, student), cash_order(client, student)
    for order in (old, recent):
        assert post(client.as_user(superuser), order, "ship").status_code == 200
    monkeypatch.setenv("ORDER_AUTO_RECEIVE_DAYS", "3")
    config.reset()
    with session_scope() as session:
        session.execute(
            update(Order)
            .where(Order.order_id == old["order_id"])
            .values(shipped_at=utcnow() - timedelta(days=3, minutes=1))
        )
        session.execute(
            update(Order).where(Order.order_id == recent["order_id"]).values(shipped_at=utcnow() - timedelta(days=2))
        )
    try:
        assert run_cleanup()["received"] == 1
        assert run_cleanup()["received"] == 0
    finally:
        monkeypatch.delenv("ORDER_AUTO_RECEIVE_DAYS")
        config.reset()
    assert (order_row(old["order_id"]).status, order_row(recent["order_id"]).status) == (4, 3)
    assert post(client.as_user(student), old, "finish").json()["status"] == 5


# --- operators read everyone's orders ---------------------------------------------------------------


def test_operators_read_every_users_orders_with_filters_owners_only_their_own(client, student, superuser, make_user):
    other = make_user("student")
    paid = cash_order(client, student)
    unpaid = buy(client.as_user(student), student, make_commodity())
    theirs = cash_order(client, other)
    root = client.as_user(superuser)

    def ids(api, query=""):
        response = api.get(f"/api/shopping/orders{query}")
        assert response.status_code == 200, response.text
        return {o["order_id"] for o in response.json()["results"]}

    assert ids(root) == {paid["order_id"], unpaid["order_id"], theirs["order_id"]}
    assert ids(root, f"?status=2&user={student.id}") == {paid["order_id"]}
    assert ids(root, "?status=2") == {paid["order_id"], theirs["order_id"]}
    assert ids(root, f"?user={other.id}") == {theirs["order_id"]}
    assert root.get(f"/api/shopping/orders/{theirs['order_id']}").status_code == 200

    assert ids(client.as_user(student)) == {paid["order_id"], unpaid["order_id"]}
    assert ids(client.as_user(student), "?status=1") == {unpaid["order_id"]}
    assert ids(client.as_user(student), f"?user={other.id}") == set()
    assert client.as_user(student).get(f"/api/shopping/orders/{theirs['order_id']}").status_code == 404
    for bad in ("?status=9", "?status=x", "?user=0"):
        response = root.get(f"/api/shopping/orders{bad}")
        assert response.status_code == 400 and response.json()["code"] == "invalid_filter", bad


# --- commodity image --------------------------------------------------------------------------------


def png(color=(200, 30, 30)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buffer, "PNG")
    return buffer.getvalue()


def stored_files(stack) -> list:
    root = stack.var_dir / "media" / "commodities"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_a_superuser_uploads_a_commodity_image_and_the_old_file_goes(client, superuser, platform):
    cid = make_commodity()
    root = client.as_user(superuser)
    first = root.post(f"/api/shopping/commodities/{cid}/image", files={"file": ("a.png", png(), "image/png")})
    assert first.status_code == 200, first.text
    url = first.json()["data"]
    assert url.endswith(".png")
    assert client.get(f"/api/shopping/commodities/{cid}").json()["image"] == url
    assert len(stored_files(platform)) == 1  # both stacks store files under var/media (STORAGE_URL unset)
    assert client.get(url).content == png()

    second = root.post(f"/api/shopping/commodities/{cid}/image", files={"file": ("b.png", png((0, 0, 0)), "image/png")})
    assert second.status_code == 200 and second.json()["data"] != url
    assert client.get(f"/api/shopping/commodities/{cid}").json()["image"] == second.json()["data"]
    assert len(stored_files(platform)) == 1  # the first file was deleted after the commit


def test_a_bad_commodity_image_is_refused_and_nothing_is_stored(client, superuser, student, platform):
    cid = make_commodity()
    root = client.as_user(superuser)
    not_image = root.post(f"/api/shopping/commodities/{cid}/image", files={"file": ("a.png", b"<svg/>", "image/png")})
    assert not_image.status_code == 415
    no_file = root.post(f"/api/shopping/commodities/{cid}/image", files={"other": ("a.png", png(), "image/png")})
    assert no_file.status_code == 400 and no_file.json()["code"] == "file_required"
    student_upload = client.as_user(student).post(
        f"/api/shopping/commodities/{cid}/image", files={"file": ("a.png", png(), "image/png")}
    )
    assert student_upload.status_code == 403
    missing = root.post("/api/shopping/commodities/999999/image", files={"file": ("a.png", png(), "image/png")})
    assert missing.status_code == 404
    assert client.get(f"/api/shopping/commodities/{cid}").json()["image"] is None
    assert stored_files(platform) == []


# --- SQLite ids ---------------------------------------------------------------------------------------


def test_a_cart_row_id_is_never_handed_out_again(client, student):
    """Issue 13: on SQLite three carts in a row got id 1 (a replayed order request could buy the
    wrong thing). Ordered or deleted, a cart row's id is gone for good."""
    from shopping_fixtures import make_address, place_order

    api = client.as_user(student)
    cid = make_commodity(stock=100)
    seen = []
    for _ in range(3):
        row = api.post("/api/shopping/cart", json={"commodity": cid}).json()["id"]
        seen.append(row)
        assert place_order(api, [row], make_address(student), 2).status_code == 201
    deleted = api.post("/api/shopping/cart", json={"commodity": cid}).json()["id"]
    assert api.delete(f"/api/shopping/cart/{deleted}").status_code == 204
    seen.append(deleted)
    seen.append(api.post("/api/shopping/cart", json={"commodity": cid}).json()["id"])
    assert len(set(seen)) == len(seen), seen

    replay = place_order(api, [seen[0]], make_address(student), 2)
    assert replay.status_code == 400 and replay.json()["code"] == "invalid_cart"
