"""The request journal: the last requests that reached hubserver, for tests to inspect.

Recording happens on every request, so it keeps what it is given and parses a
body when the journal is read; but a body or a query that may hold a secret (a
password or a token) is masked as it is recorded, so the journal never holds one.
"""

import json
import threading
from collections import deque

from werkzeug.wrappers import Request

from hubserver.redaction import masked, masked_query, may_hold_secret
from hubserver.v1.bodies import FORM_TYPES, JSON_TYPE

BODY_LIMIT = 64 * 1024


def parsed_body(data, content_type):
    """Return a recorded body as JSON or form fields, masked; None for anything else."""
    if not data:
        return None
    mimetype = content_type.split(";")[0].strip().lower()
    try:
        if mimetype == JSON_TYPE:
            return masked(json.loads(data))
        if mimetype in FORM_TYPES:
            form = Request.from_values(data=data, content_type=content_type, method="POST").form
            return masked({key: values[-1] for key, values in form.lists()})
    except (ValueError, RecursionError):
        return None
    return None


class Journal:
    """A ring of the last ``size`` requests, oldest first."""

    def __init__(self, size):
        self._entries = deque(maxlen=size)
        self._lock = threading.Lock()

    def record(self, time, method, path, query, namespace, body, content_type):
        """Add a request not yet answered; return its entry, to be given its status.

        ``body`` is the raw body (bytes of at most BODY_LIMIT) or None.
        """
        if body is not None and may_hold_secret(body):
            parsed = parsed_body(body, content_type)  # masked now, kept as JSON
            body, content_type = (None, "") if parsed is None else (json.dumps(parsed).encode(), JSON_TYPE)
        query = masked_query(query)
        entry = [time, method, path, query, None, namespace, body, content_type]
        with self._lock:
            self._entries.append(entry)
        return entry

    @staticmethod
    def answered(entry, status):
        """Give an entry the status of its answer."""
        entry[4] = status

    def entries(self, method=None, path_prefix=None, namespace=None, limit=None):
        """Return the entries that match every filter given, oldest first; the last ``limit``."""
        with self._lock:
            found = [
                entry
                for entry in self._entries
                if (method is None or entry[1] == method.upper())
                and (path_prefix is None or entry[2].startswith(path_prefix))
                and (namespace is None or entry[5] == namespace)
            ]
        if limit is not None and limit < len(found):
            found = found[len(found) - limit :]
        return [
            {
                "time": time,
                "method": method,
                "path": path,
                "query": query,
                "status": status,
                "namespace": namespace,
                "body": parsed_body(body, content_type),
            }
            for time, method, path, query, status, namespace, body, content_type in found
        ]

    def clear(self):
        """Forget every entry."""
        with self._lock:
            self._entries.clear()
