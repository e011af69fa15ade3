"""The in-memory backend: namespaces and blobs that live and die with the process.

What ``--ephemeral`` and ``create_app({"STORAGE": "memory"})`` use: nothing is
written to disk at all. It keeps every promise of ``storage.backend`` within
one process; its locks are threading locks, with the same timeouts.
"""

import io
import threading
import time
import uuid
from contextlib import ExitStack, contextmanager

from hubserver.names import DEFAULT_ALGORITHM, algorithm_of, digest_of, digest_of_hash, hasher, is_digest
from hubserver.storage.backend import OpenBlob
from hubserver.storage.errors import (
    DigestMismatch,
    NamespaceBusy,
    RangeMismatch,
    TooLarge,
    UploadBusy,
    UploadUnknown,
)
from hubserver.storage.files.durable import PerKey
from hubserver.storage.model import EMPTY, Changes, Repositories


class MemoryNamespaces:
    """The NamespaceBackend in memory: each namespace's Repositories, changed under its lock."""

    def __init__(self, lock_timeout=10.0):
        self.lock_timeout = lock_timeout
        self._versions = {}  # namespace -> Repositories
        self._locks = PerKey(threading.Lock)

    def current(self, namespace):
        return self._versions.get(namespace, EMPTY)

    def names(self):
        return sorted(self._versions)

    def apply(self, namespace, edit):
        with self._holding(namespace):
            current = self.current(namespace)
            changes = Changes(current.by_name)
            result = edit(changes)
            if changes:  # a new namespace gets a mapping of its own: EMPTY is never changed
                by_name = changes.apply() if namespace in self._versions else changes.merged()
                self._versions[namespace] = Repositories(by_name)
            return result

    def replace(self, replacements):
        with ExitStack() as held:
            for namespace in sorted(replacements):
                held.enter_context(self._holding(namespace))
            for namespace, repositories in replacements.items():
                if repositories is None:
                    self._versions.pop(namespace, None)
                else:
                    self._versions[namespace] = Repositories(dict(repositories))

    def close(self):
        """Nothing to finish: the namespaces go with the process."""

    def _holding(self, namespace):
        return _held(self._locks[namespace], self.lock_timeout, lambda: NamespaceBusy(namespace, self.lock_timeout))


@contextmanager
def _held(lock, timeout, refusal):
    """Hold ``lock``; raise what ``refusal()`` makes if it is not had within ``timeout`` seconds."""
    if not lock.acquire(timeout=timeout):
        raise refusal()
    try:
        yield
    finally:
        lock.release()


class _Upload:
    """An upload session in memory: its bytes, owner, hash so far, and the lock of the request writing it."""

    def __init__(self, owner, algorithm):
        self.owner = owner
        self.data = bytearray()
        self.hasher = hasher(algorithm)
        self.lock = threading.Lock()
        self.open = True


class MemoryBlobs:
    """The BlobBackend in memory: blobs by digest, uploads by id."""

    def __init__(self, max_size, lock_timeout=10.0):
        self.max_size = max_size
        self.lock_timeout = lock_timeout
        self._blobs = {}  # digest -> (bytes, time stored)
        self._uploads = {}  # id -> _Upload

    # Blobs

    def open(self, digest):
        found = self._blobs.get(digest)
        if found is None:
            return None
        data, stored = found
        return OpenBlob(io.BytesIO(data), len(data), stored)

    def size(self, digest):
        found = self._blobs.get(digest)
        return None if found is None else len(found[0])

    def read(self, digest):
        return self._blobs[digest][0]

    def put_bytes(self, data, algorithm=DEFAULT_ALGORITHM):
        digest = digest_of(data, algorithm)
        self._blobs.setdefault(digest, (bytes(data), time.time()))
        return digest

    def delete(self, digest):
        return self._blobs.pop(digest, None) is not None

    def digests(self):
        yield from sorted(self._blobs)

    # Uploads

    def start(self, owner=None, algorithm=DEFAULT_ALGORITHM):
        upload = str(uuid.uuid4())
        self._uploads[upload] = _Upload(owner, algorithm)
        return upload

    def owner(self, upload):
        found = self._uploads.get(upload)
        return None if found is None else found.owner

    def upload_size(self, upload):
        found = self._uploads.get(upload)
        if found is None:
            raise UploadUnknown(upload)
        return len(found.data)

    @contextmanager
    def _writing(self, upload):
        """Hold an upload for one request; UploadUnknown once it is gone, UploadBusy if held too long."""
        found = self._uploads.get(upload)
        if found is None:
            raise UploadUnknown(upload)
        with _held(found.lock, self.lock_timeout, lambda: UploadBusy(upload, self.lock_timeout)):
            if not found.open:  # finished or cancelled by the request waited for
                raise UploadUnknown(upload)
            yield found

    def append(self, upload, chunks, start=None, length=None):
        with self._writing(upload) as found:
            return self._append(found, chunks, start, length)

    def _append(self, found, chunks, start, length):
        size = len(found.data)
        if start is not None and start != size:
            raise RangeMismatch(size)
        if length is not None and size + length > self.max_size:
            raise TooLarge(self.max_size)
        hash_, added = found.hasher.copy(), bytearray()
        for chunk in chunks:
            if size + len(added) + len(chunk) > self.max_size:
                raise TooLarge(self.max_size)
            hash_.update(chunk)
            added += chunk
        found.data += added  # all or nothing: only once every chunk has arrived
        found.hasher = hash_
        return len(found.data)

    def finish(self, upload, digest, chunks=(), start=None, length=None):
        if not is_digest(digest):
            raise DigestMismatch(digest)
        with self._writing(upload) as found:
            before, hashed = len(found.data), found.hasher
            self._append(found, chunks, start, length)
            if digest_of_hash(self._hash_in(found, algorithm_of(digest))) != digest:
                del found.data[before:]  # the upload as it was, for the client to retry
                found.hasher = hashed
                raise DigestMismatch(digest)
            self._blobs.setdefault(digest, (bytes(found.data), time.time()))
            self._close(upload, found)
        return digest

    @staticmethod
    def _hash_in(found, algorithm):
        """Return a hash of an upload's bytes in ``algorithm``: its own, or one made again for another."""
        if found.hasher.name == algorithm:
            return found.hasher.copy()
        return hasher(algorithm, found.data)

    def cancel(self, upload):
        try:
            with self._writing(upload) as found:
                self._close(upload, found)
                return True
        except UploadUnknown:
            return False

    def _close(self, upload, found):
        found.open = False
        self._uploads.pop(upload, None)

    def cancel_uploads(self, prefix=None):
        chosen = [
            upload
            for upload, found in list(self._uploads.items())
            if prefix is None or (found.owner or "").startswith(prefix)
        ]
        return sum(1 for upload in chosen if self.cancel(upload))
