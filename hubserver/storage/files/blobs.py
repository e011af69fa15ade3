"""The blobs of a data directory, content-addressed, and the uploads that fill it.

A blob lives at ``<data-dir>/_blobs/<algorithm>/<2 hex>/<hex>``, named by
the digest of its bytes: sha256 (64 hex digits), or sha512 (128) where the
client names one. It is hashed while it streams in, checked against the
digest the client names, then renamed into place: a blob file is whole or
absent. An unfinished upload lives at ``<data-dir>/_uploads/<uuid>``, with
who opened it, for which repository, in ``<uuid>.owner``, and the lock that
lets one request at a time write it, in any process, ``<uuid>.lock``; it is
removed a day after it was last written to (checked whenever an upload
starts). An upload is removed before its lock file, so that whoever takes
the lock next finds it gone. Each chunk is synced before it is
acknowledged, and a chunk that fails (the disk refused it, the client went
away, the digest is wrong) is cut away again, so an upload holds exactly
its acknowledged chunks. Nothing here holds a blob in memory: bytes move in
chunks of CHUNK.
"""

import os
import threading
import time
import uuid
from contextlib import ExitStack, contextmanager

from hubserver.names import (
    ALGORITHMS,
    DEFAULT_ALGORITHM,
    algorithm_of,
    digest_of,
    digest_of_hash,
    hasher,
    image_id_of,
    is_digest,
)
from hubserver.storage.backend import OpenBlob
from hubserver.storage.errors import DigestMismatch, PartialWrite, RangeMismatch, TooLarge, UploadBusy, UploadUnknown
from hubserver.storage.files.durable import AppendFile, fsync_folder, remove
from hubserver.storage.files.locks import LockTimeout, hold_alone

CHUNK = 1024 * 1024
UPLOAD_LIFETIME = 24 * 3600
OWNER_SUFFIX = ".owner"
LOCK_SUFFIX = ".lock"
SIDECARS = (OWNER_SUFFIX, LOCK_SUFFIX)  # files that go with an upload


class FileBlobs:
    """The BlobBackend of a data directory: blobs by digest, and the uploads on their way in."""

    def __init__(self, data_dir, max_size, lock_timeout=10.0, sync=True):
        self.sync = sync
        self.blobs = os.path.join(data_dir, "_blobs")
        self.uploads = os.path.join(data_dir, "_uploads")
        self.max_size = max_size
        self.lock_timeout = lock_timeout
        self._hashes = {}  # upload id -> (size hashed, hash so far), in this process
        self._algorithms = {}  # upload id -> the algorithm it is hashed with as it arrives, if not the default
        self._lock = threading.Lock()

    # Blobs

    def _path(self, digest):
        """Return the file of a blob (which may not exist); ValueError for a bad digest."""
        if not is_digest(digest):
            raise ValueError("not a digest of %s: %r" % (", ".join(ALGORITHMS), digest))
        hexdigest = image_id_of(digest)
        return os.path.join(self.blobs, algorithm_of(digest), hexdigest[:2], hexdigest)

    def open(self, digest):
        """Return an OpenBlob of a stored blob, or None."""
        try:
            stream = open(self._path(digest), "rb")  # noqa: SIM115  (the reader closes it)
        except FileNotFoundError:
            return None
        status = os.fstat(stream.fileno())
        return OpenBlob(stream, status.st_size, status.st_mtime)

    def size(self, digest):
        """Return a blob's size, or None if there is no such blob."""
        try:
            return os.stat(self._path(digest)).st_size
        except FileNotFoundError:
            return None

    def read(self, digest):
        """Return a blob's bytes (for manifests, which are small)."""
        with open(self._path(digest), "rb") as stream:
            return stream.read()

    def put_bytes(self, data, algorithm=DEFAULT_ALGORITHM):
        """Store small bytes (a manifest) as a blob; return its digest. A failure leaves no session behind."""
        upload = self.start(algorithm=algorithm)
        try:
            return self.finish(upload, digest_of(data, algorithm), [data])
        except BaseException:
            self.cancel(upload)
            raise

    def delete(self, digest):
        """Remove a blob; tell whether there was one."""
        return remove(self._path(digest), sync=False)

    def digests(self):
        """Yield the digest of every blob stored, by algorithm."""
        for algorithm in ALGORITHMS:
            folder = os.path.join(self.blobs, algorithm)
            for prefix in sorted(os.listdir(folder)) if os.path.isdir(folder) else ():
                for name in sorted(os.listdir(os.path.join(folder, prefix))):
                    if is_digest("%s:%s" % (algorithm, name)):
                        yield "%s:%s" % (algorithm, name)

    # Uploads

    def _upload_path(self, upload):
        try:
            return os.path.join(self.uploads, str(uuid.UUID(upload)))
        except ValueError:
            raise UploadUnknown(upload) from None

    def start(self, owner=None, algorithm=DEFAULT_ALGORITHM):
        """Open an upload session for ``owner`` (text naming who opened it, for what); return its id.

        Its bytes are hashed with ``algorithm`` as they arrive; a finish with a
        digest of another algorithm hashes the upload again.
        """
        self.expire_uploads()
        upload = str(uuid.uuid4())
        os.makedirs(self.uploads, exist_ok=True)  # made on first use: a hub-API user never sees it
        path = self._upload_path(upload)
        try:
            if owner is not None:  # first, so that a session never exists without its owner
                with AppendFile(path + OWNER_SUFFIX, self.sync) as stream:
                    stream.append(owner.encode("utf-8"), 0)
            AppendFile(path, self.sync).close()
        except BaseException:
            _remove_with_sidecars(path)  # a session refused leaves no file
            raise
        if algorithm != DEFAULT_ALGORITHM:
            with self._lock:
                self._algorithms[upload] = algorithm
        return upload

    def owner(self, upload):
        """Return the owner an upload was opened for, or None (no such upload, or none given)."""
        try:
            with open(self._upload_path(upload) + OWNER_SUFFIX, encoding="utf-8") as stream:
                return stream.read()
        except (FileNotFoundError, UploadUnknown):
            return None

    def upload_size(self, upload):
        """Return how many bytes an upload holds; UploadUnknown if there is no such upload."""
        try:
            return os.stat(self._upload_path(upload)).st_size
        except FileNotFoundError:
            raise UploadUnknown(upload) from None

    @contextmanager
    def _writing(self, upload):
        """Hold an upload for one request, whatever process it is in; yield its file.

        UploadUnknown if there is no such upload (also once the request held
        up finished or cancelled it); UploadBusy if it stays held too long.
        """
        path = self._upload_path(upload)
        if not os.path.exists(path):
            raise UploadUnknown(upload)
        with ExitStack() as held:
            try:
                held.enter_context(hold_alone(path + LOCK_SUFFIX, self.lock_timeout))
            except LockTimeout:
                raise UploadBusy(upload, self.lock_timeout) from None
            except FileNotFoundError:  # its lock file went as it was opened: only ever after the upload
                raise UploadUnknown(upload) from None
            if not os.path.exists(path):  # finished or cancelled by the request waited for
                remove(path + LOCK_SUFFIX, sync=False)
                raise UploadUnknown(upload)
            yield path

    def append(self, upload, chunks, start=None, length=None):
        """Add chunks (an iterable of bytes) to an upload, whole or not at all; return its new size.

        With ``start``, the chunk must begin where the upload ends (RangeMismatch);
        with ``length``, a chunk that would make the blob too large is refused
        before a byte is written (TooLarge), as one that grows too large is.
        """
        with self._writing(upload) as path:
            return self._append(upload, path, chunks, start, length)

    def _append(self, upload, path, chunks, start, length):
        size = os.stat(path).st_size
        if start is not None and start != size:
            raise RangeMismatch(size)
        if length is not None and size + length > self.max_size:
            raise TooLarge(self.max_size)
        _, hasher = self._hasher(upload, path, size)
        with AppendFile(path, self.sync) as stream:
            size = stream.extend(self._hashed(chunks, hasher, size), size)  # all or nothing
        with self._lock:
            self._hashes[upload] = (size, hasher)
        os.utime(path)
        return size

    def _hashed(self, chunks, hasher, size):
        """Yield ``chunks``, hashed into ``hasher``; TooLarge once they make an upload of ``size`` too large."""
        for chunk in chunks:
            size += len(chunk)
            if size > self.max_size:
                raise TooLarge(self.max_size)
            hasher.update(chunk)
            yield chunk

    def _hasher(self, upload, path, size, algorithm=None):
        """Return (bytes hashed, hash) of an upload, in ``algorithm`` (None: the upload's own).

        Its file is hashed again if another process wrote it, or for another algorithm.
        """
        with self._lock:
            known = self._hashes.get(upload)
            algorithm = algorithm or self._algorithms.get(upload, DEFAULT_ALGORITHM)
        if known is not None and known[0] == size and known[1].name == algorithm:
            return known[0], known[1].copy()
        hash_ = hasher(algorithm)
        with open(path, "rb") as stream:
            for chunk in iter(lambda: stream.read(CHUNK), b""):
                hash_.update(chunk)
        return size, hash_

    def finish(self, upload, digest, chunks=(), start=None, length=None):
        """Add a last chunk to an upload (as ``append``), check it against ``digest`` and make it that blob.

        The digest is checked over exactly the bytes moved into place: no
        other request writes the upload meanwhile. Any failure before the
        blob is in place (DigestMismatch, a disk that refuses its folder)
        leaves the upload as it was before, for the client to retry; once it
        is, a folder that cannot be synced is a PartialWrite. Return the digest.
        """
        if not is_digest(digest):
            raise DigestMismatch(digest)
        with self._writing(upload) as path:
            before = os.stat(path).st_size
            size = self._append(upload, path, chunks, start, length)
            target = self._path(digest)
            try:
                _, hash_ = self._hasher(upload, path, size, algorithm_of(digest))
                if digest_of_hash(hash_) != digest:
                    raise DigestMismatch(digest)
                self._make_folder(os.path.dirname(target))
            except BaseException:
                self._cut_back(path, before)
                raise
            os.replace(path, target)  # same file system: atomic; an existing blob has the same bytes
            self._remove(upload)
            self._sync_placed(target)
        return digest

    def _cut_back(self, path, size):
        """Cut an upload back to ``size`` bytes; PartialWrite if it cannot be."""
        try:
            with AppendFile(path, self.sync) as stream:
                stream.cut(size)
        except OSError as error:
            raise PartialWrite(error) from error

    def _make_folder(self, folder):
        """Make a blob folder (and its algorithm's, the first time), durably, if it is not there."""
        if not os.path.isdir(folder):
            self._make_folder(os.path.dirname(folder))
            os.makedirs(folder, exist_ok=True)
            if self.sync:
                fsync_folder(os.path.dirname(folder))

    def _sync_placed(self, target):
        """Sync the folder of a blob just renamed into place; PartialWrite if it cannot be: it may not last."""
        if self.sync:
            try:
                fsync_folder(os.path.dirname(target))
            except OSError as error:
                raise PartialWrite(error) from error

    def cancel(self, upload):
        """Drop an upload session, once no request writes it; tell whether there was one."""
        try:
            with self._writing(upload):
                return self._remove(upload)
        except UploadUnknown:
            return False

    def _remove(self, upload):
        with self._lock:
            self._hashes.pop(upload, None)
            self._algorithms.pop(upload, None)
        return _remove_with_sidecars(self._upload_path(upload))

    def cancel_uploads(self, prefix=None):
        """Cancel every upload session (whose owner starts with ``prefix``, if given); return how many."""
        cancelled = 0
        for name in self._upload_folder():
            if _sidecar_owner(name) is not None:
                continue
            owner = self.owner(name)
            if (prefix is None or (owner or "").startswith(prefix)) and self.cancel(name):
                cancelled += 1
        return cancelled

    def expire_uploads(self, now=None):
        """Remove uploads not written to for a day, with their files; return how many."""
        deadline = (now or time.time()) - UPLOAD_LIFETIME
        removed = 0
        for name in self._upload_folder():
            path = os.path.join(self.uploads, name)
            upload = _sidecar_owner(name)
            if upload is not None:  # goes with its upload; alone, once it is as old
                if not os.path.exists(os.path.join(self.uploads, upload)) and _older(path, deadline):
                    remove(path, sync=False)
            elif _older(path, deadline) and _remove_with_sidecars(path):
                removed += 1
        return removed

    def _upload_folder(self):
        return os.listdir(self.uploads) if os.path.isdir(self.uploads) else []


def _sidecar_owner(name):
    """Return the upload a file of the uploads folder goes with, or None for an upload itself."""
    for sidecar in SIDECARS:
        if name.endswith(sidecar):
            return name[: -len(sidecar)]
    return None


def _older(path, deadline):
    try:
        return os.stat(path).st_mtime < deadline
    except FileNotFoundError:
        return False


def _remove_with_sidecars(path):
    """Remove an upload's file, then the files that go with it; tell whether there was an upload.

    The upload first: whoever takes its lock after this finds no upload.
    """
    removed = remove(path, sync=False)
    for sidecar in SIDECARS:
        remove(path + sidecar, sync=False)
    return removed
