"""Serving the application with waitress: the server, and what hubserver adds to it.

hubserver's channel lets the application reach the client's socket (to drop a
connection, for a fault rule), hangs up at once on a TLS handshake, and drops
a connection whose request headers take longer than HEADER_TIMEOUT. Its
parser leaves unread a body over its route's limit (``limits.py``); once the
refusal is sent, the channel lingers: it reads and throws away what the
client still sends of that body, for LINGER_SECONDS or LINGER_BYTES at most,
then closes, so that a client that sends its whole body before it reads
(urllib, requests) gets the answer and not a reset. Every request gets a
line in the access log, once its answer is sent.
"""

import json
import logging
import signal
import socket
import time
from datetime import datetime, timezone
from functools import partial

from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import create_server
from waitress.task import WSGITask

from hubserver.clock import format_timestamp
from hubserver.controls.views import SOCKET_KEY
from hubserver.limits import LIMITS_KEY
from hubserver.redaction import masked_query
from hubserver.web import NAMESPACE_KEY

access_log = logging.getLogger("hubserver.access")
HEADER_TIMEOUT = 5  # seconds from a request's first byte (or the connection) to the end of its headers
IDLE_TIMEOUT = 30  # seconds a connection may send nothing between requests, or in a body
CONNECTION_LIMIT = 500  # open connections before waitress stops accepting (below the usual 1024 files)
LINGER_SECONDS = 5  # after refusing a body: how long its rest is read and thrown away, at most
LINGER_BYTES = 64 * 1024 * 1024  # and how much of it
LINGER_READ = 256 * 1024  # bytes thrown away a turn of the loop


class _LimitedParser(HTTPRequestParser):
    """A waitress request parser that leaves unread a body over its route's limit.

    The request still goes to the application, with its Content-Length and
    no body: the application refuses it in its surface's shape as soon as a
    view reads it (see ``limits.apply``), and the connection is closed after
    the answer, so that the unread body is never taken for a request.
    """

    refused = False
    body_limit = None

    def __init__(self, limits, adj):
        super().__init__(adj)
        self.limits = limits

    def parse_header(self, header_plus):
        super().parse_header(header_plus)
        if not (self.chunked or self.content_length):
            return  # no body: nothing to limit
        self.body_limit = self.limits.for_request(self.command, self.path, "AUTHORIZATION" in self.headers)
        if not self.chunked and self.content_length > self.body_limit:
            self._refuse()

    def received(self, data):
        consumed = super().received(data)
        if self.chunked and not self.completed and self.body_bytes_received > self.body_limit:
            self.headers["CONTENT_LENGTH"] = str(self.body_bytes_received)  # over the limit: refused when read
            self._refuse()
            self.completed = True
        return len(data) if self.refused else consumed  # the rest of what came is the refused body's

    def _refuse(self):
        self.refused = True
        self.body_rcv = None
        self.content_length = 0  # read nothing, and do not let waitress refuse it in plain text first
        self.expect_continue = False
        self.connection_close = True


class _SocketTask(WSGITask):
    """A waitress task that lets the application reach the client's socket (to drop it)."""

    def get_environment(self):
        environ = super().get_environment()
        environ[SOCKET_KEY] = self.channel.socket
        return environ

    def execute(self):
        if self.request.refused:
            self.set_close_on_finish()
            self.channel.linger_after_answer = True
        super().execute()


class _SocketChannel(HTTPChannel):
    """A waitress channel that hangs up at once on a TLS handshake, and lingers after refusing a body.

    hubserver speaks plain HTTP. Registry clients told a registry is insecure
    try HTTPS first and fall back to HTTP when that fails: waiting for the end
    of an HTTP header that never comes would cost them their whole handshake
    timeout (10 s for skopeo) on every connection.
    """

    task_class = _SocketTask
    _first_bytes = True
    _header_since = None  # when the request being read sent its first byte
    linger_after_answer = False  # the answer refuses a body the client may still be sending
    _linger_until = None  # while lingering: when to close at the latest
    _lingered = 0  # bytes thrown away while lingering

    @property
    def parser_class(self):
        return partial(_LimitedParser, self.server.body_limits)

    def received(self, data):
        if self._first_bytes and data[:1] == b"\x16":  # a TLS record of type handshake
            self.will_close = True
            return False
        self._first_bytes = False
        if self.request is None:
            self._header_since = time.time()
        return super().received(data)

    def writable(self):
        """Also close the connection if its headers are overdue, or its lingering is over (asked every turn)."""
        if self._headers_overdue(time.time() - HEADER_TIMEOUT) or self._linger_over():
            self.will_close = True
        return super().writable()

    def handle_write(self):
        """As waitress's, but once a refusal is sent, linger instead of closing."""
        if not (self.close_when_flushed and self.linger_after_answer):
            return super().handle_write()
        self.close_when_flushed = False  # so that sending the answer does not close the connection
        super().handle_write()
        if self.connected and not self.will_close:
            if self.total_outbufs_len:
                self.close_when_flushed = True  # the rest of the answer goes on a later turn
            else:
                self._linger()

    def _linger(self):
        """Say that the answer is whole (half-close), then read and throw away what the client sends."""
        self.linger_after_answer = False
        self._linger_until = time.monotonic() + LINGER_SECONDS
        try:
            self.socket.shutdown(socket.SHUT_WR)
        except OSError:
            self.will_close = True  # the client is gone already

    def _linger_over(self):
        return self._linger_until is not None and (
            time.monotonic() > self._linger_until or self._lingered >= LINGER_BYTES
        )

    def handle_read(self):
        if self._linger_until is None:
            return super().handle_read()
        try:
            thrown_away = len(self.socket.recv(LINGER_READ))
        except BlockingIOError:
            return None
        except OSError:
            thrown_away = 0
        self._lingered += thrown_away
        if not thrown_away or self._linger_over():
            self.handle_close()  # the client is done (or gone), or the bound is reached
        return None

    def _headers_overdue(self, cutoff):
        if self.request is None:  # between requests (the idle timeout's), or before the first byte
            return self._header_since is None and self.creation_time < cutoff
        return not self.request.headers_finished and self._header_since < cutoff


class AccessLog:
    """WSGI middleware: one line a request in the ``hubserver.access`` log, at INFO.

    The line has the client, the time, the method, the path and query (secrets
    masked), the status, the bytes of the body sent, the milliseconds until the
    last of them, and the namespace (``-`` for none): in the common log format
    with the last two added, or as one JSON object (``json``).
    """

    def __init__(self, app, log_format="common"):
        self.app = app
        self.json = log_format == "json"

    def __call__(self, environ, start_response):
        if not access_log.isEnabledFor(logging.INFO):
            return self.app(environ, start_response)
        started = time.perf_counter()
        answer = {}

        def start(status, headers, exc_info=None):
            answer["status"] = int(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info)

        return _Counted(self.app(environ, start), lambda sent: self._write(environ, answer, sent, started))

    def _write(self, environ, answer, sent, started):
        fields = {
            "time": datetime.now(timezone.utc),
            "remote": environ.get("REMOTE_ADDR", "-"),
            "method": environ.get("REQUEST_METHOD", ""),
            "path": environ.get("PATH_INFO", ""),
            "query": masked_query(environ.get("QUERY_STRING", "")),
            "status": answer.get("status"),
            "bytes": sent,
            "ms": round((time.perf_counter() - started) * 1000, 1),
            "namespace": environ.get(NAMESPACE_KEY),
        }
        line = _json_line(fields) if self.json else _common_line(fields, environ)
        # handle() of a record made here: logging's search of the stack for the caller costs more than the line.
        access_log.handle(access_log.makeRecord(access_log.name, logging.INFO, __file__, 0, line, None, None))


def _json_line(fields):
    return json.dumps({**fields, "time": format_timestamp(fields["time"])})


def _common_line(fields, environ):
    target = fields["path"] + ("?" + fields["query"] if fields["query"] else "")
    return '%s - - [%s] "%s %s %s" %s %d %.1fms %s' % (
        fields["remote"],
        fields["time"].strftime("%d/%b/%Y:%H:%M:%S +0000"),
        fields["method"],
        target,
        environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
        fields["status"] or "-",
        fields["bytes"],
        fields["ms"],
        fields["namespace"] or "-",
    )


class _Counted:
    """An answer's body, counted as it is sent; ``done(bytes sent)`` is called when the server closes it."""

    def __init__(self, body, done):
        self._body = body
        self._done = done
        self._sent = 0

    def __iter__(self):
        for chunk in self._body:
            self._sent += len(chunk)
            yield chunk

    def close(self):
        try:
            if hasattr(self._body, "close"):
                self._body.close()
        finally:
            self._done(self._sent)


def make_server(app, host, port, threads, log_format="common"):
    """Return a waitress server of ``app``, bound and listening; OSError if the address is refused."""
    limits = app.extensions[LIMITS_KEY]
    server = create_server(
        AccessLog(app, log_format),
        host=host,
        port=port,
        threads=threads,
        max_request_body_size=limits.largest + 1,  # never reached: the parser refuses first
        connection_limit=CONNECTION_LIMIT,
        channel_timeout=IDLE_TIMEOUT,
        cleanup_interval=1,
    )
    server.channel_class = _SocketChannel
    server.body_limits = limits
    _wait_for_idle_threads(server.task_dispatcher)
    return server


def _wait_for_idle_threads(dispatcher, timeout=5.0):
    """Return once every worker thread waits for a task, or after ``timeout`` seconds.

    waitress counts a thread as busy until it first reaches its wait, and warns
    "Task queue depth is 1" of a request that arrives before then; a server
    that answers only once its threads wait never logs that at start.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with dispatcher.lock:
            if dispatcher.active_count == 0:
                return
        time.sleep(0.001)


def _stop(signum, frame):
    raise KeyboardInterrupt  # waitress's loop ends cleanly on it


def run(server, ready):
    """Serve until SIGINT or SIGTERM: both, also where SIGINT was ignored (a background job of a script).

    ``ready()`` is called once both signals stop the server, before serving:
    whoever it tells may stop it at once.
    """
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        ready()
    except KeyboardInterrupt:
        server.close()
        return
    server.run()
