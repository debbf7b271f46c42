"""waitress's own log records go where StudyHub's do, and its queue-depth chatter doesn't flood them."""

import logging

import pytest

from local.wsgi_server import create_server


class Capture(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def studyhub_lines():
    handler = Capture()
    logger = logging.getLogger("studyhub")
    logger.addHandler(handler)
    yield handler.records
    logger.removeHandler(handler)


@pytest.fixture
def server():
    made = create_server(lambda environ, start_response: [], host="127.0.0.1", port=0, threads=4)
    yield made
    made.close()


def test_an_error_waitress_logs_reaches_the_studyhub_handlers(server, studyhub_lines):
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("waitress").exception("Exception while serving /api/work/topics")
    assert [r.getMessage() for r in studyhub_lines] == ["Exception while serving /api/work/topics"]
    assert studyhub_lines[0].exc_info is not None


def test_a_short_queue_is_not_logged_a_queue_as_deep_as_the_threads_is(server, studyhub_lines):
    queue = logging.getLogger("waitress.queue")
    for depth in (1, 2, 3):
        queue.warning("Task queue depth is %d", depth)
    assert studyhub_lines == []
    queue.warning("Task queue depth is %d", 4)
    queue.warning("Task queue depth is %d", 9)
    assert [r.getMessage() for r in studyhub_lines] == ["Task queue depth is 4", "Task queue depth is 9"]


def test_waitress_info_lines_stay_out_and_a_second_server_adds_no_second_handler(server, studyhub_lines):
    logging.getLogger("waitress").info("Serving on http://127.0.0.1:8000")
    create_server(lambda environ, start_response: [], host="127.0.0.1", port=0, threads=8).close()
    logging.getLogger("waitress").warning("a warning")
    logging.getLogger("waitress.queue").warning("Task queue depth is %d", 4)  # below the new server's 8
    assert [r.getMessage() for r in studyhub_lines] == ["a warning"]
