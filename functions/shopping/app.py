"""The shopping function: commodities, cart, orders, Alipay payments (API.md §6). Routes only.

Placing, cancelling and paying run in their own transactions through ``run_in_transaction``
(retried whole on deadlock), so those routes never open the binder's per-request session.
"""
from urllib.parse import parse_qsl

from chalice import Response

from chalicelib import cart, commodities, orders, payments
from chalicelib.schemas import CartIn, CartUpdate, CommodityIn, CommodityPatch, OrderIn
from chalicelib.transactions import in_transaction, transaction_caller
from studyhub import errors
from studyhub.web import Created, NoContent, Req, create_app, paginate

app, api = create_app("shopping")
api.health()

TEXT_PLAIN = {"Content-Type": "text/plain; charset=utf-8"}


# --- commodities --------------------------------------------------------------------------

@api.route("/shopping/commodities", methods=["GET", "POST"])
def commodity_collection(req: Req):
    if req.method == "POST":
        return Created(commodities.create(req.session, req.user, req.parse(CommodityIn)))
    return paginate(req, commodities.listing_query(req.query),
                    lambda rows: [commodities.serialize(c) for c in rows])


@api.route("/shopping/commodities/{id}", methods=["GET", "PUT", "PATCH", "DELETE"])
def commodity_item(req: Req, id: str):
    if req.method == "GET":
        return commodities.serialize(commodities.get_live(req.session, id))
    if req.method == "DELETE":
        commodities.delete(req.session, req.user, id)
        return NoContent()
    caller = req.user
    body = req.parse(CommodityIn) if req.method == "PUT" else req.parse(CommodityPatch)
    return commodities.update(req.session, caller, id, body)


# --- cart ---------------------------------------------------------------------------------

@api.route("/shopping/cart", methods=["GET", "POST"])
def cart_collection(req: Req):
    if req.method == "POST":
        caller = transaction_caller(req)
        body = req.parse(CartIn)
        return Created(in_transaction(lambda session: cart.add(session, caller, body), again_on_duplicate=True))
    caller = req.user
    return paginate(req, cart.owned_query(caller), lambda rows: cart.serialize_page(req.session, rows))


@api.route("/shopping/cart/{id}", methods=["GET", "PUT", "PATCH", "DELETE"])
def cart_item(req: Req, id: str):
    caller = req.user
    if req.method == "GET":
        return cart.detail(req.session, caller, id)
    if req.method == "DELETE":
        cart.delete(req.session, caller, id)
        return NoContent()
    return cart.update(req.session, caller, id, req.parse(CartUpdate))


# --- orders -------------------------------------------------------------------------------

@api.route("/shopping/orders", methods=["GET", "POST"])
def order_collection(req: Req):
    if req.method == "POST":
        caller = transaction_caller(req)
        body = req.parse(OrderIn)
        return Created(in_transaction(lambda session: orders.place_order(session, caller, body)))
    caller = req.user
    return paginate(req, orders.owned_query(caller), lambda rows: orders.serialize_page(req.session, rows))


@api.route("/shopping/orders/status", methods=["PUT"])
def order_paid_return(req: Req):
    caller = transaction_caller(req)
    params = req.query
    from studyhub.payments import get_alipay

    get_alipay()  # 503 when Alipay isn't configured
    if not params.get("sign"):
        raise errors.Invalid.field("sign", "缺少签名。", code="signature_required")
    try:
        payments.check_signed(params)
    except payments.Rejected:
        raise errors.Forbidden("签名验证失败", code="invalid_signature") from None
    return in_transaction(lambda session: payments.handle_return(session, caller, params))


@api.route("/shopping/orders/{order_id}", methods=["GET"])
def order_item(req: Req, order_id: str):
    return orders.detail(req.session, req.user, order_id)


@api.route("/shopping/orders/{order_id}/cancel", methods=["POST"])
def order_cancel(req: Req, order_id: str):
    caller = transaction_caller(req)
    return in_transaction(lambda session: orders.cancel(session, caller, order_id))


# --- payments -----------------------------------------------------------------------------

@api.route("/shopping/payments", methods=["GET"])
def payment_collection(req: Req):
    return paginate(req, payments.owned_query(req.user), lambda rows: [payments.serialize(p) for p in rows])


@api.route("/shopping/payments/{order_id}/pay", methods=["GET"])
def payment_pay_url(req: Req, order_id: str):
    return payments.pay_url(req.session, req.user, order_id)


@api.route("/shopping/payments/notify", methods=["POST"], db=False)
def payment_notify(req: Req):
    """Alipay's asynchronous notification: form fields in, ``success``/``failure`` out."""
    from studyhub.payments import get_alipay

    get_alipay()  # 503 when Alipay isn't configured: Alipay retries later
    params = dict(parse_qsl(req.body_bytes().decode("utf-8", "replace"), keep_blank_values=True))
    try:
        payments.check_signed(params)
        # a duplicate that slipped past the order lock: running again finds the payment recorded
        in_transaction(lambda session: payments.handle_notification(session, params), again_on_duplicate=True)
    except payments.Rejected as rejected:
        payments.log.warning("alipay notification rejected: %s (order %s)",
                             rejected.reason, params.get("out_trade_no", "")[:32])
        return Response(body="failure", status_code=400, headers=TEXT_PLAIN)
    return Response(body="success", status_code=200, headers=TEXT_PLAIN)
