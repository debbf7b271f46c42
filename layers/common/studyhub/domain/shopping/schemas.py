"""Request bodies of the shopping group (pydantic): what may be sent, and its limits."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, WithJsonSchema, field_validator

from studyhub.domain.schema import WHOLE_NUMBER, Body, Id, Money, Public, not_null
from studyhub.domain.shopping.limits import NAME_MAX_LENGTH

MAX_PRICE = Decimal("99999999.99")  # Numeric(10, 2)
MIN_PRICE = Decimal("0.01")  # Alipay's smallest amount: a free commodity could never be paid for
# A TEXT column holds 65,535 bytes on MySQL: 16,000 characters fit even at 4 bytes each (utf8mb4).
DESCRIPTION_MAX = 16000
MAX_ORDER_LINES = 200  # cart rows of one order: one IN (...) query, far below any bind limit
MAX_STOCK = 2_147_483_647
MAX_CART_NUMBER = 9999
IMAGE_URL = r"^(https?://|/)\S+$"  # an absolute http(s) URL or a path on this site
PRICE_TEXT = re.compile(r"^(?!0*\.?0*$)0*[0-9]{1,8}(\.[0-9]{1,2})?$")  # "12", "12.5", "0.01"; not "0.00"
# What _price accepts, for the document: a number or a decimal string, 0.01 to 99999999.99, in cents.
PRICE_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "number", "minimum": float(MIN_PRICE), "maximum": float(MAX_PRICE), "multipleOf": 0.01},
        {"type": "string", "pattern": PRICE_TEXT.pattern},
    ],
    "description": f"价格（元），{MIN_PRICE} 到 {MAX_PRICE}，最多两位小数",
}


def _price(value: object) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise ValueError("请填写合法的价格。")
    if isinstance(value, str) and not PRICE_TEXT.fullmatch(value):  # as documented: no sign, exponent or spaces
        raise ValueError(f"价格必须在 {MIN_PRICE} 到 {MAX_PRICE} 之间，最多两位小数。")
    try:
        price = Decimal(str(value))
    except InvalidOperation:
        raise ValueError("请填写合法的价格。") from None
    if isinstance(value, float) and price.is_finite() and abs(price) <= MAX_PRICE:
        # A JSON number is a binary float: 0.57 computed as 57 * 0.01 arrives as 0.5700000000000001.
        cents = price.quantize(Decimal("0.01"))
        if abs(price - cents) < Decimal("1e-9"):
            price = cents
    if not price.is_finite() or price < MIN_PRICE or price > MAX_PRICE:
        raise ValueError(f"价格必须在 {MIN_PRICE} 到 {MAX_PRICE} 之间。")
    if price != price.quantize(Decimal("0.01")):
        raise ValueError("价格最多两位小数。")
    return price.quantize(Decimal("0.01"))


class CommodityIn(Body):
    name: str = Field(min_length=1, max_length=NAME_MAX_LENGTH)
    price: Annotated[Decimal, WithJsonSchema(PRICE_SCHEMA)]
    stock: Annotated[int, WHOLE_NUMBER] = Field(default=0, ge=0, le=MAX_STOCK)
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    image: str | None = Field(default=None, max_length=500, pattern=IMAGE_URL)

    _check_price = field_validator("price", mode="before")(_price)


class CommodityPatch(Body):
    name: str | None = Field(default=None, min_length=1, max_length=NAME_MAX_LENGTH, json_schema_extra=not_null)
    price: Annotated[Decimal | None, WithJsonSchema(PRICE_SCHEMA)] = None  # null refused, like the others
    stock: Annotated[int, Field(ge=0, le=MAX_STOCK), WHOLE_NUMBER] | None = Field(
        default=None, json_schema_extra=not_null
    )
    description: str | None = Field(default=None, max_length=DESCRIPTION_MAX, json_schema_extra=not_null)
    image: str | None = Field(default=None, max_length=500, pattern=IMAGE_URL)  # null: no image

    _check_price = field_validator("price", mode="before")(_price)


class CartIn(Body):
    commodity: Id
    number: Annotated[int, WHOLE_NUMBER] = Field(default=1, ge=1, le=MAX_CART_NUMBER)


class CartUpdate(Body):
    number: Annotated[int, WHOLE_NUMBER] = Field(ge=1, le=MAX_CART_NUMBER)


class OrderIn(Body):
    cart: list[Id] = Field(max_length=MAX_ORDER_LINES)
    address: Id
    pay_method: Literal[1, 2]


# --- responses (API.md §6; what commodities/cart/orders/payments serialize) ------------------


class CommodityPublic(Public):
    id: int
    name: str
    price: Money
    stock: int = Field(ge=0)
    sales: int = Field(ge=0)
    description: str
    image: str | None
    create_time: datetime
    update_time: datetime


class CartRowPublic(Public):
    id: int
    commodity: int
    commodity_name: str
    price: Money
    number: int = Field(ge=1)


class OrderGoodsPublic(Public):
    commodity: int
    commodity_name: str
    number: int = Field(ge=1)
    price: Money


class OrderPublic(Public):
    order_id: str = Field(pattern=r"^\d{14,32}$", description="以下单时间 yyyyMMddHHmmss 开头的数字串")
    user: int
    address: str
    total_count: int
    total_amount: Money
    pay_method: int = Field(ge=1, le=2, description="1 支付宝，2 货到付款")
    status: int = Field(ge=1, le=7, description="1 待支付，2 待发货，3 已发货，4 已收货，5 已完成，6 已取消，7 已退款")
    goods: list[OrderGoodsPublic]
    create_time: datetime
    update_time: datetime


class PaymentPublic(Public):
    id: int
    order: str
    trade_id: str
    create_time: datetime


class PayUrlPublic(Public):
    pay_url: str


class PaymentReturnPublic(Public):
    order_id: str
    trade_id: str


class OrderFilters(Body):
    status: int | None = Field(default=None, ge=1, le=7, description="订单状态")
    user: int | None = Field(default=None, ge=1, description="下单用户（管理员查看他人的订单）")


class PaymentFilters(Body):
    refund_required: bool | None = Field(default=None, description="只看待退款（true）或不待退款（false）的付款")


class CommodityFilters(Body):
    search: str | None = Field(default=None, max_length=NAME_MAX_LENGTH, description="名称包含")


class AlipaySigned(Body):
    """Alipay's signed parameters (the browser return's query, the webhook's form): the fields
    StudyHub reads; every other field Alipay sends is part of the signature and kept."""

    model_config = ConfigDict(extra="allow")

    out_trade_no: str = Field(max_length=32)
    trade_no: str = Field(max_length=100)
    total_amount: str | None = None
    app_id: str
    sign: str = Field(json_schema_extra={"minLength": 1})  # empty is as missing: signature_required
    sign_type: str | None = Field(default=None, examples=["RSA2"])
    trade_status: str | None = Field(default=None, examples=["TRADE_SUCCESS"])
