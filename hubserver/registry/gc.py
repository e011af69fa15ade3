"""Garbage collection: remove the blobs that no manifest references.

Run it while nothing is being pushed: a blob uploaded for a manifest not yet
pushed is unreferenced until the manifest arrives.
"""

from hubserver.registry import manifests


def referenced(store, blobs):
    """Return every digest a repository's manifests need: the manifests and what they name."""
    needed = set()
    for namespace in store.namespace_names():
        for repository in store.list_repositories(namespace):
            for manifest in repository["manifests"]:
                needed.add(manifest["digest"])
                if blobs.size(manifest["digest"]) is None:
                    continue
                _, document = manifests.parse(blobs.read(manifest["digest"]), manifest["media_type"])
                blob_digests, manifest_digests = manifests.references(manifest["media_type"], document)
                needed.update(blob_digests, manifest_digests)
    return needed


def collect(store, blobs):
    """Remove unreferenced blobs; return (how many, how many bytes)."""
    needed = referenced(store, blobs)
    count = freed = 0
    for digest in list(blobs.digests()):
        if digest not in needed:
            freed += blobs.size(digest) or 0
            if blobs.delete(digest):
                count += 1
    return count, freed
