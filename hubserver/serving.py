"""Serving the application with waitress: the server, and what hubserver adds to it.

hubserver's channel lets the application reach the client's socket (to drop a
connection, for a fault rule) and hangs up at once on a TLS handshake. Every
request gets a line in the access log, once its answer is sent.
"""

import json
import logging
import signal
import time
from datetime import datetime, timezone

from waitress.channel import HTTPChannel
from waitress.server import create_server
from waitress.task import WSGITask

from hubserver.clock import format_timestamp
from hubserver.controls.views import SOCKET_KEY
from hubserver.redaction import masked_query
from hubserver.web import NAMESPACE_KEY

access_log = logging.getLogger("hubserver.access")


class _SocketTask(WSGITask):
    """A waitress task that lets the application reach the client's socket (to drop it)."""

    def get_environment(self):
        environ = super().get_environment()
        environ[SOCKET_KEY] = self.channel.socket
        return environ


class _SocketChannel(HTTPChannel):
    """A waitress channel that hangs up at once on a TLS handshake.

    hubserver speaks plain HTTP. Registry clients told a registry is insecure
    try HTTPS first and fall back to HTTP when that fails: waiting for the end
    of an HTTP header that never comes would cost them their whole handshake
    timeout (10 s for skopeo) on every connection.
    """

    task_class = _SocketTask
    _first_bytes = True

    def received(self, data):
        if self._first_bytes and data[:1] == b"\x16":  # a TLS record of type handshake
            self.will_close = True
            return False
        self._first_bytes = False
        return super().received(data)


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
            "time": format_timestamp(datetime.now(timezone.utc)),
            "remote": environ.get("REMOTE_ADDR", "-"),
            "method": environ.get("REQUEST_METHOD", ""),
            "path": environ.get("PATH_INFO", ""),
            "query": masked_query(environ.get("QUERY_STRING", "")),
            "status": answer.get("status"),
            "bytes": sent,
            "ms": round((time.perf_counter() - started) * 1000, 1),
            "namespace": environ.get(NAMESPACE_KEY),
        }
        access_log.info("%s", json.dumps(fields) if self.json else _common_line(fields, environ))


def _common_line(fields, environ):
    when = datetime.now(timezone.utc).strftime("%d/%b/%Y:%H:%M:%S +0000")
    target = fields["path"] + ("?" + fields["query"] if fields["query"] else "")
    return '%s - - [%s] "%s %s %s" %s %d %.1fms %s' % (
        fields["remote"],
        when,
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


def make_server(app, host, port, threads, max_request_body_size, log_format="common"):
    """Return a waitress server of ``app``, bound and listening; OSError if the address is refused."""
    server = create_server(
        AccessLog(app, log_format), host=host, port=port, threads=threads, max_request_body_size=max_request_body_size
    )
    server.channel_class = _SocketChannel
    return server


def _stop(signum, frame):
    raise KeyboardInterrupt  # waitress's loop ends cleanly on it


def run(server):
    """Serve until SIGINT or SIGTERM: both, also where SIGINT was ignored (a background job of a script)."""
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    server.run()
