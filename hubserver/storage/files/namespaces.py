"""The namespaces of a data directory: one JSON file each, with a change log beside it.

Reads take no lock and are served from the versions ``NamespaceFiles`` keeps.
Every edit is applied under the namespace's lock, on its current state, and
appended to its log as one record (storage.files.log); edits that arrive
together are appended together, with one sync (storage.files.commits). The
log is compacted into the namespace file when it outgrows the file, when the
namespace has rested a moment (storage.files.compaction), and when the
backend closes. A batch's edits are kept beside the namespace's mapping by
name (``model.Changes``) and made to it once written, so a write costs the
same however many repositories the namespace holds.
"""

import logging
import os
from contextlib import ExitStack, contextmanager
from functools import partial

from hubserver.names import is_namespace
from hubserver.storage.errors import CorruptNamespace, FolderInTheWay, NamespaceBusy, disk_trouble
from hubserver.storage.files import log
from hubserver.storage.files.commits import GroupCommit, WriterTimeout
from hubserver.storage.files.compaction import IdleCompactor
from hubserver.storage.files.durable import PerKey
from hubserver.storage.files.locks import FileLocks, LockTimeout
from hubserver.storage.files.namespace_files import NamespaceFiles
from hubserver.storage.model import Changes

logger = logging.getLogger(__name__)

# When a log is compacted at once: past the size of its snapshot, or of this, or past this many records.
COMPACT_BYTES = 256 * 1024
COMPACT_RECORDS = 10_000
IDLE_SECONDS = 2.0


class FileNamespaces:
    """The NamespaceBackend of a data directory: ``<data_dir>/<namespace>.json`` and ``<namespace>.log``.

    Without ``sync`` nothing is synced to disk. ``compact_bytes``,
    ``compact_records`` and ``idle`` say when a log is compacted.
    """

    def __init__(
        self,
        data_dir,
        lock_timeout=10.0,
        sync=True,
        compact_bytes=COMPACT_BYTES,
        compact_records=COMPACT_RECORDS,
        idle=IDLE_SECONDS,
    ):
        self.data_dir = os.path.abspath(data_dir)
        os.makedirs(self.data_dir, exist_ok=True)
        self._locks = FileLocks(lock_timeout)
        self._files = NamespaceFiles(self.data_dir, sync)
        self._commits = PerKey(GroupCommit)  # namespace -> its GroupCommit
        self._compact_bytes = compact_bytes
        self._compact_records = compact_records
        self._idle = IdleCompactor(self.compact, idle)

    def path(self, namespace):
        """Return the file of ``namespace``; ValueError for a name that cannot be one."""
        return self._files.paths(namespace).snapshot

    def current(self, namespace):
        return self._files.current(namespace).repositories

    def names(self):
        names = (
            entry.name[: -len(".json")]
            for entry in os.scandir(self.data_dir)
            if entry.name.endswith(".json") and entry.is_file()  # a folder named x.json is nobody's namespace
        )
        return sorted(name for name in names if is_namespace(name))

    def apply(self, namespace, edit):
        lock_path = self._files.paths(namespace).lock
        try:
            return self._commits[namespace].submit(
                edit, lambda batch: self._commit(namespace, lock_path, batch), self._locks.timeout, edit
            )
        except WriterTimeout:
            raise NamespaceBusy(namespace, self._locks.timeout) from None

    def replace(self, replacements):
        """Replace several namespaces: every namespace is held (in name order) while all are written.

        All or nothing: every namespace is held (in name order) while all are
        written, and if one write fails, those written already are put back as
        they were, byte for byte, before the error goes on. An explicit
        replacement, so unlike a change it does not need to read the files
        first: it replaces a corrupt namespace file too (but a folder where a
        file should be is FolderInTheWay, and nothing is written); if even
        putting back fails, the error says that the change may have been
        stored in part. Queued changes wait, then apply on top of the new
        contents.
        """
        names = sorted(replacements)
        with ExitStack() as held:
            for namespace in names:
                held.enter_context(self._holding(namespace))
            saved = {}
            try:
                for namespace in names:
                    saved[namespace] = self._files.saved(namespace)
                    self._replace_held(namespace, replacements[namespace])
            except BaseException:
                for namespace, files in saved.items():
                    self._write(namespace, partial(self._files.put_back, namespace, files))
                raise

    def _replace_held(self, namespace, repositories):
        if repositories is None:
            self._write(namespace, lambda: self._files.remove(namespace))
            return
        try:
            current = self._files.current(namespace)
        except FolderInTheWay:
            raise
        except CorruptNamespace:  # bad contents: the replacement is what the caller asked for
            current = None
        held = current is not None and current.snapshot is not None
        if not held or list(current.repositories.by_name.items()) != list(repositories.items()):
            self._write(namespace, lambda: self._files.write_snapshot(namespace, current, repositories))

    def compact(self, namespace):
        """Write a namespace's log into its file and start an empty log, if it has a log."""
        with self._holding(namespace):
            current = self._files.current(namespace)
            if current.has_log:
                repositories = current.repositories.by_name
                self._write(namespace, lambda: self._files.write_snapshot(namespace, current, repositories))

    def close(self):
        """Compact every log of the data directory: at rest, it holds just the namespace files."""
        self._idle.close()
        for entry in os.scandir(self.data_dir):
            name = entry.name[: -len(log.LOG_SUFFIX)]
            if entry.name.endswith(log.LOG_SUFFIX) and is_namespace(name):
                self.compact(name)

    @contextmanager
    def _holding(self, namespace):
        """Hold the namespace for a change of its own: no batch is written meanwhile, no other process writes."""
        try:
            lock_path = self._files.paths(namespace).lock
            with self._commits[namespace].exclusive(self._locks.timeout), self._locks.hold(lock_path):
                yield
        except (WriterTimeout, LockTimeout):
            raise NamespaceBusy(namespace, self._locks.timeout) from None

    def _commit(self, namespace, lock_path, batch):
        """Apply a batch of changes to the current state and append their records once, under the file lock."""
        try:
            with self._locks.hold(lock_path):
                current = self._files.current(namespace)
                changes = Changes(current.repositories.by_name)
                records = []
                for change in batch:
                    edit = change.tag
                    before = changes.get(edit.repo_name)
                    if change.apply(changes) and changes.get(edit.repo_name) is not before:
                        records.append(self._record(current.snapshot_id, changes, edit))
                if records:
                    self._write(namespace, lambda: self._save(namespace, current, changes, records))
        except LockTimeout:
            raise NamespaceBusy(namespace, self._locks.timeout) from None

    @staticmethod
    def _record(after, repositories, edit):
        """Return the log record of an edit: its repository, the tag it pushed alone, or its removal."""
        repository = repositories.get(edit.repo_name)
        if repository is None:
            return log.delete_record(after, edit.repo_name)
        if edit.pushed_tag is not None:  # the tag alone, not the repository with all its tags
            tag, image_id = edit.pushed_tag
            return log.tag_record(after, edit.repo_name, tag, image_id, repository["pushed_at"])
        return log.put_record(after, repository)

    def _save(self, namespace, current, changes, records):
        """Write a batch's outcome: the namespace file for a new namespace, else the log's records.

        Once the records are synced the batch is written, whatever happens
        next: a compaction that fails then is only logged, and tried again
        once the namespace rests.
        """
        if current.snapshot is None:
            return self._files.write_snapshot(namespace, current, changes.merged())
        appended = self._files.append(namespace, current, changes, records)
        if appended.log_length > max(appended.snapshot_size, self._compact_bytes) or (
            appended.records >= self._compact_records
        ):
            try:
                return self._files.write_snapshot(namespace, appended, appended.repositories.by_name)
            except OSError as error:
                logger.warning("namespace %s was not compacted (%s); its log is kept", namespace, error)
        self._idle.touched(namespace)
        return appended

    def _write(self, namespace, write):
        """Run ``write``; DiskFull or DiskUnwritable when the disk refuses."""
        try:
            return write()
        except OSError as error:
            trouble = disk_trouble(error)
            if trouble is None:
                raise
            raise trouble(namespace, error) from error
