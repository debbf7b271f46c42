"""Demo data for ``studyhub seed --demo``: each group's own demo module, users first."""

from __future__ import annotations

from sqlalchemy.orm import Session

from studyhub.domain.community.demo import seed_demo_articles
from studyhub.domain.school.demo import seed_demo_classes
from studyhub.domain.shopping.demo import seed_demo_commodities
from studyhub.domain.users.demo import seed_demo_users
from studyhub.domain.work.demo import seed_demo_topics
from studyhub.domain.work.homework_demo import seed_demo_homework

DEMO_SEEDERS = [seed_demo_users, seed_demo_articles, seed_demo_classes, seed_demo_commodities, seed_demo_topics]
DEMO_SEEDERS.append(seed_demo_homework)  # after the topics and classes it uses


def seed_demo(session: Session) -> dict[str, int]:
    """Demo users (password ``studyhub-demo``), classes, topics, articles and commodities."""
    return {"demo_rows": sum(seed(session) or 0 for seed in DEMO_SEEDERS)}
