"""Text that is text: UTF-8 that decodes, and no lone surrogate (which no UTF-8 can write).

JSON lets a body escape a lone surrogate (``"\\ud800"``); Python then holds a
string that cannot be written back as UTF-8, so it must never get past the
door. One place for the rule: request bodies, queries and headers, manifests
and state documents are all checked with it.
"""

import json
import re
from urllib.parse import unquote_to_bytes

# A surrogate escape in JSON: \\ud800 to \\udfff. A pair (an emoji) is fine; only a lone one is not text.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def is_utf8(data):
    """Tell whether bytes decode as UTF-8."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def is_wsgi_utf8(text):
    """Tell whether a WSGI string (latin-1 of the bytes sent) is UTF-8; at once for ASCII, the usual case."""
    return text.isascii() or is_utf8(text.encode("latin-1", "replace"))


def is_percent_utf8(text):
    """Tell whether a WSGI string (latin-1 of the bytes sent) of percent-escapes decodes as UTF-8."""
    if text.isascii() and "%" not in text:
        return True
    return is_utf8(unquote_to_bytes(text.encode("latin-1").replace(b"+", b" ")))


def holds_lone_surrogate(value):
    """Tell whether a parsed JSON value holds a string that is not Unicode text (a lone surrogate)."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def json_holds_lone_surrogate(data):
    """Tell whether JSON bytes escape a lone surrogate; cheap when they escape none at all."""
    if not _SURROGATE_ESCAPE.search(data):
        return False
    try:
        return holds_lone_surrogate(json.loads(data))
    except (ValueError, RecursionError):
        return False  # not JSON: the body's parser says so
