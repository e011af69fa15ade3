"""Domain exceptions raised by the store; the web layer maps each to one answer."""

import errno


class StorageError(Exception):
    """Base of every error the store raises on purpose."""

    def __init__(self, message, namespace):
        super().__init__(message)
        self.namespace = namespace


class RepositoryNotFound(StorageError):
    """The repository does not exist."""

    def __init__(self, namespace, repo_name):
        super().__init__("Repository %s/%s does not exist." % (namespace, repo_name), namespace)
        self.repo_name = repo_name


class TagNotFound(StorageError):
    """The repository exists but the tag does not."""

    def __init__(self, namespace, repo_name, tag):
        super().__init__("Tag %s of %s/%s does not exist." % (tag, namespace, repo_name), namespace)
        self.repo_name = repo_name
        self.tag = tag


class ManifestNotFound(StorageError):
    """The repository holds no manifest of that tag or digest."""

    def __init__(self, namespace, repo_name, reference):
        super().__init__("Manifest %s of %s/%s is unknown." % (reference, namespace, repo_name), namespace)
        self.repo_name = repo_name
        self.reference = reference


class RepositoryExists(StorageError):
    """A repository of that name exists already."""

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


class NamespaceBusy(StorageError):
    """The namespace lock was not obtained in time."""

    def __init__(self, namespace, timeout):
        super().__init__(
            "Namespace %s is busy: its lock was not obtained within %g s." % (namespace, timeout),
            namespace,
        )
        self.timeout = timeout


class DiskTrouble(StorageError):
    """The disk refused a write (full, read-only, not allowed); nothing of it was stored."""

    def __init__(self, namespace, error):
        super().__init__(
            "Namespace %s was not written: %s. Nothing of this change was stored; earlier data is intact."
            % (namespace, error.strerror or error),
            namespace,
        )
        self.errno = error.errno


class DiskFull(DiskTrouble):
    """No space left (ENOSPC) or quota exceeded (EDQUOT)."""


class DiskUnwritable(DiskTrouble):
    """A read-only file system, or a folder hubserver may not write."""


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
