"""Request bodies of the shopping group (pydantic): what may be sent, and its limits."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Literal

from pydantic import Field, field_validator

from studyhub.domain.schema import Body, Id

MAX_PRICE = Decimal("99999999.99")  # Numeric(10, 2)
MAX_STOCK = 2_147_483_647
MAX_CART_NUMBER = 9999
IMAGE_URL = r"^(https?://|/)\S+$"  # an absolute http(s) URL or a path on this site


def _price(value: object) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise ValueError("请填写合法的价格。")
    try:
        price = Decimal(str(value))
    except InvalidOperation:
        raise ValueError("请填写合法的价格。") from None
    if not price.is_finite() or price < 0 or price > MAX_PRICE:
        raise ValueError("价格必须在 0 到 99999999.99 之间。")
    if price != price.quantize(Decimal("0.01")):
        raise ValueError("价格最多两位小数。")
    return price.quantize(Decimal("0.01"))


class CommodityIn(Body):
    name: str = Field(min_length=1, max_length=200)
    price: Decimal
    stock: int = Field(default=0, ge=0, le=MAX_STOCK)
    description: str = Field(default="", max_length=20000)
    image: str | None = Field(default=None, max_length=500, pattern=IMAGE_URL)

    _check_price = field_validator("price", mode="before")(_price)


class CommodityPatch(Body):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    price: Decimal | None = None
    stock: int | None = Field(default=None, ge=0, le=MAX_STOCK)
    description: str | None = Field(default=None, max_length=20000)
    image: str | None = Field(default=None, max_length=500, pattern=IMAGE_URL)

    _check_price = field_validator("price", mode="before")(_price)


class CartIn(Body):
    commodity: Id
    number: int = Field(default=1, ge=1, le=MAX_CART_NUMBER)


class CartUpdate(Body):
    number: int = Field(ge=1, le=MAX_CART_NUMBER)


class OrderIn(Body):
    cart: list[Id]
    address: Id
    pay_method: Literal[1, 2]
