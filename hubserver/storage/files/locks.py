"""File locks: one writer at a time for a file, across the threads and processes of a data directory.

A lock is an exclusive ``flock`` on a lock file beside the file it guards
(``<file>.lock``), the lock filelock takes on POSIX, so hubserver processes and
any other program using filelock exclude one another. ``FileLocks`` keeps each
lock file open between holds: taking a lock costs an ``flock`` and a ``stat``,
not a create, an open and a close. Where ``flock`` does not exist (Windows),
filelock does the work, opening the file each time.
"""

import os
import threading
import time
from contextlib import contextmanager

import filelock

from hubserver.storage.files.durable import FILE_MODE, O_CLOEXEC, KeptOpen, PerKey

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

KEPT_OPEN = 128  # lock files kept open at most; the least recently held is closed first
_POLL_FIRST, _POLL_MOST = 0.0005, 0.02  # seconds between tries while another process holds a lock


class LockTimeout(Exception):
    """A lock was not obtained within its timeout."""


class FileLocks:
    """The locks of some lock files, each held by one thread of this process at a time.

    A thread first takes the lock's in-process lock, then the file lock; a
    lock file is kept open after it is released, up to KEPT_OPEN of them. A
    kept file that was removed or replaced meanwhile is opened again: a lock
    is only good on the file the path names now.
    """

    def __init__(self, timeout):
        self.timeout = timeout
        self._threads = PerKey(threading.Lock)  # lock path -> the lock of this process's threads
        self._kept = KeptOpen(KEPT_OPEN, os.close)  # lock path -> open descriptor

    def hold(self, lock_path):
        """Hold the lock at ``lock_path``; LockTimeout if it is not obtained in time."""
        if fcntl is None:
            return self._held_by_filelock(lock_path)
        return self._held(lock_path)

    @contextmanager
    def _held(self, lock_path):
        deadline = time.monotonic() + self.timeout
        with self._thread_lock(lock_path, deadline):
            fd = self._flocked(lock_path, deadline)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                self._kept.keep(lock_path, fd)

    @contextmanager
    def _held_by_filelock(self, lock_path):
        deadline = time.monotonic() + self.timeout
        with self._thread_lock(lock_path, deadline), hold_alone(lock_path, max(0.0, deadline - time.monotonic())):
            yield

    @contextmanager
    def _thread_lock(self, lock_path, deadline):
        lock = self._threads[lock_path]
        if not lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise LockTimeout(lock_path)
        try:
            yield
        finally:
            lock.release()

    def _flocked(self, lock_path, deadline):
        """Return a descriptor of the file at ``lock_path`` now, flocked; LockTimeout past ``deadline``."""
        fd = self._kept.take(lock_path)
        pause = _POLL_FIRST
        while True:
            if fd is None:
                fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | O_CLOEXEC, FILE_MODE)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise LockTimeout(lock_path) from None
                time.sleep(pause)
                pause = min(pause * 2, _POLL_MOST)
                continue
            if _names(lock_path, fd):
                return fd
            os.close(fd)  # removed or replaced while it was kept or waited for: lock the file there now
            fd = None


def _names(lock_path, fd):
    """Tell whether ``lock_path`` names the file open at ``fd``."""
    try:
        found, kept = os.stat(lock_path), os.fstat(fd)
    except FileNotFoundError:
        return False
    return (found.st_dev, found.st_ino) == (kept.st_dev, kept.st_ino)


def hold_alone(lock_path, timeout):
    """Hold the lock at ``lock_path`` against every other holder, other threads of this process too.

    For lock files that come and go (an upload's): the file is opened for
    each hold. LockTimeout if it is not obtained within ``timeout`` seconds.
    """
    return _held_filelock(filelock.FileLock(lock_path, mode=FILE_MODE), timeout)


@contextmanager
def _held_filelock(lock, timeout):
    try:
        lock.acquire(timeout=timeout)
    except filelock.Timeout:
        raise LockTimeout(lock.lock_file) from None
    try:
        yield
    finally:
        lock.release()
