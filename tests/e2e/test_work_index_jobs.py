"""Keeping the search index in step (API.md §4: "creating, changing or deleting a topic shows in
search within 5 seconds"), on both stacks with the embedded index: the index jobs' bodies run as
plain functions (idempotent, taking ids), the same jobs through a real Celery worker after the
request's commit, a rebuild that loses no write made while it runs, the scheduled job and the
``studyhub reindex`` command."""

import os
import subprocess
import sys
import time
from datetime import timedelta

from work_fixtures import break_index, restore_index, search

VISIBLE_WITHIN = 5.0


def wait_for(predicate, timeout: float = VISIBLE_WITHIN, step: float = 0.05):
    """Poll ``predicate()`` until it is truthy; returns (value, seconds waited)."""
    started = time.monotonic()
    while True:
        value = predicate()
        if value or time.monotonic() - started > timeout:
            return value, time.monotonic() - started
        time.sleep(step)


def found(api, text: str) -> list[int]:
    return [r["id"] for r in search(api, text).json()["results"]]


# --- the task bodies, as plain functions ------------------------------------------------------


def test_index_topic_is_idempotent_and_follows_the_database(client, teacher, make_label, make_topic, search_index):
    from jobs.tasks.work import index_topic

    topic = make_topic(teacher, make_label(teacher), "哈希表的冲突处理")
    api = client.as_user(teacher)
    assert found(api, "哈希表") == []
    assert index_topic(topic.id) == 1
    assert index_topic(topic.id) == 1  # again: the same index, no duplicate
    assert search(api, "哈希表").json()["count"] == 1
    api.delete(f"/api/work/topics/{topic.id}")
    index_topic(topic.id)
    index_topic(topic.id)
    assert search(api, "哈希表").json()["count"] == 0
    assert index_topic(987654) == 1  # an id that never existed: nothing to index, nothing fails


def test_index_label_reindexes_the_topics_of_a_renamed_or_deleted_label(
    client, teacher, student, make_label, make_topic, search_index
):
    from jobs.tasks.work import index_label, index_topic

    label = make_label(teacher, "第七章")
    topics = [make_topic(teacher, label, f"图的遍历第{i}题") for i in range(3)]
    for topic in topics:
        index_topic(topic.id)
    assert search(client.as_user(student), "遍历").json()["count"] == 3
    client.as_user(teacher).patch(f"/api/work/labels/{label.id}", json={"name": "第七章考试"})
    assert index_label(label.id) == 3
    assert search(client.as_user(student), "遍历").json()["count"] == 0
    assert search(client.as_user(teacher), "遍历").json()["count"] == 3
    client.as_user(teacher).delete(f"/api/work/labels/{label.id}")
    index_label(label.id)
    assert search(client.as_user(teacher), "遍历").json()["count"] == 0


def test_reindex_task_rebuilds_from_the_database(client, teacher, make_label, make_topic, search_index):
    from jobs.tasks.work import reindex

    label = make_label(teacher)
    for i in range(7):
        make_topic(teacher, label, f"排序算法第{i}题")
    assert search(client.as_user(teacher), "排序").json()["count"] == 0
    assert reindex() == 7
    assert search(client.as_user(teacher), "排序").json()["count"] == 7


def test_only_one_rebuild_runs_at_a_time(teacher, make_label, make_topic, search_index):
    import pytest

    from jobs.tasks.work import reindex
    from studyhub.clients.cache import get_cache
    from studyhub.domain.work.search_sync import REBUILD_LOCK_KEY, RebuildRunning, rebuild

    make_topic(teacher, make_label(teacher))
    get_cache().incr(REBUILD_LOCK_KEY, 60)  # another process is rebuilding
    try:
        with pytest.raises(RebuildRunning):
            rebuild()
        assert reindex() == 0  # the scheduled job just skips
    finally:
        get_cache().delete(REBUILD_LOCK_KEY)
    assert rebuild() == 1


def test_writes_made_while_a_rebuild_runs_are_not_lost(client, teacher, student, make_label, make_topic, search_index):
    """The jobs of writes made during a rebuild update the old (live) index; the rebuild copies
    every topic changed since it started into the new one before swapping it in."""
    from jobs.tasks.work import index_label, index_topic
    from studyhub.domain.work.search_sync import rebuild

    old = timedelta(hours=1)  # written long before the rebuild: only its catch-up can see the changes
    label = make_label(teacher, "第九章", age=old)
    first = make_topic(teacher, label, "动态规划第一题", age=old)
    rest = [make_topic(teacher, label, f"动态规划第{i}题", age=old) for i in range(2, 8)]
    api = client.as_user(teacher)
    done = []

    def meanwhile(_n):
        if done:
            return
        done.append(True)
        # the first batch (ids up to first's) is already in the new index: change it now
        api.patch(f"/api/work/topics/{first.id}", json={"subject": "贪心算法第一题"})
        index_topic(first.id)
        api.delete(f"/api/work/topics/{rest[-1].id}")
        index_topic(rest[-1].id)
        api.patch(f"/api/work/labels/{label.id}", json={"name": "第九章考试"})
        index_label(label.id)

    assert rebuild(batch_size=2, progress=meanwhile) == 6  # the last one was deleted before its batch
    assert found(api, "贪心") == [first.id]
    assert found(api, "动态规划") and first.id not in found(api, "动态规划")
    assert rest[-1].id not in found(api, "动态规划")
    assert search(api, "动态规划").json()["count"] == 5
    # the label became an exam label: the new index knows it for every topic, old batches included
    assert search(client.as_user(student), "动态规划").json()["count"] == 0
    assert search(client.as_user(student), "贪心").json()["count"] == 0


# --- through a real worker, after the request's commit ----------------------------------------


def test_created_topic_is_searchable_within_5_seconds(client, teacher, make_label, search_index, job_worker):
    api = client.as_user(teacher)
    label = make_label(teacher)
    created = api.post("/api/work/topics", json={"subject": "Python中的列表推导式是什么", "type": 4, "label": label.id})
    assert created.status_code == 201
    ids, waited = wait_for(lambda: found(api, "列表"))
    assert ids == [created.json()["id"]], f"not searchable after {waited:.1f} s"


def test_changed_and_deleted_topics_show_in_search_within_5_seconds(
    client, teacher, make_label, search_index, job_worker
):
    api = client.as_user(teacher)
    label = make_label(teacher)
    topic_id = api.post("/api/work/topics", json={"subject": "一个老师真帅", "type": 4, "label": label.id}).json()["id"]
    assert wait_for(lambda: found(api, "老师"))[0] == [topic_id]

    api.patch(f"/api/work/topics/{topic_id}", json={"subject": "一个学生很努力"})
    ids, waited = wait_for(lambda: found(api, "学生"))
    assert ids == [topic_id], f"change not searchable after {waited:.1f} s"
    assert found(api, "老师") == []

    api.delete(f"/api/work/topics/{topic_id}")
    gone, waited = wait_for(lambda: search(api, "学生").json()["count"] == 0)
    assert gone, f"deleted topic still counted after {waited:.1f} s"


def test_label_rename_to_exam_leaves_student_search_within_5_seconds(
    client, teacher, student, make_label, search_index, job_worker
):
    api = client.as_user(teacher)
    label = make_label(teacher, "第二章")
    api.post("/api/work/topics", json={"subject": "栈和队列的区别", "type": 4, "label": label.id})
    student_api = client.as_user(student)
    assert wait_for(lambda: search(student_api, "队列").json()["count"] == 1)[0]
    api.patch(f"/api/work/labels/{label.id}", json={"name": "第二章考试"})
    hidden, waited = wait_for(lambda: search(student_api, "队列").json()["count"] == 0)
    assert hidden, f"exam topic still counted for a student after {waited:.1f} s"
    assert search(api, "队列").json()["results"][0]["label_name"] == "第二章考试"


def test_a_failed_request_queues_no_index_job(client, teacher, make_label, search_index, job_worker):
    api = client.as_user(teacher)
    label = make_label(teacher)
    assert api.post("/api/work/topics", json={"subject": "类型不对", "type": 9, "label": label.id}).status_code == 400
    assert api.post("/api/work/topics", json={"subject": "好的题目", "type": 1, "label": label.id}).status_code == 201
    assert wait_for(lambda: found(api, "题目"))[0]
    assert search(api, "类型").json()["count"] == 0


def test_jobs_retry_while_the_index_is_unusable_and_catch_up_when_it_returns(
    client, teacher, make_label, search_index, job_worker
):
    api = client.as_user(teacher)
    label = make_label(teacher)
    break_index(search_index.root)
    try:
        created = api.post("/api/work/topics", json={"subject": "恢复之后能搜到的题目", "type": 0, "label": label.id})
        assert created.status_code == 201
        assert search(api, "恢复").status_code == 503
        time.sleep(1.5)  # the job ran, failed, and is waiting for its retry
    finally:
        restore_index(search_index.root)
    ids, waited = wait_for(lambda: search(api, "恢复").status_code == 200 and found(api, "恢复"), timeout=20)
    assert ids == [created.json()["id"]], f"not caught up after {waited:.1f} s"


# --- the command and the schedule -------------------------------------------------------------


def test_studyhub_reindex_shows_progress_and_the_count(client, platform, teacher, make_label, make_topic, search_index):
    label = make_label(teacher)
    for i in range(25):
        make_topic(teacher, label, f"命令行重建的第{i}题")
    result = subprocess.run(
        [sys.executable, "-m", "studyhub.ops.cli", "reindex", "--batch-size", "10"],
        capture_output=True,
        text=True,
        env={**os.environ, **platform.env},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "indexed 25 topics into the embedded search index" in result.stdout
    assert "indexing topics" in result.stderr
    assert search(client.as_user(teacher), "重建", limit=100).json()["count"] == 25


def test_reindex_is_scheduled_in_routes_yaml():
    from jobs.celery_app import beat_schedule
    from jobs.tasks.work import reindex

    entries = [e for e in beat_schedule().values() if e["task"] == reindex.name]
    assert len(entries) == 1 and entries[0]["schedule"].total_seconds() == 86400


def test_demo_topics_are_seeded_once_and_searchable_at_once(client, make_user, search_index):
    from studyhub.core.db import session_scope
    from studyhub.domain.work.demo import seed_demo_topics

    make_user("teacher", username="teacher1")
    make_user("teacher", username="teacher2")
    student = make_user("student")
    with session_scope() as session:
        assert seed_demo_topics(session) == 10
    with session_scope() as session:
        assert seed_demo_topics(session) == 0
    hits = search(client.as_user(student), "列表").json()["results"]
    assert [r["label_name"] for r in hits] == ["Python基础"]  # the exam label's topic stays hidden
    assert search(client.as_user(make_user("superuser")), "列表").json()["count"] == 2
