"""A namespace on disk: its snapshot and its change log, read into its current state and written durably.

Reading costs a ``stat`` of the snapshot and a read of the log's last 20
bytes while nothing changed; when only the log grew (another process wrote),
only the new records are read and applied.
The log is opened before the snapshot and read after it: a compaction appends
its ``compacted`` record before it replaces the snapshot, so whichever
snapshot a reader finds, the log it holds is the one that follows it, or one
that says it is wholly in it.
"""

import os
import threading
from collections import namedtuple
from contextlib import contextmanager, suppress

from hubserver.names import is_namespace
from hubserver.storage import document
from hubserver.storage.errors import CorruptNamespace, FolderInTheWay, PartialWrite
from hubserver.storage.files import log
from hubserver.storage.files.durable import (
    O_CLOEXEC,
    AppendFile,
    KeptOpen,
    PerKey,
    atomic_write,
    remove,
    stat_identity,
)
from hubserver.storage.model import EMPTY, Repositories

KEPT_LOGS = 128  # logs kept open between appends at most; the least recently appended to is closed first


class Version:
    """A namespace as read from disk: its repositories, and the files they came from.

    ``snapshot`` is the namespace file's stat identity (None: no file),
    ``snapshot_id`` its identity in log records, ``snapshot_size`` its size.
    ``has_log`` tells whether there was a log; ``log_length`` is the length
    of its whole records, ``log_mark`` the end of the last of them, whose
    chained checksum stands for them all (b"": none), ``records`` how many
    there are; ``stale_log`` tells that the log is one a compaction put
    into the snapshot.
    """

    __slots__ = (
        "has_log",
        "log_length",
        "log_mark",
        "records",
        "repositories",
        "snapshot",
        "snapshot_id",
        "snapshot_size",
        "stale_log",
    )

    def __init__(self, repositories, snapshot=None, snapshot_id=None, snapshot_size=0):
        self.repositories = repositories
        self.snapshot = snapshot
        self.snapshot_id = snapshot_id
        self.snapshot_size = snapshot_size
        self.has_log = self.stale_log = False
        self.log_length = self.records = 0
        self.log_mark = b""

    def without_log(self):
        """Return this version as it is once its log is removed."""
        return Version(self.repositories, self.snapshot, self.snapshot_id, self.snapshot_size)

    def with_log(self, repositories, tail):
        """Return this version with the log records of ``tail`` (a log.Tail) more, applied in ``repositories``."""
        grown = Version(repositories, self.snapshot, self.snapshot_id, self.snapshot_size)
        grown.has_log = True
        grown.log_length, grown.log_mark = tail.length, tail.mark
        grown.records = self.records + len(tail.records)
        return grown


NOTHING = Version(EMPTY)


@contextmanager
def _no_folder(namespace):
    """Turn a folder where a namespace's file or log should be into FolderInTheWay."""
    try:
        yield
    except IsADirectoryError:
        raise FolderInTheWay(namespace) from None


def _bytes_of(path):
    try:
        with open(path, "rb") as stream:
            return stream.read()
    except FileNotFoundError:
        return None


def _applied(namespace, repositories, records):
    """Return ``repositories`` with the log ``records`` applied to a copy of their mapping (themselves for none)."""
    if not records:
        return repositories
    by_name = dict(repositories.by_name)
    log.apply(namespace, by_name, records)
    return Repositories(by_name)


def _read_at(fd, length, mark):
    """Return the bytes of an open log from where ``mark`` would start, one more than it if there are."""
    return os.pread(fd, len(mark) + 1, length - len(mark))


def _stat(path):
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None


NamespacePaths = namedtuple("NamespacePaths", "snapshot log lock")


class NamespaceFiles:
    """The snapshots and logs of the namespaces of one data directory, and the versions last read."""

    def __init__(self, data_dir, sync=True):
        self.data_dir = data_dir
        self.sync = sync
        self._versions = {}
        self._reading = PerKey(threading.Lock)  # namespace -> lock, so that concurrent misses read once
        self._encoder = document.Encoder()
        self._logs = KeptOpen(KEPT_LOGS, AppendFile.close)  # namespace -> AppendFile of its log, between appends
        self._paths = {}  # namespace -> NamespacePaths, joined once

    def paths(self, namespace):
        """Return the NamespacePaths of a namespace: where its file, its log and its lock file are.

        The one place a namespace becomes a path: ValueError for a name that cannot be a file's.
        """
        paths = self._paths.get(namespace)
        if paths is None:
            if not is_namespace(namespace):
                raise ValueError("not a namespace name: %r" % (namespace,))
            snapshot = os.path.join(self.data_dir, namespace + ".json")
            paths = self._paths[namespace] = NamespacePaths(
                snapshot, os.path.join(self.data_dir, namespace + log.LOG_SUFFIX), snapshot + ".lock"
            )
        return paths

    def snapshot_path(self, namespace):
        return self.paths(namespace).snapshot

    def log_path(self, namespace):
        return self.paths(namespace).log

    # Reading

    def current(self, namespace):
        """Return the namespace's current Version; CorruptNamespace if its files cannot be read."""
        known = self._versions.get(namespace)
        if known is not None and self._unchanged(namespace, known):
            return known
        with self._reading[namespace]:
            known = self._versions.get(namespace)
            if known is not None and self._unchanged(namespace, known):
                return known
            version = self._grown(namespace, known) or self._load(namespace)
            self._versions[namespace] = version
            return version

    def _unchanged(self, namespace, version):
        """Tell whether the namespace's files still hold ``version``: the snapshot by its stat, the log by its end.

        A log is appended to and cut back in place, so its size says nothing
        of what it holds; its last bytes, the chained checksum of its last
        record, do (storage.log): the mark must be where the version left
        it, with nothing after it. So torn bytes after the version's records
        always send the reader to read on: they may have become a record of
        the same size.
        """
        snapshot = _stat(self.snapshot_path(namespace))
        if (None if snapshot is None else stat_identity(snapshot)) != version.snapshot:
            return False
        try:
            fd = os.open(self.log_path(namespace), os.O_RDONLY | O_CLOEXEC)
        except FileNotFoundError:
            return not version.has_log
        try:
            mark = version.log_mark
            return version.has_log and _read_at(fd, version.log_length, mark) == mark
        except IsADirectoryError:
            return False  # read again, and reported
        finally:
            os.close(fd)

    def _grown(self, namespace, known):
        """Return ``known`` with the records appended to its log since, or None if more than that changed."""
        if known is None or known.snapshot is None or known.stale_log:
            return None
        snapshot = _stat(self.snapshot_path(namespace))
        if snapshot is None or stat_identity(snapshot) != known.snapshot:
            return None
        try:
            stream = open(self.log_path(namespace), "rb")  # noqa: SIM115  (the with follows)
        except FileNotFoundError:
            return None
        with stream:
            stream.seek(known.log_length - len(known.log_mark))
            data = stream.read()
        if not data.startswith(known.log_mark):
            return None  # no longer the log that was read: read it all
        tail = log.read_records(namespace, data[len(known.log_mark) :], known.log_length, known.log_mark)
        for record in tail.records:
            if record["after"] != known.snapshot_id:
                raise CorruptNamespace(namespace, "its log has a record that follows another snapshot")
        return known.with_log(_applied(namespace, known.repositories, tail.records), tail)

    def _load(self, namespace):
        """Read the log, then the snapshot, then the whole log: the namespace's state from scratch."""
        with _no_folder(namespace):
            return self._read_both(namespace)

    def _read_both(self, namespace):
        try:
            log_stream = open(self.log_path(namespace), "rb")  # noqa: SIM115  (closed below)
        except FileNotFoundError:
            log_stream = None
        try:
            version = self._load_snapshot(namespace)
            if log_stream is None:
                return version
            data = log_stream.read()
        finally:
            if log_stream is not None:
                log_stream.close()
        return self._with_log(namespace, version, data)

    def _load_snapshot(self, namespace):
        try:
            stream = open(self.snapshot_path(namespace), "rb")  # noqa: SIM115  (the with follows)
        except FileNotFoundError:
            return NOTHING
        with stream:
            identity = stat_identity(os.fstat(stream.fileno()))
            data = stream.read()
        return Version(Repositories(document.decode(namespace, data)), identity, log.snapshot_id(data), len(data))

    def _with_log(self, namespace, version, data):
        tail = log.read_records(namespace, data)
        afters = {record["after"] for record in tail.records}
        if len(afters) > 1:
            raise CorruptNamespace(namespace, "its log follows more than one snapshot")
        if not tail.records or afters == {version.snapshot_id}:
            return version.with_log(_applied(namespace, version.repositories, tail.records), tail)
        if version.snapshot_id is not None and tail.records[-1].get("compacted") == version.snapshot_id:
            stale = version.with_log(version.repositories, tail)
            stale.records, stale.stale_log = 0, True  # a compaction's: all of it is in the snapshot already
            return stale
        raise CorruptNamespace(namespace, "its log follows another snapshot than its namespace file")

    # Writing: the caller holds the namespace's lock

    def append(self, namespace, version, changes, records):
        """Append ``records`` after ``version``, then make their ``changes`` to its repositories.

        The mapping is changed, and the new version kept, under the lock a
        re-read takes: a reader never pairs the changed mapping with the old
        log length (and applies the records a second time).
        """
        if version.stale_log:
            self._drop_log(namespace)
            version = version.without_log()
        data = log.encode(records, version.log_mark)
        with self._log_file(namespace) as log_file:
            length = log_file.append(data, version.log_length)
        with self._reading[namespace]:
            tail = log.Tail(records, length, log.mark_of(data))
            appended = version.with_log(Repositories(changes.apply()), tail)
            self._versions[namespace] = appended
        return appended

    @contextmanager
    def _log_file(self, namespace):
        """Yield the open log of a namespace (opened again if the one kept is no longer the file there); keep it."""
        log_file = self._logs.take(namespace)
        if log_file is not None and not log_file.is_at_path():
            log_file.close()  # replaced or removed meanwhile, by another process
            log_file = None
        log_file = log_file or AppendFile(self.log_path(namespace), self.sync)
        try:
            yield log_file
        finally:
            self._logs.keep(namespace, log_file)

    def _drop_log(self, namespace):
        """Close the kept log of a namespace and remove the file."""
        self._logs.drop(namespace)
        remove(self.log_path(namespace), self.sync)

    def write_snapshot(self, namespace, version, repositories):
        """Make ``repositories`` the namespace's snapshot and start an empty log; return the new Version.

        ``version`` is what the files hold now (None: they cannot be read, and
        are replaced whole). A log there gets its ``compacted`` record first,
        so that a crash between the new snapshot and the log's removal leaves
        a log known to be in the snapshot; if the snapshot cannot be written,
        that record is cut away again.
        """
        data = self._encoder.encode(namespace, repositories.values())
        new_id = log.snapshot_id(data)
        if version is None:
            self._drop_log(namespace)
        marked = version is not None and version.has_log and not version.stale_log and version.snapshot_id is not None
        if marked:
            compacted = log.encode([log.compacted_record(version.snapshot_id, new_id)], version.log_mark)
            with self._log_file(namespace) as log_file:
                log_file.append(compacted, version.log_length)
        try:
            identity = atomic_write(self.snapshot_path(namespace), data, sync=self.sync)
        except OSError:
            if marked:
                with suppress(OSError), self._log_file(namespace) as log_file:
                    log_file.cut(version.log_length)  # if it stays, it names a snapshot that never was: harmless
            raise
        self._drop_log(namespace)
        written = Version(Repositories(dict(repositories)), identity, new_id, len(data))
        self._versions[namespace] = written
        return written

    def saved(self, namespace):
        """Return the bytes of the namespace's file and of its log (None for one that is not there).

        FolderInTheWay if either is a folder.
        """
        with _no_folder(namespace):
            return tuple(_bytes_of(path) for path in (self.snapshot_path(namespace), self.log_path(namespace)))

    def put_back(self, namespace, saved):
        """Make the namespace's files again what ``saved`` holds (a failed multi-namespace change undone).

        PartialWrite if they cannot be made so.
        """
        self._logs.drop(namespace)
        self._versions.pop(namespace, None)
        try:
            for path, data in zip((self.snapshot_path(namespace), self.log_path(namespace)), saved):
                if data is None:
                    remove(path, self.sync)
                else:
                    atomic_write(path, data, sync=self.sync)
        except OSError as error:
            raise PartialWrite(error) from error

    def remove(self, namespace):
        """Remove the namespace's log, then its snapshot."""
        self._drop_log(namespace)
        remove(self.snapshot_path(namespace), self.sync)
        self._versions.pop(namespace, None)

    def forget(self, namespace):
        """Drop what was read of a namespace (its files were replaced some other way)."""
        self._versions.pop(namespace, None)
