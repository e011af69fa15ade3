"""The request journal: the last requests that reached hubserver, for tests to inspect."""

import threading
from collections import deque

BODY_LIMIT = 64 * 1024
MASK = "***"


def masked(value):
    """Return ``value`` with the value of every ``password`` key replaced by ``***``."""
    if isinstance(value, dict):
        return {key: MASK if key == "password" else masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value


class Journal:
    """A ring of the last ``size`` requests, oldest first."""

    def __init__(self, size):
        self._entries = deque(maxlen=size)
        self._lock = threading.Lock()

    def record(self, time, method, path, query, namespace, body):
        """Add a request not yet answered; return its entry, to be given its status."""
        entry = {
            "time": time,
            "method": method,
            "path": path,
            "query": query,
            "status": None,
            "namespace": namespace,
            "body": masked(body),
        }
        with self._lock:
            self._entries.append(entry)
        return entry

    def entries(self, method=None, path_prefix=None, namespace=None, limit=None):
        """Return the entries that match every filter given, oldest first; the last ``limit``."""
        with self._lock:
            found = [
                entry
                for entry in self._entries
                if (method is None or entry["method"] == method.upper())
                and (path_prefix is None or entry["path"].startswith(path_prefix))
                and (namespace is None or entry["namespace"] == namespace)
            ]
        return found[len(found) - limit :] if limit is not None and limit < len(found) else found

    def clear(self):
        """Forget every entry."""
        with self._lock:
            self._entries.clear()
