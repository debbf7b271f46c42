"""Names of the work group's jobs (the tasks are in ``jobs/tasks/work.py``)."""

INDEX_TOPIC = "studyhub.work.index_topic"
INDEX_LABEL = "studyhub.work.index_label"
REINDEX = "studyhub.work.reindex"
CLOSE_ATTEMPTS = "studyhub.work.close_attempts"
