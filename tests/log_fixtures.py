"""What the ``studyhub`` logger's handlers receive, for tests that read log records."""

import logging

import pytest


class Capture(logging.Handler):
    """Keeps every record handed to it."""

    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def captured():
    """A ``Capture`` on the ``studyhub`` logger for the test's duration."""
    handler = Capture()
    logger = logging.getLogger("studyhub")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
