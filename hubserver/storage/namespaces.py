"""The store: repositories and their tags, one JSON file a namespace, with a change log beside it.

Reads take no lock and are served from the versions ``NamespaceFiles`` keeps.
Every change is made under the namespace's lock, on its current state, and
appended to its log as one record (storage.log); changes that arrive together
are appended together, with one sync (storage.commits). The log is compacted
into the namespace file when it outgrows the file, when the namespace has
rested a moment (storage.compaction), and when the store closes. Stored
repositories are shared snapshots: a change builds new dicts and lists and
never edits one that a reader may hold. A batch's edits are kept beside the
namespace's mapping by name (``Changes``) and made to it once written, so a
write costs the same however many repositories the namespace holds.
"""

import logging
import os
from contextlib import ExitStack, contextmanager
from functools import partial

from hubserver.names import digest_of_image, image_id_of, is_namespace
from hubserver.storage import document, log
from hubserver.storage.commits import GroupCommit, WriterTimeout
from hubserver.storage.compaction import IdleCompactor
from hubserver.storage.errors import (
    CorruptNamespace,
    FolderInTheWay,
    ManifestNotFound,
    NamespaceBusy,
    RepositoryExists,
    RepositoryNotFound,
    TagNotFound,
    disk_trouble,
)
from hubserver.storage.files import PerKey
from hubserver.storage.locks import FileLocks, LockTimeout
from hubserver.storage.namespace_files import NOTHING, Changes, NamespaceFiles

logger = logging.getLogger(__name__)

UPDATABLE_FIELDS = ("description", "full_description", "is_public", "logo")


# When a log is compacted at once: past the size of its snapshot, or of this, or past this many records.
COMPACT_BYTES = 256 * 1024
COMPACT_RECORDS = 10_000
IDLE_SECONDS = 2.0


class NamespaceStore:
    """Repositories and their tags, kept in ``<data_dir>/<namespace>.json`` and ``<namespace>.log``.

    Without ``sync`` nothing is synced to disk (for a data directory that dies
    with the process). ``compact_bytes``, ``compact_records`` and ``idle``
    say when a log is compacted.
    """

    def __init__(
        self,
        data_dir,
        clock,
        lock_timeout=10.0,
        sync=True,
        compact_bytes=COMPACT_BYTES,
        compact_records=COMPACT_RECORDS,
        idle=IDLE_SECONDS,
    ):
        self.data_dir = os.path.abspath(data_dir)
        os.makedirs(self.data_dir, exist_ok=True)
        self._clock = clock
        self.lock_timeout = lock_timeout
        self._locks = FileLocks(lock_timeout)
        self._files = NamespaceFiles(self.data_dir, sync)
        self._commits = PerKey(GroupCommit)  # namespace -> its GroupCommit
        self._compact_bytes = compact_bytes
        self._compact_records = compact_records
        self._idle = IdleCompactor(self.compact, idle)

    def namespace_path(self, namespace):
        """Return the file of ``namespace``; ValueError for a name that cannot be one."""
        return self._paths(namespace).snapshot

    def _paths(self, namespace):
        if not is_namespace(namespace):
            raise ValueError("not a namespace name: %r" % (namespace,))
        return self._files.paths(namespace)

    def _repositories(self, namespace):
        """Return the current Repositories of ``namespace``."""
        if not is_namespace(namespace):
            return NOTHING.repositories  # nothing can exist under a name that is no file
        return self._files.current(namespace).repositories

    # Reads

    def list_repositories(self, namespace, public_only=False):
        """Return the repositories of ``namespace`` (or its public ones), oldest first, as a sequence."""
        repositories = self._repositories(namespace)
        return repositories.public() if public_only else repositories.in_order()

    def get_repository(self, namespace, repo_name):
        """Return one repository; RepositoryNotFound if there is none."""
        return self._existing(self._repositories(namespace).by_name, namespace, repo_name)

    def find_repository(self, namespace, repo_name):
        """Return one repository, or None if there is none."""
        return self._repositories(namespace).by_name.get(repo_name)

    def list_tags(self, namespace, repo_name):
        """Return the tags of a repository in the order they were first written."""
        return self.get_repository(namespace, repo_name)["tags"]

    def get_tag(self, namespace, repo_name, tag):
        """Return one tag; TagNotFound if the repository has no such tag."""
        return self._tag_of(self._repositories(namespace).by_name, namespace, repo_name, tag)

    @classmethod
    def _tag_of(cls, repositories, namespace, repo_name, tag):
        for entry in cls._existing(repositories, namespace, repo_name)["tags"]:
            if entry["tag"] == tag:
                return entry
        raise TagNotFound(namespace, repo_name, tag)

    def namespace_names(self):
        """Return the names of the namespaces that have a file, sorted."""
        names = (
            entry.name[: -len(".json")]
            for entry in os.scandir(self.data_dir)
            if entry.name.endswith(".json") and entry.is_file()  # a folder named x.json is nobody's namespace
        )
        return sorted(name for name in names if is_namespace(name))

    def export_namespace(self, namespace):
        """Return the namespace's document, as its file holds it (parsed)."""
        return document.as_document(namespace, self.list_repositories(namespace))

    # Changes

    def create_repository(self, namespace, repo_name, description="", full_description="", is_public=True):
        """Create a repository; RepositoryExists if the name is taken."""

        def add(repositories):
            if repo_name in repositories:
                raise RepositoryExists(namespace, repo_name)
            repository = document.new_repository(repo_name, self._clock.now(), description, full_description, is_public)
            repositories[repo_name] = repository
            return repository

        return self._change(namespace, repo_name, add)

    def update_repository(self, namespace, repo_name, **changes):
        """Change some of description, full_description, is_public and logo."""
        unknown = set(changes) - set(UPDATABLE_FIELDS)
        if unknown:
            raise TypeError("not updatable: %s" % ", ".join(sorted(unknown)))

        def update(repositories):
            repository = self._edit(repositories, namespace, repo_name)
            repository.update(changes)
            return repository

        return self._change(namespace, repo_name, update, must_exist=True)

    def delete_repository(self, namespace, repo_name):
        """Delete a repository and its tags."""

        def delete(repositories):
            self._existing(repositories, namespace, repo_name)
            del repositories[repo_name]

        self._change(namespace, repo_name, delete, must_exist=True)

    def put_tag(self, namespace, repo_name, tag, image_id):
        """Point ``tag`` at ``image_id``, counting a push; return (tag, created)."""

        def put(repositories):
            return self._put_tag_in(repositories, namespace, repo_name, tag, image_id)

        def record(after, repository):  # the tag alone, not the repository with all its tags
            return log.tag_record(after, repo_name, tag, image_id, repository["pushed_at"])

        return self._change(namespace, repo_name, put, must_exist=True, record=record)

    def _put_tag_in(self, repositories, namespace, repo_name, tag, image_id):
        """Point a tag of a repository in ``repositories``, pushed and updated now; return (tag, created)."""
        repository = self._edit(repositories, namespace, repo_name)
        repositories[repo_name], created = document.with_tag(repository, tag, image_id, repository["updated"])
        return {"tag": tag, "image_id": image_id}, created

    # Manifests, pushed and pulled through /v2/

    def record_manifest(self, namespace, repo_name, manifest, tag=None):
        """Keep a pushed manifest ({digest, media_type, size}); with ``tag``, point the tag at it.

        A repository that does not exist yet is created (public, empty
        description), as hosted hubs do on a push. A push by tag counts as a
        push of that tag.
        """

        def record(repositories):
            repository = repositories.get(repo_name) or document.new_repository(repo_name, self._clock.now())
            if all(known["digest"] != manifest["digest"] for known in repository["manifests"]):
                repository = {**repository, "manifests": [*repository["manifests"], dict(manifest)]}
            repositories[repo_name] = repository
            if tag:
                self._put_tag_in(repositories, namespace, repo_name, tag, image_id_of(manifest["digest"]))

        self._change(namespace, repo_name, record)

    def link_blob(self, namespace, repo_name, digest):
        """Record that the blob ``digest`` was uploaded or mounted into a repository.

        A repository that does not exist yet is created (public, empty
        description), as a push creates it: the blobs come before the manifest.
        """
        known = self.find_repository(namespace, repo_name)
        if known is not None and digest in known["blobs"]:
            return  # linked already: nothing to write

        def link(repositories):
            if repo_name not in repositories:
                repositories[repo_name] = document.new_repository(repo_name, self._clock.now())
            repository = repositories[repo_name]
            if digest not in repository["blobs"]:
                repositories[repo_name] = {**repository, "blobs": [*repository["blobs"], digest]}

        self._change(namespace, repo_name, link)

    def unlink_blob(self, namespace, repo_name, digest):
        """Forget that a blob was uploaded or mounted into a repository; tell whether it was."""

        def unlink(repositories):
            repository = self._existing(repositories, namespace, repo_name)
            if digest not in repository["blobs"]:
                return False
            repositories[repo_name] = {
                **repository,
                "blobs": [known for known in repository["blobs"] if known != digest],
            }
            return True

        return self._change(namespace, repo_name, unlink, must_exist=True)

    def manifest(self, namespace, repo_name, reference):
        """Return the manifest a tag or a digest names; ManifestNotFound if there is none."""
        repository = self.get_repository(namespace, repo_name)
        digest = reference
        if not reference.startswith("sha256:"):
            entry = next((entry for entry in repository["tags"] if entry["tag"] == reference), None)
            digest = None if entry is None else digest_of_image(entry["image_id"])
        found = next((known for known in repository["manifests"] if known["digest"] == digest), None)
        if found is None:
            raise ManifestNotFound(namespace, repo_name, reference)
        return found

    def count_pull(self, namespace, repo_name):
        """Count a pull: ``download`` up by one, ``pulled_at`` now; ``updated`` stays."""

        def pull(repositories):
            repository = dict(self._existing(repositories, namespace, repo_name))
            repository.update(download=repository["download"] + 1, pulled_at=self._clock.now())
            repositories[repo_name] = repository

        self._change(namespace, repo_name, pull, must_exist=True)

    def delete_manifest(self, namespace, repo_name, digest):
        """Forget a manifest and every tag pointing at it; ManifestNotFound if unknown."""

        def delete(repositories):
            current = self._existing(repositories, namespace, repo_name)
            if all(known["digest"] != digest for known in current["manifests"]):
                raise ManifestNotFound(namespace, repo_name, digest)
            image_id = image_id_of(digest)
            tagged = any(entry["image_id"] == image_id for entry in current["tags"])
            repository = self._edit(repositories, namespace, repo_name) if tagged else dict(current)
            repository["manifests"] = [known for known in current["manifests"] if known["digest"] != digest]
            repository["tags"] = [entry for entry in current["tags"] if entry["image_id"] != image_id]
            repositories[repo_name] = repository

        self._change(namespace, repo_name, delete, must_exist=True)

    def star_repository(self, namespace, repo_name, user, starred):
        """Add (``starred``) or take back ``user``'s star; stars do not change ``updated``."""

        def star(repositories):
            repository = dict(self._existing(repositories, namespace, repo_name))
            others = [name for name in repository["starred_by"] if name != user]
            if starred and user not in repository["starred_by"]:
                repository["starred_by"] = others + [user]
            elif not starred:
                repository["starred_by"] = others
            repositories[repo_name] = repository

        self._change(namespace, repo_name, star, must_exist=True)

    def delete_tag(self, namespace, repo_name, tag):
        """Delete one tag; TagNotFound if there is no such tag."""

        def delete(repositories):
            self._tag_of(repositories, namespace, repo_name, tag)
            repository = self._edit(repositories, namespace, repo_name)
            repository["tags"] = [old for old in repository["tags"] if old["tag"] != tag]

        self._change(namespace, repo_name, delete, must_exist=True)

    # Every edit checks before it changes anything: in a group commit, an edit
    # that raises must leave the batch's repositories as it found them.

    @staticmethod
    def _existing(repositories, namespace, repo_name):
        repository = repositories.get(repo_name)
        if repository is None:
            raise RepositoryNotFound(namespace, repo_name)
        return repository

    def _edit(self, repositories, namespace, repo_name):
        """Replace a repository in ``repositories`` by a copy stamped as updated; return it."""
        repository = dict(self._existing(repositories, namespace, repo_name))
        repository["updated"] = self._clock.later_than(repository["updated"])
        repositories[repo_name] = repository
        return repository

    def _change(self, namespace, repo_name, edit, must_exist=False, record=log.put_record):
        """Apply ``edit``, which changes the repository ``repo_name``, and write it; return its result.

        With ``must_exist``, a missing repository is reported before anything
        is queued, so a request for a name that cannot exist never creates a
        file; it is checked again when the edit is applied. ``record(after,
        repository)`` is the log line of the change when the repository is
        still there after it; by default, the whole repository.
        """
        if must_exist:
            self.get_repository(namespace, repo_name)
        lock_path = self._paths(namespace).lock
        try:
            return self._commits[namespace].submit(
                edit,
                lambda batch: self._commit(namespace, lock_path, batch),
                self._locks.timeout,
                (repo_name, record),
            )
        except WriterTimeout:
            raise NamespaceBusy(namespace, self._locks.timeout) from None

    def replace_namespace(self, namespace, repositories):
        """Replace a namespace's state with ``repositories`` (by name), or remove it for None."""
        self.replace_namespaces({namespace: repositories})

    def replace_namespaces(self, replacements):
        """Replace several namespaces at once: {namespace: repositories by name, or None to remove it}.

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
            lock_path = self._paths(namespace).lock
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
                    repo_name, record = change.tag
                    before = changes.get(repo_name)
                    if change.apply(changes) and changes.get(repo_name) is not before:
                        records.append(self._record(current.snapshot_id, changes, repo_name, record))
                if records:
                    self._write(namespace, lambda: self._save(namespace, current, changes, records))
        except LockTimeout:
            raise NamespaceBusy(namespace, self._locks.timeout) from None

    @staticmethod
    def _record(after, repositories, repo_name, record):
        """Return the log record of a change to ``repo_name``: ``record``'s, or a delete record if it is gone."""
        repository = repositories.get(repo_name)
        return log.delete_record(after, repo_name) if repository is None else record(after, repository)

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
