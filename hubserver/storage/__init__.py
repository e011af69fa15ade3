"""Storage: namespaces and blobs behind two protocols (storage.backend), on disk or in memory; no Flask.

``open_storage`` is the one factory: it picks the backends a setting names and
says where the accounts keep their files (``Storage.place``), so no other
room ever builds a path into the data directory.
"""

import os
from typing import NamedTuple

from hubserver.storage.errors import (
    CorruptNamespace,
    DigestMismatch,
    DiskFull,
    DiskUnwritable,
    ManifestNotFound,
    NamespaceBusy,
    RangeMismatch,
    RepositoryExists,
    RepositoryNotFound,
    StorageError,
    TagNotFound,
    TooLarge,
    UploadBusy,
    UploadUnknown,
    disk_trouble,
)
from hubserver.storage.files import FileBlobs, FileNamespaces
from hubserver.storage.memory import MemoryBlobs, MemoryNamespaces
from hubserver.storage.namespaces import NamespaceStore

BACKENDS = ("files", "memory")

__all__ = [
    "BACKENDS",
    "CorruptNamespace",
    "DigestMismatch",
    "DiskFull",
    "DiskUnwritable",
    "ManifestNotFound",
    "NamespaceBusy",
    "NamespaceStore",
    "RangeMismatch",
    "RepositoryExists",
    "RepositoryNotFound",
    "Storage",
    "StorageError",
    "TagNotFound",
    "TooLarge",
    "UploadBusy",
    "UploadUnknown",
    "disk_trouble",
    "open_storage",
]


class Storage(NamedTuple):
    """What ``open_storage`` opened: the store of namespaces, the blobs, and the data directory (None: memory)."""

    store: NamespaceStore
    blobs: object
    data_dir: object

    def place(self, name):
        """Return where the accounts keep their file ``name`` (never a namespace's), or None: in memory."""
        return None if self.data_dir is None else os.path.join(self.data_dir, name)


def open_storage(kind, data_dir, clock, lock_timeout=10.0, sync=True, max_blob_size=10 * 1024**3):
    """Return the Storage of backend ``kind`` ("files": in ``data_dir``; "memory": nothing on disk)."""
    if kind == "memory":
        return Storage(
            NamespaceStore(MemoryNamespaces(lock_timeout), clock), MemoryBlobs(max_blob_size, lock_timeout), None
        )
    namespaces = FileNamespaces(data_dir, lock_timeout, sync)
    blobs = FileBlobs(namespaces.data_dir, max_blob_size, lock_timeout, sync)
    return Storage(NamespaceStore(namespaces, clock), blobs, namespaces.data_dir)
