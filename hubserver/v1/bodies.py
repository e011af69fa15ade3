"""Request bodies, parsed the way DRF parses them: JSON, url-encoded and multipart forms.

An empty body is ``{}`` whatever its type. JSON that does not parse is a 400;
a non-empty body of any other media type is a 415. The size limit is Flask's
``MAX_CONTENT_LENGTH``: reading past it raises a 413.
"""

import json

from werkzeug.exceptions import BadRequest, UnsupportedMediaType

JSON_TYPE = "application/json"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _reject_constant(name):
    raise ValueError("Out of range float values are not JSON compliant: %r" % name)


def parse_json(data):
    """Return the value of a JSON body; BadRequest naming what is wrong."""
    try:
        return json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        raise BadRequest("JSON parse error - %s" % error) from None


def _form_fields(request):
    # The last value of a repeated key wins, as in Django's QueryDict.
    fields = {key: values[-1] for key, values in request.form.lists()}
    fields.update((key, values[-1]) for key, values in request.files.lists())
    return fields


def parse_body(request):
    """Return the body of a Flask request as parsed data (usually a dict)."""
    if request.mimetype in FORM_TYPES:
        return _form_fields(request)
    data = request.get_data(cache=False)
    if not data:
        return {}
    if request.mimetype == JSON_TYPE:
        return parse_json(data)
    raise UnsupportedMediaType('Unsupported media type "%s" in request.' % request.headers.get("Content-Type", ""))
