"""The content-addressed blob store, and the uploads that fill it.

A blob lives at ``<data-dir>/_blobs/sha256/<2 hex>/<64 hex>``, named by the
sha256 of its bytes. It is hashed while it streams in, checked against the
digest the client names, then renamed into place: a blob file is whole or
absent. An unfinished upload lives at ``<data-dir>/_uploads/<uuid>``, with
who opened it, for which repository, in ``<uuid>.owner``; it is removed a day
after it was last written to (checked whenever an upload starts). Nothing here
holds a blob in memory: bytes move in chunks of CHUNK.
"""

import hashlib
import os
import threading
import time
import uuid
from contextlib import suppress

from hubserver.names import digest_of, digest_of_image, image_id_of, is_digest
from hubserver.storage.files import fsync_folder

CHUNK = 1024 * 1024
UPLOAD_LIFETIME = 24 * 3600
OWNER_SUFFIX = ".owner"


class BlobError(Exception):
    """Base of the blob store's errors."""


class UploadUnknown(BlobError):
    """No upload session of that id."""


class RangeMismatch(BlobError):
    """A chunk that does not start where the upload ends."""

    def __init__(self, size):
        super().__init__("the upload holds %d bytes" % size)
        self.size = size


class DigestMismatch(BlobError):
    """The bytes do not have the digest the client named."""


class TooLarge(BlobError):
    """An upload grew past the largest blob allowed."""


class BlobStore:
    """Blobs by digest, and the uploads on their way in."""

    def __init__(self, data_dir, max_size):
        self.blobs = os.path.join(data_dir, "_blobs", "sha256")
        self.uploads = os.path.join(data_dir, "_uploads")
        self.max_size = max_size
        self._hashes = {}  # upload id -> (size hashed, sha256 so far), in this process
        self._lock = threading.Lock()

    # Blobs

    def path(self, digest):
        """Return the file of a blob (which may not exist); ValueError for a bad digest."""
        if not is_digest(digest):
            raise ValueError("not a sha256 digest: %r" % (digest,))
        hexdigest = image_id_of(digest)
        return os.path.join(self.blobs, hexdigest[:2], hexdigest)

    def size(self, digest):
        """Return a blob's size, or None if there is no such blob."""
        try:
            return os.stat(self.path(digest)).st_size
        except FileNotFoundError:
            return None

    def read(self, digest):
        """Return a blob's bytes (for manifests, which are small)."""
        with open(self.path(digest), "rb") as stream:
            return stream.read()

    def put_bytes(self, data):
        """Store small bytes (a manifest) as a blob; return its digest."""
        upload = self.start()
        self.append(upload, [data])
        return self.finish(upload, digest_of(data))

    def delete(self, digest):
        """Remove a blob; tell whether there was one."""
        try:
            os.unlink(self.path(digest))
        except FileNotFoundError:
            return False
        return True

    def digests(self):
        """Yield the digest of every blob stored."""
        if not os.path.isdir(self.blobs):
            return
        for prefix in sorted(os.listdir(self.blobs)):
            for name in sorted(os.listdir(os.path.join(self.blobs, prefix))):
                if is_digest(digest_of_image(name)):
                    yield digest_of_image(name)

    # Uploads

    def _upload_path(self, upload):
        try:
            return os.path.join(self.uploads, str(uuid.UUID(upload)))
        except ValueError:
            raise UploadUnknown(upload) from None

    def start(self, owner=None):
        """Open an upload session for ``owner`` (text naming who opened it, for what); return its id."""
        self.expire_uploads()
        upload = str(uuid.uuid4())
        os.makedirs(self.uploads, exist_ok=True)  # made on first use: a hub-API user never sees it
        path = self._upload_path(upload)
        if owner is not None:  # first, so that a session never exists without its owner
            with open(path + OWNER_SUFFIX, "x", encoding="utf-8") as stream:
                stream.write(owner)
        with open(path, "xb"):
            pass
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

    def append(self, upload, chunks, start=None):
        """Add chunks (an iterable of bytes) to an upload; return its new size.

        With ``start``, the chunk must begin where the upload ends (RangeMismatch).
        """
        path = self._upload_path(upload)
        size = self.upload_size(upload)
        if start is not None and start != size:
            raise RangeMismatch(size)
        hashed, hasher = self._hasher(upload, path, size)
        with open(path, "ab") as stream:
            for chunk in chunks:
                hashed += len(chunk)
                if hashed > self.max_size:
                    raise TooLarge()
                hasher.update(chunk)
                stream.write(chunk)
        with self._lock:
            self._hashes[upload] = (hashed, hasher)
        os.utime(path)
        return hashed

    def _hasher(self, upload, path, size):
        """Return (bytes hashed, hash) of an upload, hashing its file again if another process wrote it."""
        with self._lock:
            known = self._hashes.get(upload)
        if known is not None and known[0] == size:
            return known[0], known[1].copy()
        hasher = hashlib.sha256()
        with open(path, "rb") as stream:
            for chunk in iter(lambda: stream.read(CHUNK), b""):
                hasher.update(chunk)
        return size, hasher

    def finish(self, upload, digest):
        """Check an upload against ``digest`` and make it that blob; return the digest.

        DigestMismatch leaves the upload as it was, for the client to retry.
        """
        path = self._upload_path(upload)
        size = self.upload_size(upload)
        if not is_digest(digest):
            raise DigestMismatch(digest)
        _, hasher = self._hasher(upload, path, size)
        if digest_of_image(hasher.hexdigest()) != digest:
            raise DigestMismatch(digest)
        target = self.path(digest)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(path, "rb+") as stream:
            os.fsync(stream.fileno())
        os.replace(path, target)  # same file system: atomic; an existing blob has the same bytes
        fsync_folder(os.path.dirname(target))
        self.cancel(upload)
        return digest

    def cancel(self, upload):
        """Drop an upload session; tell whether there was one."""
        with self._lock:
            self._hashes.pop(upload, None)
        path = self._upload_path(upload)
        with suppress(FileNotFoundError):
            os.unlink(path + OWNER_SUFFIX)
        try:
            os.unlink(path)
        except FileNotFoundError:
            return False
        return True

    def cancel_uploads(self, prefix=None):
        """Cancel every upload session (whose owner starts with ``prefix``, if given); return how many."""
        if not os.path.isdir(self.uploads):
            return 0
        cancelled = 0
        for name in os.listdir(self.uploads):
            if name.endswith(OWNER_SUFFIX):
                continue
            owner = self.owner(name)
            if (prefix is None or (owner or "").startswith(prefix)) and self.cancel(name):
                cancelled += 1
        return cancelled

    def expire_uploads(self, now=None):
        """Remove uploads not written to for a day; return how many."""
        deadline = (now or time.time()) - UPLOAD_LIFETIME
        removed = 0
        if not os.path.isdir(self.uploads):
            return removed
        for name in os.listdir(self.uploads):
            path = os.path.join(self.uploads, name)
            if name.endswith(OWNER_SUFFIX):  # goes with its upload; alone, once it is as old
                upload_gone = not os.path.exists(path[: -len(OWNER_SUFFIX)])
                with suppress(FileNotFoundError):
                    if upload_gone and os.stat(path).st_mtime < deadline:
                        os.unlink(path)
                continue
            with suppress(FileNotFoundError):
                if os.stat(path).st_mtime < deadline:
                    os.unlink(path)
                    removed += 1
                    with suppress(FileNotFoundError):
                        os.unlink(path + OWNER_SUFFIX)
        return removed
