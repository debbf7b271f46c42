"""waitress's own log records go where StudyHub's do, and its queue-depth chatter doesn't flood them
(waitress's own loop, the engine where there is no epoll; the epoll engine: test_epoll_server.py)."""

import logging

import pytest

from local.wsgi_server import create_server


@pytest.fixture
def server():
    made = create_server(lambda environ, start_response: [], host="127.0.0.1", port=0, threads=4, engine="waitress")
    yield made
    made.close()


def test_an_error_waitress_logs_reaches_the_studyhub_handlers(server, captured):
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("waitress").exception("Exception while serving /api/work/topics")
    assert [r.getMessage() for r in captured.records] == ["Exception while serving /api/work/topics"]
    assert captured.records[0].exc_info is not None


def test_a_short_queue_is_not_logged_a_queue_as_deep_as_the_threads_is(server, captured):
    queue = logging.getLogger("waitress.queue")
    for depth in (1, 2, 3):
        queue.warning("Task queue depth is %d", depth)
    assert captured.records == []
    queue.warning("Task queue depth is %d", 4)
    queue.warning("Task queue depth is %d", 9)
    assert [r.getMessage() for r in captured.records] == ["Task queue depth is 4", "Task queue depth is 9"]


def test_waitress_info_lines_stay_out_and_a_second_server_adds_no_second_handler(server, captured):
    logging.getLogger("waitress").info("Serving on http://127.0.0.1:8000")
    create_server(lambda environ, start_response: [], host="127.0.0.1", port=0, threads=8, engine="waitress").close()
    logging.getLogger("waitress").warning("a warning")
    logging.getLogger("waitress.queue").warning("Task queue depth is %d", 4)  # below the new server's 8
    assert [r.getMessage() for r in captured.records] == ["a warning"]
