"""Reference data: the groups and the areas of China (API.md §2 Areas).

Idempotent: rows already there are left alone, so ``studyhub serve`` can run it on every start.
"""

from __future__ import annotations

import json
from importlib import resources

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from studyhub.models.users import GROUPS, Area, Group


def load_areas_file() -> list[list]:
    text = resources.files("studyhub").joinpath("data/areas.json").read_text(encoding="utf-8")
    return json.loads(text)


def seed_reference(session: Session) -> dict[str, int]:
    existing_groups = set(session.scalars(select(Group.id)))
    for gid, name in GROUPS.items():
        if gid not in existing_groups:
            session.add(Group(id=gid, name=name))
    session.flush()
    added = 0
    if session.scalar(select(func.count()).select_from(Area)) == 0:
        rows = [{"id": r[0], "name": r[1], "parent_id": r[2]} for r in load_areas_file()]
        for start in range(0, len(rows), 1000):  # parents come first in the file
            session.execute(insert(Area), rows[start : start + 1000])
        added = len(rows)
    return {"groups": len(GROUPS), "areas_added": added}
