"""The scheduled jobs on AWS: one EventBridge rule per routes.yaml ``jobs:`` entry, each a small
Lambda that queues its Celery task on the broker (SQS: ``CELERY_BROKER_URL=sqs://``) for the
workers, exactly what ``celery beat`` does when self-hosted.

``chalicelib/schedule.json`` is routes.yaml's ``jobs:``, written by ``infra/aws/package.py``
(a test keeps the committed copy current). It is not in routes.yaml's functions: this app serves
no HTTP route, it only fires jobs.
"""

import json
import logging
import os

from chalice import Chalice, Rate

app = Chalice(app_name="studyhub-scheduler")
log = logging.getLogger("studyhub.scheduler")
log.setLevel(logging.INFO)

SCHEDULE_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "chalicelib", "schedule.json")
UNITS = {"minute": Rate.MINUTES, "hour": Rate.HOURS, "day": Rate.DAYS}


def rate(text: str) -> Rate:
    """``"5 minutes"`` -> ``Rate(5, MINUTES)`` (routes.yaml's notation)."""
    amount, unit = text.split()
    return Rate(int(amount), unit=UNITS[unit.rstrip("s")])


def make_handler(name: str, task: str):
    def fire(event):
        from studyhub.clients.queue import send  # the layer: Celery and kombu are imported only when a job fires

        send(task)
        log.info("queued %s (rule %s)", task, (event.resources or ["?"])[0])
        return {"queued": task}

    # Lambda's handler is `app.<function name>`: each job gets a module attribute of its own
    fire.__name__ = fire.__qualname__ = name.replace("-", "_")
    return fire


with open(SCHEDULE_FILE, encoding="utf-8") as fh:
    JOBS = json.load(fh)

for job in JOBS:
    handler = make_handler(job["name"], job["task"])
    globals()[handler.__name__] = app.schedule(rate(job["rate"]), name=job["name"], description=f"queue {job['task']}")(
        handler
    )
