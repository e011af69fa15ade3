"""The pull-through mirror: what a pull asks for and hubserver does not hold is fetched from the upstream.

What is fetched is stored as pushed content is (a manifest by its digest, a
tag as one of the repository's ``fetched_tags``, a blob linked to the
repository) and then served from here, also once the upstream is gone:

- a manifest by digest is fetched once, and checked against its digest;
- a manifest by tag is checked with a ``HEAD`` at most once per ``ttl``
  seconds while it is the upstream's (a tag pushed here is served from here);
  when the upstream cannot be reached, the tag answers what it last pointed to;
- a blob is fetched by one request at a time (the others wait for it, then
  read it here), stored while it streams to the client that asked first, and
  kept only if its bytes have its digest: the last chunk is held back until
  they do, so a client is never sent a whole wrong blob.

Something the upstream cannot give is the registry's 404, with a detail that
names the upstream and why.
"""

import logging
import queue
import threading
import time

from hubserver.mirror.upstream import Unreachable
from hubserver.names import DEFAULT_ALGORITHM, algorithm_of, digest_of, is_digest_reference
from hubserver.registry import manifests
from hubserver.registry.errors import RegistryError
from hubserver.storage import DigestMismatch, ManifestNotFound, StorageError, TooLarge
from hubserver.storage.model import manifest_of

log = logging.getLogger(__name__)

CHUNK = 256 * 1024  # bytes read from the upstream at a time
AHEAD = 64  # chunks fetched ahead of a slow client, at most (16 MiB)
MANIFEST_LIMIT = 4 * 1024 * 1024  # the largest manifest taken, as the CNCF registry has it
OWNER = "hubserver mirror"  # whom the upload sessions of fetched blobs belong to


class Flight:
    """One blob on its way from the upstream: the others asking for it wait for ``done``."""

    def __init__(self, listener=None):
        self.done = threading.Event()
        self.error = None  # the RegistryError a failed fetch is
        self.listener = listener  # a Queue the chunks are told to as they come, while someone listens


class Mirror:
    """Fills ``store`` and ``blobs`` from ``upstream`` (an Upstream) as pulls ask; tags checked once per ``ttl`` s."""

    def __init__(self, upstream, store, blobs, ttl=300.0):
        self.upstream = upstream
        self.store = store
        self.blobs = blobs
        self.ttl = ttl
        self._checked = {}  # (namespace, repo_name, tag) -> monotonic time the upstream was last asked
        self._flights = {}  # digest -> Flight
        self._lock = threading.Lock()

    # Manifests

    def fill_manifest(self, namespace, repo_name, reference):
        """Make the store hold the manifest ``reference`` if the upstream has it; raise MANIFEST_UNKNOWN if it cannot.

        Return the manifest's digest.
        """
        repository = self.store.find_repository(namespace, repo_name)
        local = self._local_manifest(repository, namespace, reference)
        if local is not None and (
            is_digest_reference(reference) or self._served_here(repository, namespace, repo_name, reference)
        ):
            return local
        try:
            digest = self._upstream_tag(namespace, repo_name, reference) if local is not None else None
            if digest is None or digest != local:
                digest = self._fetch_manifest(namespace, repo_name, reference)
        except (Unreachable, _Refused) as error:
            if local is None:
                raise self._unknown("MANIFEST_UNKNOWN", {"reference": reference}, error) from None
            log.warning(
                "the upstream %s could not be asked for %s/%s:%s (%s): it is served as last fetched",
                self.upstream,
                namespace,
                repo_name,
                reference,
                error,
            )
            return local
        self._checked[(namespace, repo_name, reference)] = time.monotonic()
        return digest

    def _local_manifest(self, repository, namespace, reference):
        """Return the digest of the manifest ``reference`` of ``repository`` (or None) if its bytes are here."""
        if repository is None:
            return None
        try:
            digest = manifest_of(repository, namespace, reference)["digest"]
        except ManifestNotFound:
            return None
        return digest if self.blobs.size(digest) is not None else None

    def _served_here(self, repository, namespace, repo_name, tag):
        """Tell whether a tag held here is answered without the upstream: pushed here, or checked within the ttl."""
        if tag not in repository["fetched_tags"]:
            return True
        checked = self._checked.get((namespace, repo_name, tag))
        return checked is not None and time.monotonic() - checked < self.ttl

    def _upstream_tag(self, namespace, repo_name, tag):
        """Return the digest the upstream's tag names now (a HEAD), or None if it does not say."""
        answer = self.upstream.manifest(_name(namespace, repo_name), tag, "HEAD")
        if answer is None:
            raise _Refused("it no longer has the tag %s" % tag)
        answer.close()
        return answer.headers.get("Docker-Content-Digest")

    def _fetch_manifest(self, namespace, repo_name, reference):
        """Fetch a manifest, check it, and keep it (by tag: as the upstream's tag); return its digest."""
        answer = self.upstream.manifest(_name(namespace, repo_name), reference)
        if answer is None:
            raise _Refused("it has no manifest %s" % reference)
        data = answer.read(MANIFEST_LIMIT + 1)
        if len(data) > MANIFEST_LIMIT:
            raise _Refused("its manifest %s is larger than %d bytes" % (reference, MANIFEST_LIMIT))
        by_digest = is_digest_reference(reference)
        algorithm = algorithm_of(reference) if by_digest else DEFAULT_ALGORITHM
        digest = digest_of(data, algorithm)
        said = reference if by_digest else answer.headers.get("Docker-Content-Digest", digest)
        if said.startswith(algorithm + ":") and said != digest:
            log.error(
                "the upstream %s sent a manifest of %s/%s whose digest is %s, not %s: not kept",
                self.upstream,
                namespace,
                repo_name,
                digest,
                said,
            )
            raise _Refused("it sent a manifest whose digest is %s, not %s" % (digest, said))
        try:
            media_type, _ = manifests.parse(data, answer.headers.get("Content-Type", ""))
        except manifests.InvalidManifest as error:
            raise _Refused("it sent a manifest hubserver does not take: %s" % error) from None
        self.blobs.put_bytes(data, algorithm)
        manifest = {"digest": digest, "media_type": media_type, "size": len(data)}
        self.store.record_fetched(namespace, repo_name, manifest, None if by_digest else reference)
        return digest

    # Blobs

    def blob_size(self, namespace, repo_name, digest):
        """Return the size of a blob as the upstream has it (a HEAD), linking it here if its bytes are here already.

        BLOB_UNKNOWN, naming the upstream, if it has none or cannot be asked.
        """
        try:
            answer = self.upstream.blob(_name(namespace, repo_name), digest, "HEAD")
            if answer is None:
                raise _Refused("it has no blob %s" % digest)
            answer.close()
        except (Unreachable, _Refused) as error:
            raise self._unknown("BLOB_UNKNOWN", {"digest": digest}, error) from None
        if self.blobs.size(digest) is not None:
            self.store.link_blob(namespace, repo_name, digest)
        return _length(answer.headers) or 0

    def stream_blob(self, namespace, repo_name, digest):
        """Fetch a blob for a client; return (its size or None, its chunks), or None once it is here to be read.

        Where another request fetches it already, or its bytes are here (from
        another repository) and the upstream has it, this waits and links it
        here, and the caller reads it from the store.
        """
        if self.blobs.size(digest) is not None:
            self.blob_size(namespace, repo_name, digest)  # the upstream's repository has it: it is this one's too
            return None
        listener = queue.Queue(AHEAD)
        flight, leads = self._join(digest, listener)
        if not leads:  # another request fetches it: wait for that
            self._wait(flight)
            self.store.link_blob(namespace, repo_name, digest)
            return None
        threading.Thread(
            target=self._fly, args=(namespace, repo_name, digest, flight), name="mirror " + digest[:19], daemon=True
        ).start()
        kind, value = listener.get()
        if kind == "error":
            raise value
        return value, self._told(flight, listener)

    def fetch_blob(self, namespace, repo_name, digest, progress=None):
        """Make the store hold a blob of the upstream's repository, linked to it; ``progress(bytes)`` per chunk."""
        if self.blobs.size(digest) is not None:
            self.blob_size(namespace, repo_name, digest)
            return
        flight, leads = self._join(digest, None)
        if leads:
            self._fly(namespace, repo_name, digest, flight, progress)
        self._wait(flight)
        self.store.link_blob(namespace, repo_name, digest)

    def _join(self, digest, listener):
        """Return (the Flight of ``digest``, whether the caller leads it: a new one, told to ``listener``)."""
        with self._lock:
            flight = self._flights.get(digest)
            if flight is not None:
                return flight, False
            flight = self._flights[digest] = Flight(listener)
            return flight, True

    def _wait(self, flight):
        flight.done.wait()
        if flight.error is not None:
            raise flight.error

    def _fly(self, namespace, repo_name, digest, flight, progress=None):
        """Fetch a blob into the store, telling the flight's listener each chunk; record its error; land it."""
        try:
            self._fetch_into_store(namespace, repo_name, digest, flight, progress)
            _tell(flight, ("end", None))
        except Exception as error:  # whatever it is, those waiting are told: none of them waits for ever
            if not isinstance(error, (Unreachable, _Refused, TooLarge, StorageError, OSError)):
                log.exception("fetching %s from the upstream %s failed", digest, self.upstream)
            flight.error = self._unknown("BLOB_UNKNOWN", {"digest": digest}, error)
            _tell(flight, ("error", flight.error))
        finally:
            with self._lock:
                self._flights.pop(digest, None)
            flight.done.set()

    def _fetch_into_store(self, namespace, repo_name, digest, flight, progress):
        answer = self.upstream.blob(_name(namespace, repo_name), digest)
        if answer is None:
            raise _Refused("it has no blob %s" % digest)
        _tell(flight, ("size", _length(answer.headers)))

        def chunks():
            for chunk in answer.stream(CHUNK):
                _tell(flight, ("chunk", chunk))
                if progress is not None:
                    progress(len(chunk))
                yield chunk

        upload = self.blobs.start(OWNER, algorithm_of(digest))
        try:
            self.blobs.finish(upload, digest, chunks())
        except BaseException as error:
            self.blobs.cancel(upload)  # it is not the blob: nothing is left of it
            if not isinstance(error, DigestMismatch):
                raise
            log.error("the upstream %s sent bytes for %s whose digest is not that: not kept", self.upstream, digest)
            raise _Refused("it sent bytes for %s whose digest is not that" % digest) from None
        finally:
            answer.close()
        self.store.link_blob(namespace, repo_name, digest)

    def _told(self, flight, listener):
        """Yield the chunks told to ``listener``, the last one only once the blob is whole and its digest right."""
        held = None
        try:
            while True:
                kind, value = listener.get()
                if kind == "error":
                    raise value
                if kind == "end":
                    if held is not None:
                        yield held
                    return
                if held is not None:
                    yield held
                held = value
        finally:
            flight.listener = None  # the client went away, or has it all: the fetch goes on alone

    # Tags

    def tags(self, namespace, repo_name):
        """Return the upstream's tags of a repository, or None if it has none or cannot be asked (logged)."""
        try:
            return self.upstream.tags(_name(namespace, repo_name))
        except Unreachable as error:
            log.warning(
                "the upstream %s could not list the tags of %s/%s: %s", self.upstream, namespace, repo_name, error
            )
            return None

    def _unknown(self, code, detail, error):
        return RegistryError(code, {**detail, "upstream": self.upstream.url, "reason": str(error)})


class _Refused(Exception):
    """The upstream answered, but not with what was asked for; the message says what."""


def _length(headers):
    """Return the Content-Length of an upstream's answer, or None if it gives none (or no number)."""
    length = headers.get("Content-Length", "")
    return int(length) if length.isdigit() else None


def _name(namespace, repo_name):
    return "%s/%s" % (namespace, repo_name)


def _tell(flight, item):
    """Hand ``item`` to whoever listens to the flight, waiting while they read; no one listening: drop it."""
    while flight.listener is not None:
        try:
            flight.listener.put(item, timeout=0.1)
            return
        except queue.Full:
            continue
