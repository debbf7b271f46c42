"""Names of the school group's jobs (the tasks are in ``jobs/tasks/school.py``)."""

SEND_CREDENTIALS = "studyhub.school.send_credentials"
REQUEUE_CREDENTIALS_MAIL = "studyhub.school.requeue_credentials_mail"
