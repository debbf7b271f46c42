"""The shopping function: commodities, cart, orders, Alipay payments (API.md §6). Routes only.

Writes that race other buyers (adding to the cart, placing, cancelling and paying an order) are
registered with ``retry=True``: the binder runs each in a transaction retried whole on deadlock.
"""

from studyhub.core.lazy import lazy_function, lazy_module
from studyhub.domain.shopping.limits import NAME_MAX_LENGTH
from studyhub.http import Created, NoContent, Req, create_app, int_param, paginate, text_response
from studyhub.http.pagination import paginate_rows
from studyhub.http.params import bool_param, text_param
from studyhub.http.routedoc import FORM, TEXT, UPLOAD

# The group's pydantic models: route declarations name them ("XIn", resolved by the OpenAPI
# generator); a view that validates a body or a filter imports them on its first use.
schemas = lazy_module("studyhub.domain.shopping.schemas")
# Imported by the first route that uses them: a cold start loads the ORM only when a route needs it.
cart = lazy_module("studyhub.domain.shopping.cart")
commodities = lazy_module("studyhub.domain.shopping.commodities")
commodity_reads = lazy_module("studyhub.domain.shopping.commodity_reads")  # on Core: no ORM, no schemas
commodity_images = lazy_module("studyhub.domain.shopping.commodity_images")
fulfilment = lazy_module("studyhub.domain.shopping.fulfilment")
orders = lazy_module("studyhub.domain.shopping.orders")
payments = lazy_module("studyhub.domain.shopping.payments")
refunds = lazy_module("studyhub.domain.shopping.refunds")
session_scope = lazy_function("studyhub.core.db", "session_scope")

ORDER_ID = {"order_id": {"type": "string", "pattern": "^[0-9]{1,32}$"}}
# the pay URL's path names an order in the place where the detail route names a payment: one
# variable name for both (API Gateway allows a single variable per path level)
PAY_ORDER_ID = {"id": {"type": "string", "pattern": "^[0-9]{1,32}$", "description": "订单号 order_id"}}

app, api = create_app("shopping")
# where the routes' model names resolve (reading __name__ imports nothing); FileUrlPublic: shared
app.schemas = (schemas.__name__, "studyhub.domain.schema")
api.health()


# --- commodities --------------------------------------------------------------------------


@api.route(
    "/shopping/commodities",
    methods=["GET", "POST"],
    summary={"GET": "商品列表", "POST": "上架商品（超级用户）"},
    auth={"GET": "none"},
    query={"GET": "CommodityFilters"},
    paginated={"GET": True},
    body={"POST": "CommodityIn"},
    response="CommodityPublic",
    status={"POST": 201},
    errors={"POST": (403,)},
)
def commodity_collection(req: Req):
    if req.method == "POST":
        return Created(commodities.create(req.session, req.user, req.parse(schemas.CommodityIn)))
    search = text_param(req.query, "search", NAME_MAX_LENGTH)  # CommodityFilters.search's max_length
    page, count, params = commodity_reads.listing(search)
    return paginate_rows(req, page, count, commodity_reads.serialize_rows, params=params)


@api.route(
    "/shopping/commodities/{id}",
    methods=["GET", "PUT", "PATCH", "DELETE"],
    summary={"GET": "一件商品", "PUT": "修改商品", "PATCH": "修改商品（部分）", "DELETE": "下架商品"},
    auth={"GET": "none"},
    body={"PUT": "CommodityIn", "PATCH": "CommodityPatch"},
    response="CommodityPublic",
    status={"DELETE": 204},
    errors={"PUT": (403,), "PATCH": (403,), "DELETE": (403,)},
)
def commodity_item(req: Req, id: int):
    if req.method == "GET":
        return commodity_reads.read(req.connection, id)
    if req.method == "DELETE":
        commodities.delete(req.session, req.user, id)
        return NoContent()
    caller = req.user
    body = req.parse(schemas.CommodityIn) if req.method == "PUT" else req.parse(schemas.CommodityPatch)
    return commodities.update(req.session, caller, id, body)


@api.route(
    "/shopping/commodities/{id}/image",
    methods=["POST"],
    summary="上传商品图片（JPEG、PNG 或 GIF，超级用户）",
    body=UPLOAD,
    response="FileUrlPublic",
    errors=(403, 413, 415),
)
def commodity_image(req: Req, id: int):
    caller = req.user
    _fields, files = req.form()
    return commodity_images.upload_image(req.session, caller, id, files)


# --- cart ---------------------------------------------------------------------------------


@api.route("/shopping/cart", methods=["GET"], summary="我的购物车", paginated=True, response="CartRowPublic")
def cart_collection(req: Req):
    caller = req.user
    return paginate(req, cart.owned_query(caller), lambda rows: cart.serialize_page(req.session, rows))


@api.route(
    "/shopping/cart",
    methods=["POST"],
    retry=True,
    summary="加入购物车（已有则累加数量）",
    body="CartIn",
    response="CartRowPublic",
    status=201,
)
def cart_add(req: Req):
    return Created(cart.add(req.session, req.user, req.parse(schemas.CartIn)))


@api.route(
    "/shopping/cart/{id}",
    methods=["GET", "PUT", "PATCH", "DELETE"],
    summary={"GET": "购物车的一行", "PUT": "修改数量", "PATCH": "修改数量", "DELETE": "移出购物车"},
    body={"PUT": "CartUpdate", "PATCH": "CartUpdate"},
    response="CartRowPublic",
    status={"DELETE": 204},
)
def cart_item(req: Req, id: int):
    caller = req.user
    if req.method == "GET":
        return cart.detail(req.session, caller, id)
    if req.method == "DELETE":
        cart.delete(req.session, caller, id)
        return NoContent()
    return cart.update(req.session, caller, id, req.parse(schemas.CartUpdate))


# --- orders -------------------------------------------------------------------------------


@api.route(
    "/shopping/orders",
    methods=["GET"],
    summary="我的订单（管理员：所有人的订单）",
    query="OrderFilters",
    paginated=True,
    response="OrderPublic",
)
def order_collection(req: Req):
    stmt = orders.listing_query(
        req.user,
        status=int_param(req.query, "status", low=1, high=7),
        user_id=int_param(req.query, "user", low=1),
    )
    return paginate(req, stmt, lambda rows: orders.serialize_page(req.session, rows))


@api.route(
    "/shopping/orders",
    methods=["POST"],
    retry=True,
    summary="用购物车的行下单",
    body="OrderIn",
    response="OrderPublic",
    status=201,
)
def order_place(req: Req):
    return Created(orders.place_order(req.session, req.user, req.parse(schemas.OrderIn)))


@api.route(
    "/shopping/orders/status",
    methods=["PUT"],
    retry=True,
    summary="支付宝同步返回（查询串为支付宝签名的参数）",
    query="AlipaySigned",
    response="PaymentReturnPublic",
    errors=(403, 409),
)
def order_paid_return(req: Req):
    """The browser's return from Alipay: its signed query string marks the order paid."""
    return payments.handle_return(req.session, req.user, req.query)


@api.route(
    "/shopping/orders/{order_id}", methods=["GET"], summary="一个订单", response="OrderPublic", path_params=ORDER_ID
)
def order_item(req: Req, order_id: str):
    return orders.detail(req.session, req.user, order_id)


@api.route(
    "/shopping/orders/{order_id}/cancel",
    methods=["POST"],
    retry=True,
    summary="取消未支付的订单",
    response="OrderPublic",
    path_params=ORDER_ID,
    errors=(409,),
)
def order_cancel(req: Req, order_id: str):
    return orders.cancel(req.session, req.user, order_id)


@api.route(
    "/shopping/orders/{order_id}/ship",
    methods=["POST"],
    summary="发货（超级用户）：待发货 → 已发货",
    response="OrderPublic",
    path_params=ORDER_ID,
    errors=(403, 409),
)
def order_ship(req: Req, order_id: str):
    return fulfilment.ship(req.session, req.user, order_id)


@api.route(
    "/shopping/orders/{order_id}/receive",
    methods=["POST"],
    summary="确认收货：已发货 → 已收货",
    response="OrderPublic",
    path_params=ORDER_ID,
    errors=(403, 409),
)
def order_receive(req: Req, order_id: str):
    return fulfilment.receive(req.session, req.user, order_id)


@api.route(
    "/shopping/orders/{order_id}/finish",
    methods=["POST"],
    summary="完成订单：已收货 → 已完成",
    response="OrderPublic",
    path_params=ORDER_ID,
    errors=(403, 409),
)
def order_finish(req: Req, order_id: str):
    return fulfilment.finish(req.session, req.user, order_id)


@api.route(
    "/shopping/orders/{order_id}/refund",
    methods=["POST"],
    db=False,  # Alipay is asked between two short transactions, never inside one
    summary="支付宝全额退款（超级用户）：待发货或已取消待退款 → 已退款",
    response="OrderPublic",
    path_params=ORDER_ID,
    errors=(403, 409, 503),
)
def order_refund(req: Req, order_id: str):
    with session_scope() as session:
        req.use_session(lambda: session)
        caller = req.user
    return refunds.refund_order(caller, order_id)


# --- payments -----------------------------------------------------------------------------


@api.route(
    "/shopping/payments",
    methods=["GET"],
    summary="我的支付记录（管理员：所有人的）",
    query="PaymentFilters",
    paginated=True,
    response="PaymentPublic",
)
def payment_collection(req: Req):
    stmt = payments.listing_query(req.user, refund_required=bool_param(req.query, "refund_required"))
    return paginate(req, stmt, lambda rows: [payments.serialize(p) for p in rows])


@api.route("/shopping/payments/{id}", methods=["GET"], summary="一条支付记录", response="PaymentPublic")
def payment_item(req: Req, id: int):
    return payments.detail(req.session, req.user, id)


@api.route(
    "/shopping/payments/{id}/pay",
    methods=["GET"],
    summary="未支付订单的支付宝支付链接（路径中为订单号）",
    response="PayUrlPublic",
    path_params=PAY_ORDER_ID,
)
def payment_pay_url(req: Req, id: str):
    return payments.pay_url(req.session, req.user, id)


@api.route(
    "/shopping/payments/notify",
    methods=["POST"],
    retry=True,
    summary="支付宝异步通知",
    auth="none",
    body=FORM,
    form="AlipaySigned",
    response=TEXT,
)
def payment_notify(req: Req):
    """Alipay's asynchronous notification: form fields in, ``success``/``failure`` out."""
    payments.handle_notification(req.session, req.form_fields())
    return text_response("success")
