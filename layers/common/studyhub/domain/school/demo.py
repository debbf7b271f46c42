"""Demo classes for ``studyhub seed --demo`` (a ``DEMO_SEEDERS`` entry).

Idempotent: a class whose name exists is left alone. Needs the demo users that ``seed_demo``
creates first (teacher1, teacher2, student1..3); no email is sent for them.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from studyhub.models.school import Classes
from studyhub.models.users import User

CLASSES = [
    ("Python 一班", "人生苦短，我用 Python", ["teacher1", "student1", "student2"]),
    ("Java 二班", "一次编写，到处运行", ["teacher2", "student3"]),
]


def seed_demo_classes(session: Session) -> int:
    names = {name for *_, members in CLASSES for name in members}
    users = {u.username: u for u in session.scalars(select(User).where(User.username.in_(names)))}
    existing = set(session.scalars(select(Classes.name).where(Classes.is_delete.is_(False))))
    created = 0
    for name, slogan, members in CLASSES:
        if name in existing:
            continue
        session.add(Classes(name=name, slogan=slogan, members=[users[m] for m in members if m in users]))
        created += 1
    session.flush()
    return created
