"""How large a request body may be, per route: the one place that decides it.

The transport (``serving.py``) asks before it reads a body, from the request
line and the headers alone; the application asks again (``apply``, a
before-request hook) and refuses the body when a view reads it, so the two
never disagree and a test client gets the same answer as a socket.
"""

from flask import current_app, request

from hubserver import routes

MANIFEST_LIMIT = 4 * 1024 * 1024  # what the CNCF registry takes
STATE_LIMIT = 64 * 1024 * 1024  # a whole hub's state, which the body limit would refuse
LIMITS_KEY = "hubserver.body_limits"


class BodyLimits:
    """The body limits of one server: ``--max-body-size``, ``--max-blob-size``, and the routes that differ."""

    def __init__(self, body_size, blob_size, accounts_enabled, admin_enabled):
        self.body_size = body_size
        self.blob_size = blob_size
        self.accounts_enabled = accounts_enabled
        self.admin_enabled = admin_enabled

    @property
    def largest(self):
        """The largest body any route takes."""
        return max(self.body_size, self.blob_size, MANIFEST_LIMIT, STATE_LIMIT)

    def for_request(self, method, path, has_credentials):
        """Return the largest body a request may have, in bytes.

        A blob upload takes a blob, except from an anonymous caller when
        accounts are on: it is refused anyway, and must not send 10 GiB first.
        """
        kind = routes.route_of(path).kind
        if kind == routes.BLOB_UPLOAD and method in ("POST", "PATCH", "PUT"):
            anonymous = self.accounts_enabled and not has_credentials
            return self.body_size if anonymous else self.blob_size
        if kind == routes.MANIFEST and method == "PUT":
            return MANIFEST_LIMIT
        if self.admin_enabled and kind == routes.STATE and method == "PUT":
            return max(self.body_size, STATE_LIMIT)
        return self.body_size


def init_app(app, blob_size, accounts_enabled):
    """Give ``app`` its body limits, and the hook that applies them, which runs before any other."""
    config = app.config
    app.extensions[LIMITS_KEY] = BodyLimits(config["MAX_BODY_SIZE"], blob_size, accounts_enabled, config["ADMIN"])
    app.before_request(apply)


def apply():
    """Give the request its route's body limit (in the first before-request hook, before any reader of the body).

    A request without a body keeps the application's (``--max-body-size``):
    there is nothing to refuse.
    """
    environ = request.environ
    if has_body(environ):
        limits = current_app.extensions[LIMITS_KEY]
        request.max_content_length = limits.for_request(request.method, request.path, "HTTP_AUTHORIZATION" in environ)


def has_body(environ):
    """Tell whether a request comes with a body, from its WSGI environ (cheaply: this runs on every request)."""
    return environ.get("CONTENT_LENGTH", "") not in ("", "0") or "HTTP_TRANSFER_ENCODING" in environ
