"""Time as the contract shows it: aware datetimes in ``TIME_ZONE`` with their offset."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from studyhub.core.config import get_settings


@lru_cache(maxsize=4)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_zone() -> ZoneInfo:
    return _zone(get_settings().time_zone)


def isoformat(value: datetime | None) -> str | None:
    """ISO 8601 in ``TIME_ZONE`` with its offset, to the second (``2026-11-24T13:05:09+08:00``)."""
    if value is None:
        return None
    return value.astimezone(local_zone()).isoformat(timespec="seconds")  # truncates, as replace(microsecond=0) did
