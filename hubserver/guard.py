"""What no request gets past: text that is not text in its query, its headers, or its JSON or form body.

The check runs before anything else sees the request (the journal, the fault
rules, the store), so a lone surrogate or a byte that is not UTF-8 can never
be stored, kept, or break an answer later: it is a 400 in the surface's shape.
Blob uploads and multipart bodies are bytes, not text, and are not looked at.
"""

from flask import request

from hubserver import limits, routes, text
from hubserver.errors import AnswerError
from hubserver.v1.bodies import FORM_TYPES, JSON_TYPE


class BadText(AnswerError):
    """A request with text that is not text; the message says where."""

    status = 400
    registry_code = "UNSUPPORTED"


def init_app(app):
    """Refuse text that is not text, in a hook that runs right after the body limits."""
    app.before_request(refuse_bad_text)


def refuse_bad_text():
    """Raise BadText for a query, a header or a JSON or form body that is not valid text (in app.admit)."""
    environ = request.environ
    if "%" in environ.get("QUERY_STRING", "") or not _ascii_only(environ):  # the usual request: nothing to see
        _refuse_bad_head(environ)
    if not limits.has_body(environ) or routes.carries_bytes(request.path):
        return  # no body, or a blob's bytes, whatever its Content-Type says
    mimetype = request.mimetype
    if (
        mimetype not in (JSON_TYPE, FORM_TYPES[0])
        or not 0 < (request.content_length or 0) <= request.max_content_length
    ):
        return  # not text, or its size is refused (or unknown: chunked, under a test client) when it is read
    body = request.get_data(cache=True)
    if mimetype == JSON_TYPE and text.json_holds_lone_surrogate(body):
        raise BadText("JSON parse error - the body holds a lone surrogate, which is not text.")
    if mimetype == FORM_TYPES[0] and not text.is_percent_utf8(body.decode("latin-1")):
        raise BadText("The form body is not valid UTF-8.")


def _ascii_only(environ):
    return "".join([value for value in environ.values() if type(value) is str]).isascii()


def _refuse_bad_head(environ):
    if not text.is_percent_utf8(environ.get("QUERY_STRING", "")):
        raise BadText("The query string is not valid UTF-8.")
    for key, value in environ.items():
        if key.startswith("HTTP_") and not text.is_wsgi_utf8(value):
            raise BadText("The %s header is not valid UTF-8." % key[5:].replace("_", "-").title())
