"""Demo commodities for ``studyhub seed --demo`` (a ``DEMO_SEEDERS`` entry).

Idempotent: does nothing once any commodity exists.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from studyhub.models.shopping import Commodity

COMMODITIES = [
    ("Python 编程：从入门到实践", "89.00", 50, "零基础入门 Python 的经典教材。"),
    ("算法导论（第三版）", "128.00", 20, "算法与数据结构的权威参考书。"),
    ("错题本（B5，5 本装）", "19.90", 200, "按学科分栏，方便整理错题。"),
    ("中性笔 0.5mm（12 支）", "12.50", 500, "考试专用黑色中性笔。"),
    ("限量版期末复习资料", "39.90", 30, "老师整理的期末重点，数量有限。"),
]


def seed_demo_commodities(session: Session) -> int:
    if session.scalar(select(func.count()).select_from(Commodity)):
        return 0
    session.add_all(
        Commodity(name=name, price=Decimal(price), stock=stock, sales=0, description=description)
        for name, price, stock, description in COMMODITIES
    )
    session.flush()
    return len(COMMODITIES)
