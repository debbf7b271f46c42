"""shopping: shipping and refunds; SQLite ids never reused

Revision ID: 0009_shopping_fulfilment
Revises: 0005_shopping
Create Date: 2026-11-26

- `orders.shipped_at`: when the order was shipped (the cleanup job marks it received
  `ORDER_AUTO_RECEIVE_DAYS` later).
- `payments.refund_required` (a payment to give back: moved from the order to the payment, the
  order's flag stays as a summary), `payments.refund_no` (the refund's `out_request_no`, unique:
  one refund per payment) and `payments.refunded_at`.
- `commodities.image_key`: the stored file of an uploaded image.
- On SQLite, `shopping_carts`, `order_goods` and `payments` become `AUTOINCREMENT` tables (a
  deleted row's id is never handed out again). SQLite can only do that by rebuilding the table;
  no foreign key points at any of the three, so the rebuild breaks nothing. MySQL/MariaDB never
  reuse an auto-increment id: nothing to do there.
"""

import sqlalchemy as sa
from alembic import op

import studyhub.models.base

revision = "0009_shopping_fulfilment"
down_revision = "0005_shopping"
branch_labels = None
depends_on = None


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    sqlite = _is_sqlite()
    with op.batch_alter_table("orders", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("shipped_at", studyhub.models.base.UTCDateTime(), nullable=True))
    with op.batch_alter_table("commodities", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("image_key", sa.String(length=300), nullable=True))
    # SQLite: one rebuild adds the columns, the unique constraint and AUTOINCREMENT; MySQL: ALTERs
    with op.batch_alter_table(
        "payments", recreate="always" if sqlite else "auto", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(sa.Column("refund_required", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("refund_no", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("refunded_at", studyhub.models.base.UTCDateTime(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_payments_refund_no"), ["refund_no"])
    _flag_payments_of_flagged_orders()
    if sqlite:
        for table in ("shopping_carts", "order_goods"):
            with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": True}):
                pass


def _flag_payments_of_flagged_orders() -> None:
    """Until now the flag was on the order: every payment of a flagged cancelled order is to be
    given back, and of a flagged paid order every payment but its first."""
    op.execute(
        "UPDATE payments SET refund_required = 1 WHERE order_id IN "
        "(SELECT order_id FROM orders WHERE refund_required = 1 AND status = 6)"
    )
    op.execute(
        "UPDATE payments SET refund_required = 1 WHERE order_id IN "
        "(SELECT order_id FROM orders WHERE refund_required = 1 AND status <> 6) "
        "AND id NOT IN (SELECT first_id FROM (SELECT MIN(id) AS first_id FROM payments GROUP BY order_id) AS firsts)"
    )


def downgrade() -> None:
    sqlite = _is_sqlite()
    if sqlite:
        for table in ("shopping_carts", "order_goods"):
            with op.batch_alter_table(table, recreate="always"):
                pass
    with op.batch_alter_table("payments", recreate="always" if sqlite else "auto") as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_payments_refund_no"), type_="unique")
        batch_op.drop_column("refunded_at")
        batch_op.drop_column("refund_no")
        batch_op.drop_column("refund_required")
    with op.batch_alter_table("commodities", recreate="never") as batch_op:
        batch_op.drop_column("image_key")
    with op.batch_alter_table("orders", recreate="never") as batch_op:
        batch_op.drop_column("shipped_at")
