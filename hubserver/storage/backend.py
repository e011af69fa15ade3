"""The two protocols a storage backend implements, and what each promises.

hubserver has two backends: the data directory (``storage.files``: a JSON
file and a change log a namespace, blob files by digest) and memory
(``storage.memory``: ``--ephemeral``, and ``create_app({"STORAGE":
"memory"})``). Every room reaches storage through these protocols alone, and
``tests/test_backend_contract.py`` checks every promise below against each
backend. A new backend is one module with a class for each protocol that
passes that suite, and a line in ``storage.open_storage``.
"""

from typing import NamedTuple, Protocol


class NamespaceBackend(Protocol):
    """Namespaces by name, each a mapping of repositories by name (``model.Repositories``).

    Promises:

    - **Atomic edits.** ``apply`` runs one ``model.Edit`` on the namespace's
      current repositories, after every edit applied before it, and makes
      all of its changes or, if it raises, none. Edits of one namespace
      never interleave, from any thread (and, for the files, any process).
    - **Durable answers.** When ``apply`` returns, the change is kept as
      durably as the backend keeps anything (a synced disk for the files);
      when it raises, nothing of it was kept.
    - **Readers see whole versions.** ``current`` never blocks on a writer
      and returns a version that holds every edit that returned before it
      was called, and no part of one that has not returned. Repository
      dicts are never edited in place, so a reader may keep what it got.
    - **A namespace exists once an edit changed it** (even if it then holds
      no repository) until ``replace`` removes it; ``names`` lists those.
    - **Replace is all or nothing.** ``replace({namespace: by_name or
      None})`` makes each namespace hold exactly that mapping (None:
      remove it), all of them or, on an error, none; edits queued meanwhile
      apply after it.
    - **Busy is an answer.** A namespace held by others for longer than the
      backend's lock timeout is NamespaceBusy, and the edit was not applied.
    """

    def current(self, namespace):
        """Return the namespace's current ``Repositories`` (empty for one that does not exist)."""

    def apply(self, namespace, edit):
        """Apply ``edit`` (a ``model.Edit``) to the namespace; return its result, or raise its error."""

    def names(self):
        """Return the names of the namespaces that exist, sorted."""

    def replace(self, replacements):
        """Replace several namespaces at once: {namespace: repositories by name, or None to remove it}."""

    def close(self):
        """Finish at a clean stop (the files compact their logs)."""


class OpenBlob(NamedTuple):
    """A blob opened for reading: its binary ``stream`` (the reader closes it), ``size`` and ``modified`` time."""

    stream: object
    size: int
    modified: float


class BlobBackend(Protocol):
    """Blobs by digest, and the upload sessions that fill them.

    Promises:

    - **Whole or absent.** A blob is readable only once all of it is stored
      and its bytes have the digest it is stored under.
    - **Acknowledged chunks stay, refused ones go.** ``append`` adds all of
      its chunks or none (on any error, the disk's, a wrong start, a blob
      grown too large); ``finish`` makes the upload the blob, or, on any
      error before that, leaves the upload as it was.
    - **One writer an upload.** Requests writing one upload take turns,
      from any thread (and, for the files, any process); one that waits too
      long is UploadBusy. An upload finished or cancelled meanwhile is
      UploadUnknown.
    - Errors are the ``storage.errors`` blob errors, each with its registry code.
    """

    max_size: int

    def open(self, digest):
        """Return an ``OpenBlob`` of a stored blob, or None."""

    def size(self, digest):
        """Return a stored blob's size, or None."""

    def read(self, digest):
        """Return a stored blob's bytes (for manifests, which are small)."""

    def put_bytes(self, data, algorithm="sha256"):
        """Store small bytes as a blob, by their digest in ``algorithm``; return that digest."""

    def delete(self, digest):
        """Remove a blob; tell whether there was one."""

    def digests(self):
        """Yield the digest of every stored blob (for gc)."""

    def start(self, owner=None, algorithm="sha256"):
        """Open an upload session for ``owner`` (text: who opened it, for what), hashed in ``algorithm``; return its id.

        A finish with a digest of another algorithm of ``names.ALGORITHMS`` works too (the bytes are hashed again).
        """

    def owner(self, upload):
        """Return the owner an upload was opened for, or None (no such upload, or none given)."""

    def upload_size(self, upload):
        """Return how many bytes an upload holds; UploadUnknown if there is none."""

    def append(self, upload, chunks, start=None, length=None):
        """Add chunks to an upload, all or none; return its new size (RangeMismatch, TooLarge)."""

    def finish(self, upload, digest, chunks=(), start=None, length=None):
        """Add a last chunk, check the whole against ``digest`` (DigestMismatch), make it that blob."""

    def cancel(self, upload):
        """Drop an upload session; tell whether there was one."""

    def cancel_uploads(self, prefix=None):
        """Cancel every upload session (whose owner starts with ``prefix``); return how many."""
