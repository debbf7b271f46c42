"""Demo users (password ``studyhub-demo``): admin, two teachers, three students."""

from __future__ import annotations

from sqlalchemy.orm import Session

from studyhub.domain.users.accounts import create_user
from studyhub.domain.users.usernames import username_taken
from studyhub.models.users import STUDENT_GROUP_ID, TEACHER_GROUP_ID

DEMO_PASSWORD = "studyhub-demo"
DEMO_USERS = [
    ("admin", [], True),
    ("teacher1", [TEACHER_GROUP_ID], False),
    ("teacher2", [TEACHER_GROUP_ID], False),
    ("student1", [STUDENT_GROUP_ID], False),
    ("student2", [STUDENT_GROUP_ID], False),
    ("student3", [STUDENT_GROUP_ID], False),
]


def seed_demo_users(session: Session) -> int:
    created = 0
    for username, groups, superuser in DEMO_USERS:
        if not username_taken(session, username):
            create_user(
                session,
                username=username,
                password=DEMO_PASSWORD,
                email=f"{username}@example.com",
                group_ids=groups,
                is_superuser=superuser,
            )
            created += 1
    return created
