"""The shopping function: commodities, cart, orders, Alipay payments (API.md §6). Routes only.

Writes that race other buyers (adding to the cart, placing, cancelling and paying an order) are
registered with ``retry=True``: the binder runs each in a transaction retried whole on deadlock.
"""

from studyhub.domain.shopping import cart, commodities, orders, payments
from studyhub.domain.shopping.schemas import CartIn, CartUpdate, CommodityIn, CommodityPatch, OrderIn
from studyhub.http import Created, NoContent, Req, create_app, paginate, text_response

app, api = create_app("shopping")
api.health()


# --- commodities --------------------------------------------------------------------------


@api.route("/shopping/commodities", methods=["GET", "POST"])
def commodity_collection(req: Req):
    if req.method == "POST":
        return Created(commodities.create(req.session, req.user, req.parse(CommodityIn)))
    return paginate(
        req,
        commodities.listing_query(req.query.get("search") or ""),
        lambda rows: [commodities.serialize(c) for c in rows],
    )


@api.route("/shopping/commodities/{id}", methods=["GET", "PUT", "PATCH", "DELETE"])
def commodity_item(req: Req, id: int):
    if req.method == "GET":
        return commodities.serialize(commodities.get_live(req.session, id))
    if req.method == "DELETE":
        commodities.delete(req.session, req.user, id)
        return NoContent()
    caller = req.user
    body = req.parse(CommodityIn) if req.method == "PUT" else req.parse(CommodityPatch)
    return commodities.update(req.session, caller, id, body)


# --- cart ---------------------------------------------------------------------------------


@api.route("/shopping/cart", methods=["GET"])
def cart_collection(req: Req):
    caller = req.user
    return paginate(req, cart.owned_query(caller), lambda rows: cart.serialize_page(req.session, rows))


@api.route("/shopping/cart", methods=["POST"], retry=True)
def cart_add(req: Req):
    return Created(cart.add(req.session, req.user, req.parse(CartIn)))


@api.route("/shopping/cart/{id}", methods=["GET", "PUT", "PATCH", "DELETE"])
def cart_item(req: Req, id: int):
    caller = req.user
    if req.method == "GET":
        return cart.detail(req.session, caller, id)
    if req.method == "DELETE":
        cart.delete(req.session, caller, id)
        return NoContent()
    return cart.update(req.session, caller, id, req.parse(CartUpdate))


# --- orders -------------------------------------------------------------------------------


@api.route("/shopping/orders", methods=["GET"])
def order_collection(req: Req):
    caller = req.user
    return paginate(req, orders.owned_query(caller), lambda rows: orders.serialize_page(req.session, rows))


@api.route("/shopping/orders", methods=["POST"], retry=True)
def order_place(req: Req):
    return Created(orders.place_order(req.session, req.user, req.parse(OrderIn)))


@api.route("/shopping/orders/status", methods=["PUT"], retry=True)
def order_paid_return(req: Req):
    """The browser's return from Alipay: its signed query string marks the order paid."""
    return payments.handle_return(req.session, req.user, req.query)


@api.route("/shopping/orders/{order_id}", methods=["GET"])
def order_item(req: Req, order_id: str):
    return orders.detail(req.session, req.user, order_id)


@api.route("/shopping/orders/{order_id}/cancel", methods=["POST"], retry=True)
def order_cancel(req: Req, order_id: str):
    return orders.cancel(req.session, req.user, order_id)


# --- payments -----------------------------------------------------------------------------


@api.route("/shopping/payments", methods=["GET"])
def payment_collection(req: Req):
    return paginate(req, payments.owned_query(req.user), lambda rows: [payments.serialize(p) for p in rows])


@api.route("/shopping/payments/{order_id}/pay", methods=["GET"])
def payment_pay_url(req: Req, order_id: str):
    return payments.pay_url(req.session, req.user, order_id)


@api.route("/shopping/payments/notify", methods=["POST"], retry=True)
def payment_notify(req: Req):
    """Alipay's asynchronous notification: form fields in, ``success``/``failure`` out."""
    payments.handle_notification(req.session, req.form_fields())
    return text_response("success")
