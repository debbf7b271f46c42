"""Stock is never oversold (API.md §6): 100 buyers at once, each its own HTTP request and
database session, through the real front door, on SQLite and on MariaDB."""

from collections import Counter

from shopping_fixtures import bearer, commodity_state, concurrently, count_rows, make_commodity

BUYERS = 100
STOCK = 30
ROUNDS = 5


def make_buyers(count: int) -> list[tuple[str, int]]:
    """``count`` students with an address each: ``[(token, address_id)]`` (arranged in bulk)."""
    from conftest import DEFAULT_PASSWORD, password_hash, token_for
    from shopping_fixtures import GUANGDONG, GUANGZHOU, TIANHE

    from studyhub.core.db import session_scope
    from studyhub.models.users import Address, User

    with session_scope() as session:
        users = [
            User(username=f"buyer{i}", password=password_hash(DEFAULT_PASSWORD), email=f"buyer{i}@example.com")
            for i in range(count)
        ]
        session.add_all(users)
        session.flush()
        addresses = [
            Address(
                user_id=u.id,
                province_id=GUANGDONG,
                city_id=GUANGZHOU,
                district_id=TIANHE,
                place=f"天河路 {u.id} 号",
                receiver="买家",
                mobile="13800138000",
            )
            for u in users
        ]
        session.add_all(addresses)
        session.flush()
        return [(token_for(u), a.id) for u, a in zip(users, addresses, strict=True)]


def fill_carts(buyers, lines_per_buyer) -> list[list[int]]:
    """Cart rows for every buyer, inserted in the given commodity order; their ids per buyer."""
    from studyhub.core.db import session_scope
    from studyhub.core.security import decode_token
    from studyhub.models.shopping import ShoppingCart

    with session_scope() as session:
        rows = []
        for (token, _), lines in zip(buyers, lines_per_buyer, strict=True):
            user_id = int(decode_token(token)["sub"])
            for commodity_id, number in lines:
                rows.append(ShoppingCart(user_id=user_id, commodity_id=commodity_id, number=number))
        session.add_all(rows)
        session.flush()
        by_user: dict[int, list[int]] = {}
        for row in rows:
            by_user.setdefault(row.user_id, []).append(row.id)
        return [by_user[int(decode_token(token)["sub"])] for token, _ in buyers]


def reset_round(*commodity_ids: int) -> None:
    from sqlalchemy import delete, update

    from studyhub.core.db import session_scope
    from studyhub.models.shopping import Commodity, Order, OrderGoods, ShoppingCart

    with session_scope() as session:
        session.execute(delete(OrderGoods))
        session.execute(delete(Order))
        session.execute(delete(ShoppingCart))
        session.execute(update(Commodity).where(Commodity.id.in_(commodity_ids)).values(stock=STOCK, sales=0))


def rush(buyers, carts):
    def order(token, address, cart):
        return lambda http: http.post(
            "/api/shopping/orders", json={"cart": cart, "address": address, "pay_method": 1}, headers=bearer(token)
        )

    results = concurrently([order(token, address, cart) for (token, address), cart in zip(buyers, carts, strict=True)])
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors[:3]
    return Counter((r.status_code, r.json().get("code") if r.status_code != 201 else None) for r in results)


def test_100_buyers_for_stock_30_make_exactly_30_orders(client):
    from studyhub.models.shopping import Order, OrderGoods

    cid = make_commodity(name="限量复习资料", price="19.90", stock=STOCK)
    buyers = make_buyers(BUYERS)
    for _ in range(ROUNDS):
        reset_round(cid)
        carts = fill_carts(buyers, [[(cid, 1)]] * BUYERS)

        outcome = rush(buyers, carts)

        assert outcome == {(201, None): STOCK, (400, "insufficient_stock"): BUYERS - STOCK}, outcome
        assert commodity_state(cid) == (0, STOCK)
        assert count_rows(Order) == STOCK and count_rows(OrderGoods) == STOCK


def test_multi_line_orders_in_opposite_cart_order_never_deadlock_or_oversell(client):
    from studyhub.models.shopping import Order, OrderGoods

    first, second = make_commodity(name="A 卷", stock=STOCK), make_commodity(name="B 卷", stock=STOCK)
    buyers = make_buyers(BUYERS)
    reset_round(first, second)
    # half the buyers put A in the cart first, half B first: the cart row ids come in opposite orders
    lines = [[(first, 1), (second, 1)] if i % 2 else [(second, 1), (first, 1)] for i in range(BUYERS)]
    carts = fill_carts(buyers, lines)
    carts = [cart if i % 3 else cart[::-1] for i, cart in enumerate(carts)]  # and the body lists vary too

    outcome = rush(buyers, carts)

    assert outcome == {(201, None): STOCK, (400, "insufficient_stock"): BUYERS - STOCK}, outcome
    assert commodity_state(first) == (0, STOCK) and commodity_state(second) == (0, STOCK)
    assert count_rows(Order) == STOCK and count_rows(OrderGoods) == 2 * STOCK
