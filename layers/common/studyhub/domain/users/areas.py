"""The administrative divisions of China, served from the cache for an hour after first read."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from studyhub.clients.cache import get_cache
from studyhub.core import errors
from studyhub.models.users import Area

TTL = 3600


def provinces(session: Session) -> list[dict[str, Any]]:
    cache = get_cache()
    cached = cache.get("areas:provinces")
    if cached is not None:
        return cached
    rows = session.execute(select(Area.id, Area.name).where(Area.parent_id.is_(None)).order_by(Area.id))
    data = [{"id": r.id, "name": r.name} for r in rows]
    if data:  # an empty table (not seeded yet) is not worth an hour in the cache
        cache.set("areas:provinces", data, ttl=TTL)
    return data


def area(session: Session, area_id: int) -> dict[str, Any]:
    aid = area_id
    cache = get_cache()
    key = f"areas:{aid}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    row = session.get(Area, aid)
    if row is None:
        raise errors.NotFound()
    subs = session.execute(select(Area.id, Area.name).where(Area.parent_id == aid).order_by(Area.id))
    data = {
        "id": row.id,
        "name": row.name,
        "parent": row.parent_id,
        "subs": [{"id": s.id, "name": s.name} for s in subs],
    }
    cache.set(key, data, ttl=TTL)
    return data
