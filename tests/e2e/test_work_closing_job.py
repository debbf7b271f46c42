"""The closing job (API.md §9): every minute a real worker submits the drafts of attempts whose
deadline passed, once, and running it again changes nothing."""

import time
from datetime import timedelta

from homework_fixtures import answers, count_rows, now, set_deadline


def wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_the_closing_job_submits_overdue_drafts_once_on_a_real_worker(client, student, make_user, homework, job_worker):
    from studyhub.clients.queue import send
    from studyhub.core.routing import load_routing
    from studyhub.domain.work.task_names import CLOSE_ATTEMPTS
    from studyhub.models.homework import Submission

    assert any(job.task == CLOSE_ATTEMPTS for job in load_routing().jobs)  # scheduled in routes.yaml
    aid, topics = homework["assignment"]["id"], homework["topics"]
    api = client.as_user(student)
    api.put(f"/api/work/assignments/{aid}/answers", json={"answers": answers(topics[:1], ["C"])})
    set_deadline(aid, student.id, now() - timedelta(minutes=1))
    send(CLOSE_ATTEMPTS)
    assert wait_for(lambda: count_rows(Submission) == 1)
    sub_id = api.post(f"/api/work/assignments/{aid}/start").json()["submission"]
    submission = api.get(f"/api/work/submissions/{sub_id}").json()
    assert submission["score"] == 2.0 and submission["items"][0]["answer"] == "C"
    late = api.post(f"/api/work/assignments/{aid}/submit", json={})
    assert late.status_code == 409
    send(CLOSE_ATTEMPTS)
    send(CLOSE_ATTEMPTS)
    time.sleep(1.0)
    assert count_rows(Submission) == 1


def test_the_closing_job_leaves_attempts_inside_their_grace_alone(client, student, homework, job_worker):
    from studyhub.domain.work.attempts import close_overdue
    from studyhub.models.homework import Submission

    aid = homework["assignment"]["id"]
    client.as_user(student).post(f"/api/work/assignments/{aid}/start")
    set_deadline(aid, student.id, now() - timedelta(seconds=10))
    assert close_overdue() == 0 and count_rows(Submission) == 0
    assert client.as_user(student).post(f"/api/work/assignments/{aid}/submit", json={}).status_code == 201
