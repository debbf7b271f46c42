"""Names of the shopping group's jobs (the tasks are in ``jobs/tasks/shopping.py``)."""

CLEANUP = "studyhub.shopping.cleanup"
