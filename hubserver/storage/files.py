"""Files on disk: durable atomic replace, durable append, and a parse cache keyed by stat.

Every write replaces a whole file atomically, so a reader needs no lock: it sees
either the old file or the new one, never half of either.
"""

import os
import threading
from collections import OrderedDict
from contextlib import suppress

FILE_MODE = 0o644
PRIVATE_MODE = 0o600


O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
# fdatasync skips metadata that reading the data back does not need (times);
# where it does not exist (macOS, Windows), fsync does the job.
_sync_data = getattr(os, "fdatasync", os.fsync)


def stat_identity(status):
    """Return what tells one version of a file from another: inode, size, mtime."""
    return (status.st_ino, status.st_size, status.st_mtime_ns)


def fsync_folder(folder):
    """Make a rename inside ``folder`` survive a power cut."""
    if os.name != "posix":  # Windows cannot open a folder; its renames are journaled.
        return
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path, data, private=False, sync=True):
    """Replace ``path`` with ``data`` durably; return the new file's stat identity.

    The bytes go to ``<path>.tmp`` in the same folder, which is flushed,
    synced and renamed over ``path``; then the folder is synced. On any
    failure the temporary file is removed and ``path`` is untouched.
    The caller holds the lock of ``path``: the temporary name is fixed, so
    one writer at a time, and a crash leaves at most one stale temporary file,
    which the next write simply overwrites. A ``private`` file is readable by
    its owner only (0600). Without ``sync`` nothing is synced: for data that
    dies with the process anyway.
    """
    temporary = path + ".tmp"
    fd = _open_new(temporary, os.O_TRUNC, private)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            if sync:
                _sync_data(stream.fileno())
            identity = stat_identity(os.fstat(stream.fileno()))
        os.replace(temporary, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    if sync:
        fsync_folder(os.path.dirname(path))
    return identity


def append(path, data, expected_length, sync=True):
    """Append ``data`` to ``path`` durably; return the file's (inode, length) after it.

    The file must hold ``expected_length`` bytes: anything past them (a record
    a crash cut short) is cut away first. The bytes are synced before the
    return; the folder too when the file was created. If the write fails, the
    file is cut back to where it was, so no part of ``data`` stays. The caller
    holds the lock of ``path``.
    """
    with AppendFile(path) as log:
        return log.append(data, expected_length, sync)


class AppendFile:
    """A file held open for appending, so that each append costs a write and a sync, not an open.

    ``inode`` is the inode of the file opened. The caller holds the file's
    lock, and drops this (``close``) when the file it names may have been
    replaced or removed: an open descriptor does not follow the name.
    """

    def __init__(self, path):
        self.path = path
        self._created = not os.path.exists(path)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | O_CLOEXEC, FILE_MODE)
        self.inode = os.fstat(self._fd).st_ino

    def append(self, data, expected_length, sync=True):
        """Write ``data`` at ``expected_length``, cutting away what follows, and sync; as ``append`` does."""
        if os.fstat(self._fd).st_size != expected_length:
            os.ftruncate(self._fd, expected_length)
        try:
            os.lseek(self._fd, expected_length, os.SEEK_SET)
            written = 0
            while written < len(data):
                written += os.write(self._fd, data[written:])
            if sync:
                _sync_data(self._fd)
        except BaseException:
            with suppress(OSError):
                os.ftruncate(self._fd, expected_length)
            raise
        if self._created and sync:
            fsync_folder(os.path.dirname(self.path))
        self._created = False
        return self.inode, expected_length + len(data)

    def close(self):
        os.close(self._fd)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


class PerKey:
    """One object a key, made by ``make()`` the first time the key is asked for, and kept. Thread-safe.

    Asking for a key made already takes no lock and makes nothing.
    """

    def __init__(self, make):
        self._make = make
        self._made = {}
        self._guard = threading.Lock()

    def __getitem__(self, key):
        found = self._made.get(key)
        if found is None:
            with self._guard:
                found = self._made.setdefault(key, self._make())
        return found


class KeptOpen:
    """Open files kept between uses, at most ``limit`` of them: past it, the least recently used is closed.

    A user ``take``s a file (it is then out of the pool: nobody closes it
    meanwhile) and ``keep``s it again when done. ``close(file)`` closes one.
    Thread-safe.
    """

    def __init__(self, limit, close):
        self.limit = limit
        self._close = close
        self._files = OrderedDict()  # key -> file, the most recently kept last
        self._guard = threading.Lock()

    def take(self, key):
        """Return the file kept for ``key`` (now out of the pool), or None."""
        with self._guard:
            return self._files.pop(key, None)

    def keep(self, key, file):
        """Put ``file`` back in the pool for ``key``, closing the least recently used past the limit."""
        with self._guard:
            self._files[key] = file
            closing = [self._files.popitem(last=False)[1] for _ in range(len(self._files) - self.limit)]
        for old in closing:
            self._close(old)

    def drop(self, key):
        """Close the file kept for ``key``, if there is one."""
        file = self.take(key)
        if file is not None:
            self._close(file)


def remove(path, sync=True):
    """Remove ``path`` if it exists, durably; tell whether it existed."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    if sync:
        fsync_folder(os.path.dirname(path))
    return True


def _open_new(path, flags, private):
    # A file the user would write: 0644 with the umask applied by the system; a
    # private one 0600, set again in case a stale file of another mode was there.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | flags | O_CLOEXEC, PRIVATE_MODE if private else FILE_MODE)
    if private:
        os.fchmod(fd, PRIVATE_MODE)
    return fd


def create_once(path, data, private=False):
    """Make ``path`` hold ``data`` durably unless it exists; return what it holds then.

    Whole or absent, whatever crashes: the bytes are synced under a temporary
    name, then linked to ``path``, which fails if another writer made it first.
    """
    temporary = "%s.%d.tmp" % (path, os.getpid())
    fd = _open_new(temporary, os.O_TRUNC, private)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
    fsync_folder(os.path.dirname(path))
    with open(path, "rb") as stream:
        return stream.read()


class ParsedFileCache:
    """Parse each version of a file once, recognising versions by stat identity."""

    def __init__(self):
        self._entries = {}
        self._parsing = PerKey(threading.Lock)  # path -> lock, so that concurrent misses parse once

    def read(self, path, parse, missing):
        """Return ``parse(contents of path)``, or ``missing`` if there is no file."""
        try:
            identity = stat_identity(os.stat(path))
        except FileNotFoundError:
            return missing
        entry = self._entries.get(path)
        if entry is not None and entry[0] == identity:
            return entry[1]
        with self._parsing[path]:
            return self._read_version(path, parse, missing)

    def _read_version(self, path, parse, missing):
        try:
            stream = open(path, "rb")  # noqa: SIM115  (only the open may find no file; the with follows)
        except FileNotFoundError:
            return missing
        with stream:
            # The identity of the open file, not of the path, so that a
            # replace between stat and open cannot pair a key with other bytes.
            identity = stat_identity(os.fstat(stream.fileno()))
            entry = self._entries.get(path)
            if entry is not None and entry[0] == identity:
                return entry[1]  # parsed by the thread this one waited for
            value = parse(stream.read())
        self._entries[path] = (identity, value)
        return value

    def remember(self, path, identity, value):
        """Record ``value`` as the parsed contents of the version just written."""
        self._entries[path] = (identity, value)
