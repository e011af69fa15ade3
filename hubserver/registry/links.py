"""Which blobs belong to a repository: those uploaded or mounted into it, and those its manifests name.

A blob is stored once, by digest, but read, mounted and deleted only through a
repository it belongs to, as in the CNCF registry. What a manifest names (its
config and layers; an index's child manifests; a subject) belongs to every
repository holding that manifest, so data directories written before links
existed keep working. A manifest never changes, so what it names is parsed
once and kept.
"""

import threading

from hubserver.registry import manifests


class Links:
    """What each repository's manifests name, and so which blobs a repository holds."""

    LIMIT = 20_000  # manifests whose references are kept

    def __init__(self, blobs):
        self._blobs = blobs
        self._named = {}  # manifest digest -> frozenset of the digests it names
        self._lock = threading.Lock()

    def named_by(self, manifest):
        """Return the digests a stored manifest ({digest, media_type, size}) names."""
        digest = manifest["digest"]
        named = self._named.get(digest)
        if named is None:
            if self._blobs.size(digest) is None:
                return frozenset()  # its bytes are gone (kept out of the cache: a push may bring them back)
            named = self._parse(manifest)
            with self._lock:
                if len(self._named) >= self.LIMIT:
                    self._named.clear()
                self._named[digest] = named
        return named

    def _parse(self, manifest):
        _, document = manifests.parse(self._blobs.read(manifest["digest"]), manifest["media_type"])
        blob_digests, manifest_digests = manifests.references(manifest["media_type"], document)
        subject = [document["subject"]["digest"]] if "subject" in document else []
        return frozenset([*blob_digests, *manifest_digests, *subject])

    def holds(self, repository, digest):
        """Tell whether ``digest`` belongs to ``repository`` (None: no repository, nothing belongs)."""
        if repository is None:
            return False
        return digest in repository["blobs"] or self.manifest_naming(repository, digest) is not None

    def manifest_naming(self, repository, digest):
        """Return the digest of a manifest of ``repository`` that names ``digest``, or None."""
        return next(
            (manifest["digest"] for manifest in repository["manifests"] if digest in self.named_by(manifest)), None
        )

    def needed(self, repository):
        """Return every digest ``repository`` keeps alive: its blobs, its manifests, and what they name."""
        kept = set(repository["blobs"])
        for manifest in repository["manifests"]:
            kept.add(manifest["digest"])
            kept |= self.named_by(manifest)
        return kept
