"""Files on disk: durable atomic replace, durable append, and a parse cache keyed by stat.

A file replaced is replaced whole, atomically, so a reader needs no lock: it
sees either the old file or the new one, never half of either. A file
appended to is written at a known length and cut back to it if the write
fails, so that a write that raises leaves nothing of itself (PartialWrite
where even that failed).
"""

import os
import threading
import time
from collections import OrderedDict
from contextlib import suppress

from hubserver.storage.errors import PartialWrite

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
    failure before the rename the temporary file is removed and ``path`` is
    untouched; a failure to sync the folder after it takes a new file away
    again, and is a PartialWrite where a file was replaced (its old bytes are
    gone). The caller holds the lock of ``path``: the temporary name is
    fixed, so one writer at a time, and a crash leaves at most one stale
    temporary file, which the next write simply overwrites. A ``private``
    file is readable by its owner only (0600). Without ``sync`` nothing is
    synced: for data that dies with the process anyway.
    """
    temporary = path + ".tmp"
    replaced = _modified_ns(path)
    fd = _open_new(temporary, os.O_TRUNC, private)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            identity = _stamped_later(stream.fileno(), replaced)
            if sync:
                _sync_data(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    if sync:
        _sync_folder_of(path, undo=replaced is None)
    return identity


def _modified_ns(path):
    try:
        return os.stat(path).st_mtime_ns
    except FileNotFoundError:
        return None


def _stamped_later(fd, replaced):
    """Give an open file a modification time later than ``replaced`` (None: no file); return its identity.

    So that inode, size and time tell apart every version of a path, even
    where the file system gives a new file the inode number of an old one:
    each is stamped later than the one it replaces, as finely as the file
    system keeps times.
    """
    for step in (1, 1000, 10**6, 10**9, 2 * 10**9):
        stamp = time.time_ns() if replaced is None else max(time.time_ns(), replaced + step)
        os.utime(fd, ns=(stamp, stamp))
        status = os.fstat(fd)
        if replaced is None or status.st_mtime_ns > replaced:
            break
    return stat_identity(status)


def _sync_folder_of(path, undo):
    """Sync the folder of a file just renamed or made; if that fails, remove it again when ``undo``.

    PartialWrite when the file stays: it may or may not outlive a crash.
    """
    try:
        fsync_folder(os.path.dirname(path))
    except OSError as error:
        if not undo:
            raise PartialWrite(error) from error
        try:
            os.unlink(path)
        except OSError:
            raise PartialWrite(error) from error
        raise


class AppendFile:
    """A file held open for appending, so that each append costs a write and a sync, not an open.

    A file it creates is made durable (its folder synced) before anything is
    written to it. The caller holds the file's lock, and drops this
    (``close``) when the file it names may have been replaced or removed: an
    open descriptor does not follow the name (``is_at_path`` tells).
    """

    def __init__(self, path, sync=True):
        self.path = path
        self.sync = sync
        created = not os.path.exists(path)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | O_CLOEXEC, FILE_MODE)
        status = os.fstat(self._fd)
        self._identity = (status.st_dev, status.st_ino)
        if created and sync:
            try:
                fsync_folder(os.path.dirname(path))
            except BaseException:
                self.close()
                raise

    def is_at_path(self):
        """Tell whether the file open here is still the one the path names."""
        try:
            status = os.stat(self.path)
        except FileNotFoundError:
            return False
        return (status.st_dev, status.st_ino) == self._identity

    def append(self, data, expected_length):
        """Write ``data`` at ``expected_length`` and sync; return the new length (as ``extend``)."""
        return self.extend((data,), expected_length)

    def extend(self, chunks, expected_length):
        """Write ``chunks`` (an iterable of bytes) at ``expected_length``, and sync; return the new length.

        The file must hold ``expected_length`` bytes: anything past them (a
        record a crash cut short) is cut away first. The bytes are synced
        before the return. If a write, the sync or the iterable fails, the
        file is cut back to ``expected_length``, so that no part of the
        chunks stays, before the error is raised; PartialWrite if even that
        fails.
        """
        if os.fstat(self._fd).st_size != expected_length:
            os.ftruncate(self._fd, expected_length)
        length = expected_length
        try:
            for chunk in chunks:
                length = self._write_at(chunk, length)
            if self.sync:
                _sync_data(self._fd)
        except BaseException:
            try:
                self.cut(expected_length)
            except OSError as error:
                raise PartialWrite(error) from error
            raise
        return length

    def _write_at(self, data, offset):
        """Write all of ``data`` at ``offset``; return the offset after it."""
        written = 0
        while written < len(data):
            written += os.pwrite(self._fd, data[written:], offset + written)
        return offset + written

    def cut(self, length):
        """Cut the file back to ``length`` bytes, and sync that as far as the disk lets.

        Once cut, no reader and no restart sees what followed; a disk that
        then refuses the sync (it refused the bytes cut away) leaves only a
        power cut's chance of them coming back (docs/design.md).
        """
        os.ftruncate(self._fd, length)
        if self.sync:
            with suppress(OSError):
                _sync_data(self._fd)

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
