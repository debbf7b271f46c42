"""Reference data (groups, areas of China) and, on request, demo data.

Idempotent: rows already there are left alone, so ``studyhub serve`` can run it on every start.
"""
from __future__ import annotations

import json
from importlib import resources

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from .models.users import GROUPS, Area, Group, STUDENT_GROUP_ID, TEACHER_GROUP_ID, User


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
            session.execute(insert(Area), rows[start:start + 1000])
        added = len(rows)
    return {"groups": len(GROUPS), "areas_added": added}


def seed_demo(session: Session) -> dict[str, int]:
    """Demo users (password ``studyhub-demo``): admin, two teachers, three students."""
    from .accounts import create_user

    created = 0
    demo = [
        ("admin", [], True), ("teacher1", [TEACHER_GROUP_ID], False), ("teacher2", [TEACHER_GROUP_ID], False),
        ("student1", [STUDENT_GROUP_ID], False), ("student2", [STUDENT_GROUP_ID], False),
        ("student3", [STUDENT_GROUP_ID], False),
    ]
    for username, groups, superuser in demo:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            create_user(session, username=username, password="studyhub-demo",
                        email=f"{username}@example.com", group_ids=groups, is_superuser=superuser)
            created += 1
    for target in DEMO_SEEDERS:
        import importlib

        module, _, name = target.partition(":")
        created += getattr(importlib.import_module(module), name)(session) or 0
    return {"demo_rows": created}


# Other groups' demo data ("module:function" taking a session): classes, topics, articles...
DEMO_SEEDERS: list[str] = [
    "studyhub.community_demo:seed_demo_articles",
    "studyhub.school_demo:seed_demo_classes",
    "studyhub.shopping_demo:seed_demo_commodities",
    "studyhub.work_demo:seed_demo_topics",
]
