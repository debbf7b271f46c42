"""The shopping function: commodities, cart, orders, Alipay payments (API.md §6). Routes only.

Writes that race other buyers (adding to the cart, placing, cancelling and paying an order) are
registered with ``retry=True``: the binder runs each in a transaction retried whole on deadlock.
"""

from studyhub.domain.shopping import cart, commodities, orders, payments
from studyhub.domain.shopping.schemas import (
    AlipaySigned,
    CartIn,
    CartRowPublic,
    CartUpdate,
    CommodityFilters,
    CommodityIn,
    CommodityPatch,
    CommodityPublic,
    OrderIn,
    OrderPublic,
    PaymentPublic,
    PaymentReturnPublic,
    PayUrlPublic,
)
from studyhub.http import Created, NoContent, Req, create_app, paginate, text_response
from studyhub.http.routedoc import FORM, TEXT

ORDER_ID = {"order_id": {"type": "string", "pattern": "^[0-9]{1,32}$"}}

app, api = create_app("shopping")
api.health()


# --- commodities --------------------------------------------------------------------------


@api.route(
    "/shopping/commodities",
    methods=["GET", "POST"],
    summary={"GET": "商品列表", "POST": "上架商品（超级用户）"},
    auth={"GET": "none"},
    query={"GET": CommodityFilters},
    paginated={"GET": True},
    body={"POST": CommodityIn},
    response=CommodityPublic,
    status={"POST": 201},
    errors={"POST": (403,)},
)
def commodity_collection(req: Req):
    if req.method == "POST":
        return Created(commodities.create(req.session, req.user, req.parse(CommodityIn)))
    return paginate(
        req,
        commodities.listing_query(req.query.get("search") or ""),
        lambda rows: [commodities.serialize(c) for c in rows],
    )


@api.route(
    "/shopping/commodities/{id}",
    methods=["GET", "PUT", "PATCH", "DELETE"],
    summary={"GET": "一件商品", "PUT": "修改商品", "PATCH": "修改商品（部分）", "DELETE": "下架商品"},
    auth={"GET": "none"},
    body={"PUT": CommodityIn, "PATCH": CommodityPatch},
    response=CommodityPublic,
    status={"DELETE": 204},
    errors={"PUT": (403,), "PATCH": (403,), "DELETE": (403,)},
)
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


@api.route("/shopping/cart", methods=["GET"], summary="我的购物车", paginated=True, response=CartRowPublic)
def cart_collection(req: Req):
    caller = req.user
    return paginate(req, cart.owned_query(caller), lambda rows: cart.serialize_page(req.session, rows))


@api.route(
    "/shopping/cart",
    methods=["POST"],
    retry=True,
    summary="加入购物车（已有则累加数量）",
    body=CartIn,
    response=CartRowPublic,
    status=201,
)
def cart_add(req: Req):
    return Created(cart.add(req.session, req.user, req.parse(CartIn)))


@api.route(
    "/shopping/cart/{id}",
    methods=["GET", "PUT", "PATCH", "DELETE"],
    summary={"GET": "购物车的一行", "PUT": "修改数量", "PATCH": "修改数量", "DELETE": "移出购物车"},
    body={"PUT": CartUpdate, "PATCH": CartUpdate},
    response=CartRowPublic,
    status={"DELETE": 204},
)
def cart_item(req: Req, id: int):
    caller = req.user
    if req.method == "GET":
        return cart.detail(req.session, caller, id)
    if req.method == "DELETE":
        cart.delete(req.session, caller, id)
        return NoContent()
    return cart.update(req.session, caller, id, req.parse(CartUpdate))


# --- orders -------------------------------------------------------------------------------


@api.route("/shopping/orders", methods=["GET"], summary="我的订单", paginated=True, response=OrderPublic)
def order_collection(req: Req):
    caller = req.user
    return paginate(req, orders.owned_query(caller), lambda rows: orders.serialize_page(req.session, rows))


@api.route(
    "/shopping/orders",
    methods=["POST"],
    retry=True,
    summary="用购物车的行下单",
    body=OrderIn,
    response=OrderPublic,
    status=201,
)
def order_place(req: Req):
    return Created(orders.place_order(req.session, req.user, req.parse(OrderIn)))


@api.route(
    "/shopping/orders/status",
    methods=["PUT"],
    retry=True,
    summary="支付宝同步返回（查询串为支付宝签名的参数）",
    query=AlipaySigned,
    response=PaymentReturnPublic,
    errors=(403, 409),
)
def order_paid_return(req: Req):
    """The browser's return from Alipay: its signed query string marks the order paid."""
    return payments.handle_return(req.session, req.user, req.query)


@api.route(
    "/shopping/orders/{order_id}", methods=["GET"], summary="一个订单", response=OrderPublic, path_params=ORDER_ID
)
def order_item(req: Req, order_id: str):
    return orders.detail(req.session, req.user, order_id)


@api.route(
    "/shopping/orders/{order_id}/cancel",
    methods=["POST"],
    retry=True,
    summary="取消未支付的订单",
    response=OrderPublic,
    path_params=ORDER_ID,
    errors=(409,),
)
def order_cancel(req: Req, order_id: str):
    return orders.cancel(req.session, req.user, order_id)


# --- payments -----------------------------------------------------------------------------


@api.route("/shopping/payments", methods=["GET"], summary="我的支付记录", paginated=True, response=PaymentPublic)
def payment_collection(req: Req):
    return paginate(req, payments.owned_query(req.user), lambda rows: [payments.serialize(p) for p in rows])


@api.route(
    "/shopping/payments/{order_id}/pay",
    methods=["GET"],
    summary="未支付订单的支付宝支付链接",
    response=PayUrlPublic,
    path_params=ORDER_ID,
)
def payment_pay_url(req: Req, order_id: str):
    return payments.pay_url(req.session, req.user, order_id)


@api.route(
    "/shopping/payments/notify",
    methods=["POST"],
    retry=True,
    summary="支付宝异步通知",
    auth="none",
    body=FORM,
    form=AlipaySigned,
    response=TEXT,
)
def payment_notify(req: Req):
    """Alipay's asynchronous notification: form fields in, ``success``/``failure`` out."""
    payments.handle_notification(req.session, req.form_fields())
    return text_response("success")
