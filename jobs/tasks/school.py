"""School jobs: send a new student's credentials email, queue those of a roster import, and
re-queue emails whose job was lost (the rules: ``studyhub.domain.school.credentials_mail``)."""

from __future__ import annotations

import logging

from celery import shared_task

from studyhub.domain.school import credentials_mail
from studyhub.domain.school.task_names import QUEUE_CREDENTIALS_MAIL, REQUEUE_CREDENTIALS_MAIL, SEND_CREDENTIALS

log = logging.getLogger("studyhub.jobs.school")


@shared_task(name=SEND_CREDENTIALS, bind=True, max_retries=credentials_mail.MAX_RETRIES)
def send_credentials(self, mail_id: int) -> str:
    retry_in = credentials_mail.backoff(self.request.retries)
    try:
        return credentials_mail.deliver(int(mail_id), retry_in=retry_in)
    except OSError as error:
        raise self.retry(exc=error, countdown=retry_in) from error


@shared_task(name=QUEUE_CREDENTIALS_MAIL)
def queue_credentials_mail(mail_ids: list[int]) -> int:
    """One send job per outbox row of a roster import. Run twice (a redelivery), a row still gets
    one email: a send job claims its row first."""
    for mail_id in mail_ids:
        send_credentials.apply_async((int(mail_id),))
    return len(mail_ids)


@shared_task(name=REQUEUE_CREDENTIALS_MAIL)
def requeue_credentials_mail() -> int:
    ids = credentials_mail.lost_mail_ids()
    for mail_id in ids:
        send_credentials.apply_async((mail_id,))
    if ids:
        log.info("re-queued %d credentials emails", len(ids))
    return len(ids)
