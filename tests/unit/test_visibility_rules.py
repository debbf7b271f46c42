"""Who sees which topic (``studyhub.domain.work.visibility``), called directly (no HTTP), on both
stacks: students never see answers nor topics under an exam label (one whose name contains 考试);
teachers and superusers see both; nobody sees a deleted topic or a topic under a deleted label.
"""

import pytest
from conftest import store

from studyhub.core.db import session_scope
from studyhub.domain.work.visibility import is_exam_label, sees_answers, visible_topics
from studyhub.models.work import Label, Topic


@pytest.mark.parametrize(
    ("name", "exam"),
    [
        ("期末考试", True),
        ("考试", True),
        ("2026 考试复习题", True),
        ("Python基础", False),
        ("考 试", False),
        ("考察", False),
        ("", False),
    ],
)
def test_an_exam_label_is_one_whose_name_contains_kaoshi(name, exam):
    assert is_exam_label(name) is exam


@pytest.mark.parametrize(("role", "sees"), [("student", False), (None, False), ("teacher", True), ("superuser", True)])
def test_only_teachers_and_superusers_see_answers(make_user, role, sees):
    assert sees_answers(make_user(role)) is sees


@pytest.fixture
def topics(teacher, make_label, make_topic):
    """One topic of each kind the rule tells apart, by name."""
    plain, exam = make_label(teacher, "Python基础"), make_label(teacher, "期末考试")
    deleted_label = store(Label(name="旧标签", user_id=teacher.id, is_delete=True))
    deleted = store(Topic(subject="删掉的题", type=4, label_id=plain.id, user_id=teacher.id, is_delete=True))
    return {
        "plain": make_topic(teacher, plain, "列表推导式").id,
        "exam": make_topic(teacher, exam, "期末考试第一题").id,
        "under a deleted label": make_topic(teacher, deleted_label, "旧标签下的题").id,
        "deleted": deleted.id,
    }


def visible_to(user) -> set[int]:
    with session_scope() as session:
        return {topic.id for topic in session.scalars(visible_topics(user))}


def test_a_student_sees_live_topics_but_never_exam_ones(topics, student):
    assert visible_to(student) == {topics["plain"]}


def test_a_user_in_no_group_is_held_to_the_students_rules(topics, make_user):
    assert visible_to(make_user(None)) == {topics["plain"]}


@pytest.mark.parametrize("role", ["teacher", "superuser"])
def test_teachers_and_superusers_see_exam_topics_too(topics, make_user, role):
    assert visible_to(make_user(role)) == {topics["plain"], topics["exam"]}


def test_a_label_renamed_to_an_exam_name_hides_its_topics_from_students(topics, student, teacher):
    with session_scope() as session:
        label_id = session.get(Topic, topics["plain"]).label_id
        session.get(Label, label_id).name = "Python基础（考试用）"
    assert visible_to(student) == set()
    assert visible_to(teacher) == {topics["plain"], topics["exam"]}
