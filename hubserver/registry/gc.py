"""Garbage collection: remove the blobs that belong to no repository.

A blob is kept while a repository holds it: uploaded or mounted into it, or
named by one of its manifests (or a manifest itself). Run it while nothing is
being pushed: an upload not yet finished is no blob yet.
"""

from hubserver.registry.links import Links


def referenced(store, blobs):
    """Return every digest that some repository keeps alive."""
    links = Links(blobs)
    needed = set()
    for namespace in store.namespace_names():
        for repository in store.list_repositories(namespace):
            needed |= links.needed(repository)
    return needed


def collect(store, blobs):
    """Remove the blobs no repository keeps; return (how many, how many bytes)."""
    needed = referenced(store, blobs)
    count = freed = 0
    for digest in list(blobs.digests()):
        if digest not in needed:
            freed += blobs.size(digest) or 0
            if blobs.delete(digest):
                count += 1
    return count, freed
