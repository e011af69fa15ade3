"""Group commit: changes to one file, written together by whichever thread goes first.

A durable write of a whole namespace file costs the same for one change as for
ten. Threads that change one namespace at once queue their changes; the first
to get the namespace's writer lock applies every queued change, in arrival
order, and writes the file once for all of them. Each thread then returns its
own change's result, or raises its own change's error. Threads wait in order on
an in-process lock and never poll; only the writer contends with other
processes, on the file lock.
"""

import threading
import time
from contextlib import contextmanager


class WriterTimeout(Exception):
    """No thread took a change within the timeout; it was never applied."""


class Change:
    """One queued change: an edit (and a tag the writer may read), and once written, its result or its error."""

    __slots__ = ("done", "edit", "error", "result", "tag")

    def __init__(self, edit, tag=None):
        self.edit = edit
        self.tag = tag
        self.result = None
        self.error = None
        self.done = threading.Event()

    def apply(self, state):
        """Apply the edit to ``state``; return whether it succeeded.

        An edit checks before it changes anything, so one that raises leaves
        ``state`` as it found it, and its error is its own.
        """
        try:
            self.result = self.edit(state)
        except Exception as error:
            self.error = error
            return False
        return True


class GroupCommit:
    """The queue of changes to one file, and the lock of the thread that writes them."""

    def __init__(self):
        self._writer = threading.Lock()
        self._guard = threading.Lock()
        self._pending = []

    def submit(self, edit, commit, timeout, tag=None):
        """Queue ``edit``; return its result once ``commit`` has written it.

        ``commit(changes)`` applies a batch of Change objects and writes the
        outcome; if it raises, every change of the batch without an error of
        its own fails with that exception. WriterTimeout if no thread took
        the change within ``timeout`` seconds: then it was never applied.
        """
        change = Change(edit, tag)
        with self._guard:
            self._pending.append(change)
        deadline = time.monotonic() + timeout
        while not change.done.is_set():
            if self._writer.acquire(timeout=max(0.0, deadline - time.monotonic())):
                try:
                    if not change.done.is_set():
                        self._write_pending(commit)
                finally:
                    self._writer.release()
            else:
                self._withdraw_or_wait(change)
        if change.error is not None:
            raise change.error
        return change.result

    def _write_pending(self, commit):
        with self._guard:
            batch, self._pending = self._pending, []
        try:
            commit(batch)
        except Exception as error:
            for change in batch:
                if change.error is None:
                    change.error = error
        finally:
            for change in batch:
                change.done.set()

    def _withdraw_or_wait(self, change):
        with self._guard:
            if change in self._pending:
                self._pending.remove(change)
                raise WriterTimeout()
        change.done.wait()  # a writer took it and is writing it now

    @contextmanager
    def exclusive(self, timeout):
        """Hold the writer lock: no batch is written meanwhile. WriterTimeout if not obtained."""
        if not self._writer.acquire(timeout=timeout):
            raise WriterTimeout()
        try:
            yield
        finally:
            self._writer.release()
