"""Durable storage of namespaces: one JSON file each, no database, no Flask."""

from hubserver.storage.errors import (
    CorruptNamespace,
    DiskFull,
    DiskUnwritable,
    ManifestNotFound,
    NamespaceBusy,
    RepositoryExists,
    RepositoryNotFound,
    StorageError,
    TagNotFound,
    disk_trouble,
)
from hubserver.storage.namespaces import NamespaceStore

__all__ = [
    "CorruptNamespace",
    "DiskFull",
    "DiskUnwritable",
    "ManifestNotFound",
    "NamespaceBusy",
    "NamespaceStore",
    "RepositoryExists",
    "RepositoryNotFound",
    "StorageError",
    "TagNotFound",
    "disk_trouble",
]
