"""shopping: commodities, carts, orders, goods, payments

Revision ID: 0005_shopping
Revises: 0001_users
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

import studyhub.models.base

revision = "0005_shopping"
down_revision = "0001_users"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "commodities",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("price", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("sales", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("image", sa.String(length=500), nullable=True),
        sa.Column("create_time", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.Column("update_time", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.Column("is_delete", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commodities")),
    )
    with op.batch_alter_table("commodities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_commodities_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_commodities_update_time"), ["update_time"], unique=False)

    op.create_table(
        "orders",
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column("total_count", sa.Integer(), nullable=False),
        sa.Column("total_amount", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("pay_method", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("refund_required", sa.Boolean(), nullable=False),
        sa.Column("create_time", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.Column("update_time", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_orders_user_id_users")),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_orders")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_status_create_time", ["status", "create_time"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_update_time"), ["update_time"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_user_id"), ["user_id"], unique=False)

    op.create_table(
        "shopping_carts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("commodity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("create_time", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.Column("update_time", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["commodity_id"],
            ["commodities.id"],
            name=op.f("fk_shopping_carts_commodity_id_commodities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_shopping_carts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shopping_carts")),
        sa.UniqueConstraint("user_id", "commodity_id", name=op.f("uq_shopping_carts_user_id")),
    )
    with op.batch_alter_table("shopping_carts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shopping_carts_commodity_id"), ["commodity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shopping_carts_update_time"), ["update_time"], unique=False)

    op.create_table(
        "order_goods",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("commodity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("commodity_name", sa.String(length=200), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("price", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("create_time", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.Column("update_time", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["commodity_id"], ["commodities.id"], name=op.f("fk_order_goods_commodity_id_commodities")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.order_id"], name=op.f("fk_order_goods_order_id_orders"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_goods")),
    )
    with op.batch_alter_table("order_goods", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_goods_commodity_id"), ["commodity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_goods_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_goods_update_time"), ["update_time"], unique=False)

    op.create_table(
        "payments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("trade_id", sa.String(length=100), nullable=False),
        sa.Column("amount", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("create_time", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.Column("update_time", studyhub.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.order_id"], name=op.f("fk_payments_order_id_orders"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("trade_id", name=op.f("uq_payments_trade_id")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_update_time"), ["update_time"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_update_time"))
        batch_op.drop_index(batch_op.f("ix_payments_order_id"))

    op.drop_table("payments")
    with op.batch_alter_table("order_goods", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_goods_update_time"))
        batch_op.drop_index(batch_op.f("ix_order_goods_order_id"))
        batch_op.drop_index(batch_op.f("ix_order_goods_commodity_id"))

    op.drop_table("order_goods")
    with op.batch_alter_table("shopping_carts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shopping_carts_update_time"))
        batch_op.drop_index(batch_op.f("ix_shopping_carts_commodity_id"))

    op.drop_table("shopping_carts")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_user_id"))
        batch_op.drop_index(batch_op.f("ix_orders_update_time"))
        batch_op.drop_index("ix_orders_status_create_time")

    op.drop_table("orders")
    with op.batch_alter_table("commodities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commodities_update_time"))
        batch_op.drop_index(batch_op.f("ix_commodities_name"))

    op.drop_table("commodities")
