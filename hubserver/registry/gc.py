"""Garbage collection: remove the blobs that belong to no repository; and what a reset leaves behind.

A blob is kept while a repository holds it: uploaded or mounted into it, or
named by one of its manifests (or a manifest itself). Run it while nothing is
being pushed: an upload not yet finished is no blob yet. While a namespace
cannot be read, nothing is collected: its manifests might name any blob.
"""

import logging

from hubserver.registry.links import Links
from hubserver.storage import CorruptNamespace

log = logging.getLogger(__name__)


def referenced(store, blobs):
    """Return every digest that some repository keeps alive."""
    links = Links(blobs)
    needed = set()
    for namespace in store.namespace_names():
        for repository in store.list_repositories(namespace):
            needed |= links.needed(repository)
    return needed


def collect(store, blobs):
    """Remove the blobs no repository keeps; return (how many, how many bytes).

    CorruptNamespace, and nothing removed, if a namespace cannot be read.
    """
    needed = referenced(store, blobs)
    count = freed = 0
    for digest in list(blobs.digests()):
        if digest not in needed:
            freed += blobs.size(digest) or 0
            if blobs.delete(digest):
                count += 1
    return count, freed


def forget(storage, namespace=None):
    """Drop what a reset (of ``namespace``, or of everything) left of /v2/ in ``storage``: unheld blobs, uploads.

    After it, a blob pushed before the reset answers 404, as does an upload
    session opened before it: in the namespace reset, or anywhere.
    """
    storage.blobs.cancel_uploads(None if namespace is None else namespace + "/")
    try:
        collect(storage.store, storage.blobs)
    except CorruptNamespace as error:  # the reset stands; its blobs wait for a gc once the file is mended
        log.warning("no blobs were collected after the reset: %s", error)
