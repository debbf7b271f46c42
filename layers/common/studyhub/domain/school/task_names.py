"""Names of the school group's jobs (the tasks are in ``jobs/tasks/school.py``)."""

SEND_CREDENTIALS = "studyhub.school.send_credentials"
REQUEUE_CREDENTIALS_MAIL = "studyhub.school.requeue_credentials_mail"
# One job of a roster import: it queues a SEND_CREDENTIALS job per student (1,000 publishes
# would hold the import's response for seconds).
QUEUE_CREDENTIALS_MAIL = "studyhub.school.queue_credentials_mail"
