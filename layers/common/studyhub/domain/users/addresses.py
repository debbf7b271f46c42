"""Shipping addresses: private to their owner, areas chained province → city → district."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from studyhub.core import errors
from studyhub.core.times import isoformat
from studyhub.domain.access import Caller
from studyhub.models.users import Address, Area

from .schemas import AddressIn, AddressPatch


def serialize(address: Address) -> dict[str, Any]:
    return {
        "id": address.id,
        "user": address.user_id,
        "province": address.province_id,
        "city": address.city_id,
        "district": address.district_id,
        "province_name": address.province.name,
        "city_name": address.city.name,
        "district_name": address.district.name,
        "place": address.place,
        "receiver": address.receiver,
        "mobile": address.mobile,
        "create_time": isoformat(address.create_time),
        "update_time": isoformat(address.update_time),
    }


def owned_query(caller: Caller) -> Select[Address]:
    return (
        select(Address)
        .where(Address.user_id == caller.id, Address.is_delete.is_(False))
        .order_by(Address.update_time.desc(), Address.id.desc())
    )


def get_owned(session: Session, caller: Caller, address_id: int) -> Address:
    address = session.get(Address, address_id)
    if address is None or address.user_id != caller.id or address.is_delete:
        raise errors.NotFound()
    return address


def check_chain(session: Session, province: int, city: int, district: int) -> None:
    rows = {a.id: a for a in session.scalars(select(Area).where(Area.id.in_([province, city, district])))}
    problems: dict[str, list[str]] = {}
    if province not in rows or rows[province].parent_id is not None:
        problems["province"] = ["不是有效的省份。"]
    if city not in rows or rows[city].parent_id != province:
        problems["city"] = ["城市不属于所选省份。"]
    if district not in rows or rows[district].parent_id != city:
        problems["district"] = ["区县不属于所选城市。"]
    if problems:
        raise errors.Invalid("地址的省市区不匹配", code="invalid_area", errors=problems)


def create(session: Session, caller: Caller, body: AddressIn) -> dict[str, Any]:
    check_chain(session, body.province, body.city, body.district)
    address = Address(
        user_id=caller.id,
        province_id=body.province,
        city_id=body.city,
        district_id=body.district,
        place=body.place,
        receiver=body.receiver,
        mobile=body.mobile,
    )
    session.add(address)
    session.flush()
    session.refresh(address)
    return serialize(address)


def update(session: Session, caller: Caller, address_id: int, body: AddressIn | AddressPatch) -> dict[str, Any]:
    address = get_owned(session, caller, address_id)
    changes = {k: v for k, v in body.model_dump().items() if k in body.model_fields_set and v is not None}
    province = changes.get("province", address.province_id)
    city = changes.get("city", address.city_id)
    district = changes.get("district", address.district_id)
    check_chain(session, province, city, district)
    address.province_id, address.city_id, address.district_id = province, city, district
    for field in ("place", "receiver", "mobile"):
        if field in changes:
            setattr(address, field, changes[field])
    session.flush()
    session.refresh(address)
    return serialize(address)


def delete(session: Session, caller: Caller, address_id: int) -> None:
    get_owned(session, caller, address_id).is_delete = True
