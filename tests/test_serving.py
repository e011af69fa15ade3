"""The waitress server make_server builds, driven in this process."""

import logging
import threading
import time

from waitress.task import ThreadedTaskDispatcher

import hubserver
from hubserver.serving import make_server


class Request:
    """A task as waitress's dispatcher takes one: serviced by a worker thread."""

    def __init__(self):
        self.served = threading.Event()

    def service(self):
        self.served.set()

    def cancel(self):
        pass


def slow_to_start(monkeypatch, seconds):
    """Make each worker thread take ``seconds`` before it first waits for a task, as on a loaded machine."""
    handler_thread = ThreadedTaskDispatcher.handler_thread

    def late_handler_thread(dispatcher, thread_no):
        time.sleep(seconds)
        handler_thread(dispatcher, thread_no)

    monkeypatch.setattr(ThreadedTaskDispatcher, "handler_thread", late_handler_thread)


def test_a_request_the_moment_the_server_listens_is_not_logged_as_queued(tmp_path, caplog, monkeypatch):
    slow_to_start(monkeypatch, 0.2)
    app = hubserver.create_app({"DATA_DIR": str(tmp_path)})
    request = Request()
    with caplog.at_level(logging.WARNING, logger="waitress.queue"):
        server = make_server(app, "127.0.0.1", 0, threads=4)
        server.task_dispatcher.add_task(request)
    try:
        assert request.served.wait(30)
        assert caplog.messages == []  # not "Task queue depth is 1"
    finally:
        server.close()
        server.task_dispatcher.shutdown()
