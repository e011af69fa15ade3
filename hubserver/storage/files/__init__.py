"""The data directory backend: a JSON file and a change log a namespace, blob files by digest.

Today's engine, byte for byte: ``namespaces`` (the NamespaceBackend, with
``namespace_files``, ``log``, ``commits``, ``compaction`` and ``locks``),
``blobs`` (the BlobBackend), and ``durable`` (atomic writes, appends, syncs).
"""

from hubserver.storage.files.blobs import FileBlobs
from hubserver.storage.files.namespaces import FileNamespaces

__all__ = ["FileBlobs", "FileNamespaces"]
