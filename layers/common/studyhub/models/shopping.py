"""The shop: commodities, carts, orders with their goods, and Alipay payments.

Stock and sales are only ever changed by conditional UPDATEs (see ``studyhub.domain.shopping.orders`` and the
shopping function); ``payments.trade_id`` is unique so a redelivered notification records once,
``payments.refund_no`` (the refund's ``out_request_no``) so a payment is refunded once.

Rows whose id a client sends back (cart rows, goods, payments) use SQLite's ``AUTOINCREMENT``: a
deleted row's id is never handed out again (MySQL/MariaDB's auto-increment never reuses one).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from studyhub.models.base import Base, BigId, TimestampMixin, UTCDateTime
from studyhub.tables import shopping as tables
from studyhub.tables.shopping import Money

# Order.status
UNPAID, PAID, SHIPPED, RECEIVED, FINISHED, CANCELLED, REFUNDED = 1, 2, 3, 4, 5, 6, 7
# Order.pay_method
ALIPAY, CASH_ON_DELIVERY = 1, 2


class Commodity(Base):
    # The table is Core's (studyhub.tables.shopping): the list and one commodity are read without
    # the ORM. These annotations type the mapped columns.
    __table__ = tables.commodities

    id: Mapped[int]
    name: Mapped[str]
    price: Mapped[Decimal]
    stock: Mapped[int]
    sales: Mapped[int]
    description: Mapped[str]
    image: Mapped[str | None]
    image_key: Mapped[str | None]
    create_time: Mapped[datetime]
    update_time: Mapped[datetime]
    is_delete: Mapped[bool]


class ShoppingCart(TimestampMixin, Base):
    __tablename__ = "shopping_carts"
    __table_args__ = (UniqueConstraint("user_id", "commodity_id"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    commodity_id: Mapped[int] = mapped_column(BigId, ForeignKey("commodities.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer, default=1)


class Order(TimestampMixin, Base):
    __tablename__ = "orders"
    # the cleanup job looks for unpaid orders older than the timeout
    __table_args__ = (Index("ix_orders_status_create_time", "status", "create_time"),)

    order_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    address: Mapped[str] = mapped_column(String(500))  # text snapshot, see API.md §6
    total_count: Mapped[int] = mapped_column(Integer, default=0)
    total_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    pay_method: Mapped[int] = mapped_column(SmallInteger, default=ALIPAY)
    status: Mapped[int] = mapped_column(SmallInteger, default=UNPAID)
    # a payment arrived for an order that was already cancelled (or already paid): give it back
    refund_required: Mapped[bool] = mapped_column(Boolean, default=False)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)  # auto-received after a while


class OrderGoods(TimestampMixin, Base):
    __tablename__ = "order_goods"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[str] = mapped_column(String(32), ForeignKey("orders.order_id", ondelete="CASCADE"), index=True)
    commodity_id: Mapped[int] = mapped_column(BigId, ForeignKey("commodities.id"), index=True)
    commodity_name: Mapped[str] = mapped_column(String(200))  # snapshot, like the price
    number: Mapped[int] = mapped_column(Integer)
    price: Mapped[Decimal] = mapped_column(Money)


class Payment(TimestampMixin, Base):
    __tablename__ = "payments"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[str] = mapped_column(String(32), ForeignKey("orders.order_id", ondelete="CASCADE"), index=True)
    trade_id: Mapped[str] = mapped_column(String(100), unique=True)  # Alipay's trade_no
    amount: Mapped[Decimal] = mapped_column(Money)
    # a payment to give back (it arrived for a cancelled or already paid order); cleared once refunded
    refund_required: Mapped[bool] = mapped_column(Boolean, default=False)
    # the refund's ``out_request_no`` once one was asked for: Alipay refunds one request number once
    refund_no: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
