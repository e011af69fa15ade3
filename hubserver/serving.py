"""Serving the application with waitress: the server, and what hubserver adds to it.

hubserver's channel lets the application reach the client's socket (to drop a
connection, for a fault rule) and hangs up at once on a TLS handshake.
"""

import signal

from waitress.channel import HTTPChannel
from waitress.server import create_server
from waitress.task import WSGITask

from hubserver.controls.views import SOCKET_KEY


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


def make_server(app, host, port, threads, max_request_body_size):
    """Return a waitress server of ``app``, bound and listening; OSError if the address is refused."""
    server = create_server(app, host=host, port=port, threads=threads, max_request_body_size=max_request_body_size)
    server.channel_class = _SocketChannel
    return server


def _stop(signum, frame):
    raise KeyboardInterrupt  # waitress's loop ends cleanly on it


def run(server):
    """Serve until SIGINT or SIGTERM."""
    signal.signal(signal.SIGTERM, _stop)
    server.run()
