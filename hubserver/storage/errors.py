"""Domain exceptions raised by storage, namespaces and blobs alike, each knowing its answer (``hubserver.errors``).

Each carries its code under ``/v2/`` and that error's detail, so no view remaps them.
"""

import errno

from hubserver.errors import AnswerError


class PartialWrite(OSError):
    """A write failed, and what it had written could not be taken back: it may be kept, whole or in part."""

    def __init__(self, error):
        super().__init__(error.errno, error.strerror or str(error))


class StorageError(AnswerError):
    """Base of every error the store raises on purpose: a server-side trouble (500) unless it says otherwise."""

    def __init__(self, message, namespace):
        super().__init__(message)
        self.namespace = namespace


class NotFound(StorageError):
    """Something asked for does not exist; the hub API says only that (404)."""

    status = 404
    detail = "Not found."


class RepositoryNotFound(NotFound):
    """The repository does not exist."""

    registry_code = "NAME_UNKNOWN"

    def __init__(self, namespace, repo_name):
        super().__init__("Repository %s/%s does not exist." % (namespace, repo_name), namespace)
        self.repo_name = repo_name

    def registry_detail(self):
        return {"name": "%s/%s" % (self.namespace, self.repo_name)}


class TagNotFound(NotFound):
    """The repository exists but the tag does not."""

    registry_code = "MANIFEST_UNKNOWN"

    def __init__(self, namespace, repo_name, tag):
        super().__init__("Tag %s of %s/%s does not exist." % (tag, namespace, repo_name), namespace)
        self.repo_name = repo_name
        self.tag = tag

    def registry_detail(self):
        return {"reference": self.tag}


class ManifestNotFound(NotFound):
    """The repository holds no manifest of that tag or digest."""

    registry_code = "MANIFEST_UNKNOWN"

    def __init__(self, namespace, repo_name, reference):
        super().__init__("Manifest %s of %s/%s is unknown." % (reference, namespace, repo_name), namespace)
        self.repo_name = repo_name
        self.reference = reference

    def registry_detail(self):
        return {"reference": self.reference}


class RepositoryExists(StorageError):
    """A repository of that name exists already."""

    status = 409

    def __init__(self, namespace, repo_name):
        super().__init__("Repository %s/%s already exists." % (namespace, repo_name), namespace)
        self.repo_name = repo_name


class CorruptNamespace(StorageError):
    """The namespace file cannot be read as a namespace document; it is left as it is."""

    def __init__(self, namespace, reason):
        super().__init__(
            "The data file of namespace %s cannot be read (%s); it was left unchanged." % (namespace, reason),
            namespace,
        )
        self.reason = reason


class FolderInTheWay(CorruptNamespace):
    """A folder stands where the namespace's file or log should be: nothing can read or replace it."""

    def __init__(self, namespace):
        super().__init__(namespace, "its file or its log is a folder")


class NamespaceBusy(StorageError):
    """The namespace lock was not obtained in time."""

    status = 503

    def __init__(self, namespace, timeout):
        super().__init__(
            "Namespace %s is busy: its lock was not obtained within %g s." % (namespace, timeout),
            namespace,
        )
        self.timeout = timeout


class DiskTrouble(StorageError):
    """The disk refused a write (full, read-only, not allowed).

    Nothing of it was stored, unless the error is a PartialWrite:
    then what it wrote could not be taken back, and the answer says so.
    """

    def __init__(self, namespace, error):
        what = "A blob" if namespace is None else "Namespace %s" % namespace  # None: a blob's write
        outcome = (
            "This change may have been stored, whole or in part: read it back before trying again."
            if isinstance(error, PartialWrite)
            else "Nothing of this change was stored; earlier data is intact."
        )
        super().__init__("%s was not written: %s. %s" % (what, error.strerror or error, outcome), namespace)
        self.errno = error.errno


class DiskFull(DiskTrouble):
    """No space left (ENOSPC) or quota exceeded (EDQUOT)."""

    status = 507


class DiskUnwritable(DiskTrouble):
    """A read-only file system, or a folder hubserver may not write."""

    status = 503


# The blob store's errors: only ever answered under /v2/.


class BlobError(AnswerError):
    """Base of the blob store's refusals."""

    status = 400
    detail_key = None  # the key of the registry detail, whose value is the error's argument

    def __init__(self, value, message=None):
        super().__init__(message or "%s: %s" % (type(self).__name__, value))
        self.value = value

    def registry_detail(self):
        return {self.detail_key: self.value}


class UploadUnknown(BlobError):
    """No upload session of that id."""

    status = 404
    registry_code = "BLOB_UPLOAD_UNKNOWN"
    detail_key = "uuid"


class UploadBusy(BlobError):
    """Another request kept writing the upload for longer than the lock timeout: try again."""

    status = 429
    registry_code = "TOOMANYREQUESTS"

    def __init__(self, upload, timeout):
        super().__init__(upload, "upload %s is busy: another request kept writing it for %g s" % (upload, timeout))

    def registry_detail(self):
        return {"uuid": self.value, "reason": str(self)}

    def headers(self):
        return {"Retry-After": "1"}


class RangeMismatch(BlobError):
    """A chunk that does not start where the upload ends."""

    status = 416
    registry_code = "RANGE_INVALID"
    detail_key = "size"

    def __init__(self, size):
        super().__init__(size, "the upload holds %d bytes" % size)
        self.size = size


class DigestMismatch(BlobError):
    """The bytes do not have the digest the client named."""

    registry_code = "DIGEST_INVALID"
    detail_key = "digest"


class TooLarge(BlobError):
    """An upload grew past the largest blob allowed (``max_size`` bytes)."""

    status = 413
    registry_code = "SIZE_INVALID"
    detail_key = "max"


DISK_ERRORS = {
    errno.ENOSPC: DiskFull,
    errno.EDQUOT: DiskFull,
    errno.EROFS: DiskUnwritable,
    errno.EACCES: DiskUnwritable,
    errno.EPERM: DiskUnwritable,
}


def disk_trouble(error):
    """Return the DiskTrouble class an OSError of a write stands for, or None for another error."""
    return DISK_ERRORS.get(getattr(error, "errno", None))
