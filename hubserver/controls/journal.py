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

BODY_LIMIT = 64 * 1024  # a larger body is not kept (its entry says null)
BODIES_LIMIT = 8 * 1024 * 1024  # all bodies kept: past it, the oldest entries' bodies go first
QUERY_LIMIT = 8 * 1024  # a longer query is kept cut to this, ending in "..."


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
    """A ring of the last ``size`` requests, oldest first, bounded in bytes too.

    A body is kept up to BODY_LIMIT bytes, all bodies together up to
    BODIES_LIMIT (the oldest entries lose theirs first), a query up to
    QUERY_LIMIT: however large the requests, the journal holds at most about
    ``size`` x QUERY_LIMIT + BODIES_LIMIT bytes.
    """

    def __init__(self, size):
        self._entries = deque()
        self._size = size
        self._body_bytes = 0
        self._lock = threading.Lock()

    def record(self, time, method, path, query, namespace, body, content_type):
        """Add a request not yet answered; return its entry, to be given its status.

        ``body`` is the raw body (bytes of at most BODY_LIMIT) or None.
        """
        if body is not None and may_hold_secret(body):
            parsed = parsed_body(body, content_type)  # masked now, kept as JSON
            body, content_type = (None, "") if parsed is None else (json.dumps(parsed).encode(), JSON_TYPE)
        query = masked_query(query)
        if len(query) > QUERY_LIMIT:
            query = query[: QUERY_LIMIT - 3] + "..."
        entry = [time, method, path, query, None, namespace, body, content_type]
        with self._lock:
            if len(self._entries) >= self._size:
                self._drop_body(self._entries.popleft())
            self._entries.append(entry)
            self._body_bytes += len(body or b"")
            oldest = iter(self._entries)
            while self._body_bytes > BODIES_LIMIT:
                self._drop_body(next(oldest))
        return entry

    def _drop_body(self, entry):
        self._body_bytes -= len(entry[6] or b"")
        entry[6] = None

    @staticmethod
    def answered(entry, status):
        """Give an entry the status of its answer."""
        entry[4] = status

    def entries(self, method=None, path_prefix=None, namespace=None, limit=None):
        """Return the entries that match every filter given, oldest first (the last ``limit``), as an iterator.

        What matched is taken at once; each entry is made into its answer only
        as it is iterated, so that reading the journal costs one entry's
        memory at a time. ``len()`` of the result is its count.
        """
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
        return _Answers([list(entry) for entry in found])

    def clear(self):
        """Forget every entry."""
        with self._lock:
            self._entries.clear()
            self._body_bytes = 0


class _Answers:
    """The journal's answers for some entries, made one at a time as they are iterated."""

    def __init__(self, entries):
        self._entries = entries

    def __len__(self):
        return len(self._entries)

    def __iter__(self):
        for time, method, path, query, status, namespace, body, content_type in self._entries:
            yield {
                "time": time,
                "method": method,
                "path": path,
                "query": query,
                "status": status,
                "namespace": namespace,
                "body": parsed_body(body, content_type),
            }
