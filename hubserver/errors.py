"""Errors that know their answer: the status, the body under the hub API, the code under /v2/.

A room raises a subclass of ``AnswerError`` and never builds an answer; the
application's one error handler renders any of them, under ``/v1/`` and
``/_hub/`` as DRF would (``{"detail": ...}``), under ``/v2/`` in the
registry's error shape, under ``/ui/`` as a page. A new subclass needs nothing
more than its class attributes.
"""


class AnswerError(Exception):
    """Base of every error that is an answer.

    ``status`` is its HTTP status; ``detail`` the hub API's detail (None: the
    error's own message); ``registry_code`` its code under ``/v2/``, and
    ``registry_detail()`` that error's detail (None: the registry's default
    for its code); ``challenge`` the ``WWW-Authenticate`` of a 401 under the
    hub API.
    """

    status = 500
    detail = None
    registry_code = "UNKNOWN"
    challenge = None

    def shown(self):
        """Return the detail the answer shows."""
        return self.detail or str(self)

    def registry_detail(self):
        """Return the detail of this error under ``/v2/`` (None: the registry's default for its code)."""
        return None

    def body(self):
        """Return the hub API's body of this answer (DRF's shape)."""
        return {"detail": self.shown()}

    def headers(self):
        """Return the headers this answer carries under the hub API."""
        return {"WWW-Authenticate": self.challenge} if self.challenge else {}


class ServerError(AnswerError):
    """Something went wrong that no room expected: a logged 500, in the shape of the surface asked."""

    def __init__(self):
        super().__init__("A server error occurred.")
