"""The registry protocol's errors: ``{"errors": [{"code", "message", "detail"}]}``.

Codes, statuses and messages are those of the OCI distribution spec, worded
as the CNCF distribution registry words them.
"""

from hubserver.errors import AnswerError

CODES = {
    "BLOB_UNKNOWN": (404, "blob unknown to registry"),
    "BLOB_UPLOAD_INVALID": (400, "blob upload invalid"),
    "BLOB_UPLOAD_UNKNOWN": (404, "blob upload unknown to registry"),
    "DIGEST_INVALID": (400, "provided digest did not match uploaded content"),
    "MANIFEST_BLOB_UNKNOWN": (400, "blob unknown to registry"),
    "MANIFEST_INVALID": (400, "manifest invalid"),
    "MANIFEST_UNKNOWN": (404, "manifest unknown"),
    "NAME_INVALID": (400, "invalid repository name"),
    "NAME_UNKNOWN": (404, "repository name not known to registry"),
    "SIZE_INVALID": (400, "provided length did not match content length"),
    "RANGE_INVALID": (416, "invalid content range"),
    "UNAUTHORIZED": (401, "authentication required"),
    "DENIED": (403, "requested access to the resource is denied"),
    "UNSUPPORTED": (405, "The operation is unsupported."),
    "PAGINATION_NUMBER_INVALID": (400, "invalid number of results requested"),
    "TOOMANYREQUESTS": (429, "too many requests"),
    "UNKNOWN": (500, "unknown error"),
}


class RegistryError(AnswerError):
    """An answer in the registry protocol's error shape.

    ``detail`` is the error's detail; a list of details gives one error of the
    same code for each. ``headers`` go with the answer (a challenge, a wait).
    """

    def __init__(self, code, detail=None, status=None, headers=None):
        default_status, message = CODES[code]
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = detail if isinstance(detail, list) else [detail]
        self.status = status or default_status
        self.registry_code = code
        self._headers = headers or {}

    def headers(self):
        """Return the headers that go with the answer."""
        return self._headers

    def body(self):
        """Return the error body."""
        return {"errors": [{"code": self.code, "message": self.message, "detail": detail} for detail in self.details]}
