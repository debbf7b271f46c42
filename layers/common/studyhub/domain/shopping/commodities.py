"""Commodities: anyone reads them, only a superuser writes them; deleting is a soft delete. The
hot reads (the list and one commodity) are on Core, without the ORM: ``commodity_reads``. The
writes stay on the ORM.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from studyhub.core import errors
from studyhub.core.db import on_commit
from studyhub.domain.access import Caller, require_superuser
from studyhub.domain.shopping.commodity_reads import serialize
from studyhub.models.shopping import Commodity

from .schemas import CommodityIn, CommodityPatch


def get_live(session: Session, commodity_id: int) -> Commodity:
    commodity = session.get(Commodity, commodity_id)
    if commodity is None or commodity.is_delete:
        raise errors.NotFound()
    return commodity


def create(session: Session, caller: Caller, body: CommodityIn) -> dict[str, Any]:
    require_superuser(caller)
    commodity = Commodity(
        name=body.name, price=body.price, stock=body.stock, sales=0, description=body.description, image=body.image
    )
    session.add(commodity)
    session.flush()
    return serialize(commodity)


def update(session: Session, caller: Caller, commodity_id: int, body: CommodityIn | CommodityPatch) -> dict[str, Any]:
    require_superuser(caller)
    commodity = get_live(session, commodity_id)
    for field in ("name", "price", "stock", "description", "image"):
        if field in body.model_fields_set:
            value = getattr(body, field)
            if value is None and field != "image":
                raise errors.Invalid.field(field, "该字段不能为空。")
            if field == "image" and value != commodity.image:
                forget_uploaded(session, commodity)  # an uploaded file replaced by a URL
            setattr(commodity, field, value)
    session.flush()
    session.refresh(commodity)
    return serialize(commodity)


def forget_uploaded(session: Session, commodity: Commodity) -> None:
    """The image is being replaced: its stored file (if it was uploaded) goes once that commits."""
    old_key = commodity.image_key
    if not old_key:
        return
    from studyhub.clients.storage import get_storage

    storage = get_storage()
    commodity.image_key = None
    on_commit(session, lambda: storage.delete(old_key))


def delete(session: Session, caller: Caller, commodity_id: int) -> None:
    require_superuser(caller)
    get_live(session, commodity_id).is_delete = True
