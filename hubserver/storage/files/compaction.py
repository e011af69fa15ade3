"""Compaction when a namespace rests: after ``idle`` seconds without a change, on a thread of its own.

At rest, a data directory is then just the namespace files a person can read
and edit. Time is real monotonic time: a frozen hub clock must not keep logs
from being compacted.
"""

import logging
import threading
import time

log = logging.getLogger(__name__)


class IdleCompactor:
    """Calls ``compact(namespace)`` once a namespace has had no change for ``idle`` seconds."""

    def __init__(self, compact, idle):
        self._compact = compact
        self._idle = idle
        self._due = {}  # namespace -> monotonic time it is due
        self._changed = threading.Condition()
        self._thread = None
        self._closed = False

    def touched(self, namespace):
        """Note a change to ``namespace``: its compaction waits ``idle`` seconds more."""
        with self._changed:
            if self._closed:
                return
            waiting_for_nothing = not self._due
            self._due[namespace] = time.monotonic() + self._idle
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="hubserver compaction", daemon=True)
                self._thread.start()
            # Each due time is later than those before it, so the thread need
            # only be woken when it waits for nothing; else it wakes when the
            # first is due, and waits again for what moved later.
            if waiting_for_nothing:
                self._changed.notify()

    def _run(self):
        while True:
            with self._changed:
                while not self._closed and not self._ready():
                    self._changed.wait(self._wait())
                if self._closed:
                    return
                now = time.monotonic()
                due = [namespace for namespace, when in self._due.items() if when <= now]
                for namespace in due:
                    del self._due[namespace]
            for namespace in due:
                self._compact_quietly(namespace)

    def _ready(self):
        now = time.monotonic()
        return any(when <= now for when in self._due.values())

    def _wait(self):
        if not self._due:
            return None
        return max(0.0, min(self._due.values()) - time.monotonic())

    def _compact_quietly(self, namespace):
        try:
            self._compact(namespace)
        except Exception:  # a corrupt file, a full disk: the next change or the stop tries again
            log.exception("could not compact namespace %s", namespace)

    def close(self):
        """Stop the thread; return the namespaces that were waiting for compaction."""
        with self._changed:
            self._closed = True
            pending, self._due = list(self._due), {}
            self._changed.notify()
        if self._thread is not None:
            self._thread.join(timeout=30)
        return pending
