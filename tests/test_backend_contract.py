"""The storage contract, written once against the protocols (storage.backend) and run against every backend.

As the CNCF registry's driver test suite: nothing here knows which backend it
runs on. Each test runs on the data directory, on the data directory read back
by a second store (what another server process sees), and in memory. The
files' own promises (their format, crashes, several processes) are tested on
top, in test_storage, test_log, test_durability and test_storage_properties.
"""

import copy
import hashlib
import threading

import pytest

from hubserver.clock import Clock
from hubserver.storage import (
    BACKENDS,
    DigestMismatch,
    NamespaceBusy,
    NamespaceStore,
    RangeMismatch,
    RepositoryExists,
    RepositoryNotFound,
    TagNotFound,
    TooLarge,
    UploadBusy,
    UploadUnknown,
    document,
    open_storage,
)
from hubserver.storage.model import Edit, manifest_of

from helpers import digest_of

IMAGE_A = "a" * 64
IMAGE_B = "b" * 64
MAX_BLOB = 4096
WAIT = 30  # seconds a test waits for what it checks, at most: never a figure it asserts
SHORT_TIMEOUT = 0.3  # the lock timeout of the tests that want a busy answer


class Opened:
    """A storage under test, and the ways a test looks at it without knowing its backend."""

    def __init__(self, storage, reader, holds_nothing):
        self.store = storage.store
        self.backend = storage.store.backend
        self.blobs = storage.blobs
        self.reader = reader  # a store reading what ``store`` wrote
        self.holds_nothing = holds_nothing


@pytest.fixture(params=["files", "files, read by a second store", "memory"])
def open_backend(request, tmp_path):
    """Return a function opening the backend under test, with a lock timeout."""
    opened = []

    def open_one(lock_timeout=10.0):
        kind = "memory" if request.param == "memory" else "files"
        storage = open_storage(kind, tmp_path, Clock(), lock_timeout=lock_timeout, max_blob_size=MAX_BLOB)
        reader = storage.store
        if request.param.endswith("second store"):
            reader = NamespaceStore.on_disk(tmp_path, Clock())
        if kind == "memory":

            def holds_nothing():
                return storage.store.namespace_names() == [] and list(storage.blobs.digests()) == []
        else:

            def holds_nothing():
                return list(tmp_path.iterdir()) == []

        opened.append(storage)
        return Opened(storage, reader, holds_nothing)

    yield open_one
    for storage in opened:
        storage.store.close()


@pytest.fixture
def opened(open_backend):
    return open_backend()


@pytest.fixture
def store(opened):
    return opened.store


@pytest.fixture
def reader(opened):
    return opened.reader


@pytest.fixture
def blobs(opened):
    return opened.blobs


def test_the_backends_are_files_and_memory():
    assert BACKENDS == ("files", "memory")


def in_thread(work):
    """Start ``work`` in a thread; return the thread and a list that receives its result or its error."""
    outcome = []

    def run():
        try:
            outcome.append(work())
        except Exception as error:
            outcome.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


# The repository rules, over each backend


def test_create_then_read(store, reader):
    created = store.create_repository("madams", "repo", description="d", full_description="f", is_public=False)
    assert reader.get_repository("madams", "repo") == created
    assert list(created) == list(document.REPOSITORY_KEYS)
    assert (created["description"], created["full_description"], created["is_public"]) == ("d", "f", False)
    assert created["created"] == created["updated"]
    assert (created["tags"], created["starred_by"], created["upload"]) == ([], [], 0)


def test_list_keeps_creation_order(store, reader):
    for name in ["bb", "aa", "cc"]:
        store.create_repository("madams", name)
    assert [repo["repo_name"] for repo in reader.list_repositories("madams")] == ["bb", "aa", "cc"]
    assert list(reader.list_repositories("nobody")) == []


def test_create_twice_raises(store):
    store.create_repository("madams", "repo")
    with pytest.raises(RepositoryExists) as raised:
        store.create_repository("madams", "repo")
    assert str(raised.value) == "Repository madams/repo already exists."


def test_update_changes_only_what_it_names(store, reader):
    created = store.create_repository("madams", "repo", description="old")
    store.update_repository("madams", "repo", logo="new.png")
    updated = reader.get_repository("madams", "repo")
    assert (updated["description"], updated["logo"]) == ("old", "new.png")
    assert updated["updated"] > created["updated"]
    assert updated["created"] == created["created"]


def test_update_refuses_fields_that_are_not_updatable(store):
    store.create_repository("madams", "repo")
    with pytest.raises(TypeError):
        store.update_repository("madams", "repo", download=5)


def test_delete_repository(store, reader):
    store.create_repository("madams", "repo")
    store.create_repository("madams", "kept")
    store.delete_repository("madams", "repo")
    assert [repo["repo_name"] for repo in reader.list_repositories("madams")] == ["kept"]
    with pytest.raises(RepositoryNotFound):
        reader.get_repository("madams", "repo")


@pytest.mark.parametrize(
    "operation",
    [
        lambda store: store.get_repository("madams", "nothing"),
        lambda store: store.update_repository("madams", "nothing", description="x"),
        lambda store: store.delete_repository("madams", "nothing"),
        lambda store: store.list_tags("madams", "nothing"),
        lambda store: store.put_tag("madams", "nothing", "latest", IMAGE_A),
        lambda store: store.delete_tag("nobody", "nothing", "latest"),
        lambda store: store.get_repository("Not/A/Name", "x"),
        lambda store: store.delete_repository("../etc", "passwd"),
    ],
)
def test_operations_on_a_missing_repository_raise_not_found_and_store_nothing(opened, operation):
    with pytest.raises(RepositoryNotFound):
        operation(opened.store)
    assert opened.holds_nothing()


def test_tags_keep_first_written_order(store, reader):
    store.create_repository("madams", "repo")
    assert store.put_tag("madams", "repo", "one", IMAGE_A) == ({"tag": "one", "image_id": IMAGE_A}, True)
    store.put_tag("madams", "repo", "two", IMAGE_A)
    assert store.put_tag("madams", "repo", "one", IMAGE_B) == ({"tag": "one", "image_id": IMAGE_B}, False)
    assert reader.list_tags("madams", "repo") == [
        {"tag": "one", "image_id": IMAGE_B},
        {"tag": "two", "image_id": IMAGE_A},
    ]
    assert reader.get_tag("madams", "repo", "two") == {"tag": "two", "image_id": IMAGE_A}
    repository = reader.get_repository("madams", "repo")
    assert repository["upload"] == 3
    assert repository["pushed_at"] == repository["updated"]


def test_delete_tag(store, reader):
    store.create_repository("madams", "repo")
    store.put_tag("madams", "repo", "one", IMAGE_A)
    store.delete_tag("madams", "repo", "one")
    assert reader.list_tags("madams", "repo") == []
    with pytest.raises(TagNotFound):
        store.delete_tag("madams", "repo", "one")
    with pytest.raises(TagNotFound):
        reader.get_tag("madams", "repo", "one")


def test_a_returned_repository_is_a_snapshot(store):
    store.create_repository("madams", "repo")
    before = store.get_repository("madams", "repo")
    kept = copy.deepcopy(before)
    store.put_tag("madams", "repo", "one", IMAGE_A)
    store.update_repository("madams", "repo", description="changed")
    store.star_repository("madams", "repo", "jdoe", True)
    assert before == kept


def test_a_push_makes_its_repository_once_and_links_what_it_pushed(store, reader):
    digest, manifest = "sha256:" + IMAGE_A, {"digest": "sha256:" + IMAGE_B, "media_type": "x", "size": 2}
    store.link_blob("madams", "pushed", digest)
    store.link_blob("madams", "pushed", digest)  # twice: linked once
    store.record_manifest("madams", "pushed", manifest, ["latest"])
    repository = reader.get_repository("madams", "pushed")
    assert (repository["blobs"], repository["manifests"]) == ([digest], [manifest])
    assert repository["tags"] == [{"tag": "latest", "image_id": IMAGE_B}]
    pushed = reader.get_repository("madams", "pushed")
    assert manifest_of(pushed, "madams", "latest") == manifest_of(pushed, "madams", manifest["digest"]) == manifest
    assert store.unlink_blob("madams", "pushed", digest) is True
    assert store.unlink_blob("madams", "pushed", digest) is False
    store.delete_manifest("madams", "pushed", manifest["digest"])
    assert reader.get_repository("madams", "pushed")["tags"] == []


# The namespace backend's promises


def test_an_edit_that_raises_changes_nothing_and_makes_no_namespace(opened):
    def half_then_fail(repositories):
        raise RepositoryExists("madams", "repo")  # an edit checks before it changes: nothing to undo

    with pytest.raises(RepositoryExists):
        opened.backend.apply("madams", Edit("madams", "repo", half_then_fail))
    assert opened.backend.names() == []
    assert list(opened.backend.current("madams").in_order()) == []


def test_a_namespace_exists_once_changed_even_when_it_holds_nothing(opened):
    opened.store.create_repository("madams", "repo")
    opened.store.create_repository("acme", "repo")
    opened.store.delete_repository("madams", "repo")
    assert opened.reader.namespace_names() == ["acme", "madams"]
    assert list(opened.reader.list_repositories("madams")) == []


def test_concurrent_edits_of_one_namespace_never_interleave(store, reader):
    store.create_repository("madams", "counted")
    threads = [
        threading.Thread(target=lambda: [store.count_pull("madams", "counted") for _ in range(25)]) for _ in range(4)
    ]
    threads += [
        threading.Thread(target=lambda n=n: [store.create_repository("madams", "r%d-%d" % (n, i)) for i in range(10)])
        for n in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert reader.get_repository("madams", "counted")["download"] == 100  # no update lost
    assert len(reader.list_repositories("madams")) == 41


def test_a_reader_sees_every_edit_that_returned_before_it_read(store, reader):
    store.create_repository("madams", "counted")
    returned = []
    seen = []
    done = threading.Event()

    def write():
        for count in range(1, 101):
            store.count_pull("madams", "counted")
            returned.append(count)
            assert store.get_repository("madams", "counted")["download"] >= count  # its own write, at once
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    while not done.is_set():
        before = returned[-1] if returned else 0
        seen.append((before, reader.get_repository("madams", "counted")["download"]))
    writer.join(WAIT)
    assert all(download >= before for before, download in seen)
    downloads = [download for _, download in seen]
    assert downloads == sorted(downloads)  # never a version older than one seen
    assert reader.get_repository("madams", "counted")["download"] == 100


def test_replace_sets_several_namespaces_and_removes_with_none(store, reader):
    store.create_repository("madams", "old")
    store.create_repository("gone", "repo")
    store.create_repository("kept", "repo")
    replacement = {"new": document.new_repository("new", "2015-06-07T10:41:31.882Z")}
    store.replace_namespaces({"madams": replacement, "acme": replacement, "gone": None})
    assert reader.namespace_names() == ["acme", "kept", "madams"]
    assert [repo["repo_name"] for repo in reader.list_repositories("madams")] == ["new"]
    assert reader.get_repository("acme", "new") == replacement["new"]
    store.create_repository("madams", "after")  # edits apply on top of the replacement
    assert [repo["repo_name"] for repo in reader.list_repositories("madams")] == ["new", "after"]


def test_a_namespace_held_too_long_is_busy_and_the_waiting_edit_is_never_applied(open_backend):
    opened = open_backend(lock_timeout=SHORT_TIMEOUT)
    entered, release = threading.Event(), threading.Event()

    def slow(repositories):
        entered.set()
        release.wait(WAIT)
        repositories["held"] = document.new_repository("held", "2015-06-07T10:41:31.882Z")

    holder, outcome = in_thread(lambda: opened.backend.apply("madams", Edit("madams", "held", slow)))
    assert entered.wait(WAIT)
    with pytest.raises(NamespaceBusy) as raised:
        opened.store.create_repository("madams", "waited")
    release.set()
    holder.join(WAIT)
    assert outcome == [None]
    assert [repo["repo_name"] for repo in opened.reader.list_repositories("madams")] == ["held"]
    assert (raised.value.status, raised.value.namespace) == (503, "madams")


# The blob backend's promises


def test_a_blob_put_whole_is_read_back_by_digest(blobs):
    digest = blobs.put_bytes(b"manifest bytes")
    assert digest == digest_of(b"manifest bytes")
    opened = blobs.open(digest)
    with opened.stream as stream:
        assert stream.read() == b"manifest bytes"
    assert (opened.size, blobs.size(digest), blobs.read(digest)) == (14, 14, b"manifest bytes")
    assert opened.modified > 0
    assert blobs.open(digest_of(b"other")) is None
    assert blobs.size(digest_of(b"other")) is None


def test_an_upload_in_chunks_becomes_its_blob(blobs):
    upload = blobs.start("madams/repo\njdoe")
    assert (blobs.owner(upload), blobs.upload_size(upload)) == ("madams/repo\njdoe", 0)
    assert blobs.append(upload, [b"first ", b"chunk "]) == 12
    assert blobs.append(upload, [b"second "], start=12, length=7) == 19
    digest = digest_of(b"first chunk second last")
    assert blobs.finish(upload, digest, [b"last"]) == digest
    assert blobs.read(digest) == b"first chunk second last"
    with pytest.raises(UploadUnknown):
        blobs.upload_size(upload)
    assert blobs.owner(upload) is None


def test_a_chunk_refused_leaves_the_upload_as_it_was(blobs):
    upload = blobs.start()
    blobs.append(upload, [b"kept"])

    def torn():
        yield b"half"
        raise OSError("the client went away")

    with pytest.raises(OSError, match="went away"):
        blobs.append(upload, torn())
    with pytest.raises(RangeMismatch) as wrong_start:
        blobs.append(upload, [b"x"], start=2)
    with pytest.raises(TooLarge) as announced:
        blobs.append(upload, [b"x"], length=MAX_BLOB)
    with pytest.raises(TooLarge):
        blobs.append(upload, [b"y" * 1024] * 4)  # grows too large on the way
    assert blobs.upload_size(upload) == 4
    assert (wrong_start.value.status, wrong_start.value.registry_code) == (416, "RANGE_INVALID")
    assert wrong_start.value.registry_detail() == {"size": 4}
    assert (announced.value.status, announced.value.registry_code) == (413, "SIZE_INVALID")
    assert announced.value.registry_detail() == {"max": MAX_BLOB}


def test_a_finish_with_the_wrong_digest_keeps_the_upload_for_a_retry(blobs):
    upload = blobs.start()
    blobs.append(upload, [b"some "])
    with pytest.raises(DigestMismatch) as raised:
        blobs.finish(upload, digest_of(b"other bytes"), [b"bytes"])
    with pytest.raises(DigestMismatch):
        blobs.finish(upload, "sha256:not-hex")
    assert blobs.upload_size(upload) == 5
    assert list(blobs.digests()) == []
    assert blobs.finish(upload, digest_of(b"some bytes"), [b"bytes"]) == digest_of(b"some bytes")
    assert (raised.value.status, raised.value.registry_code) == (400, "DIGEST_INVALID")
    assert raised.value.registry_detail() == {"digest": digest_of(b"other bytes")}


def test_cancel_delete_and_the_list_for_gc(blobs):
    kept, dropped, other = blobs.start("madams/a\n"), blobs.start("madams/b\n"), blobs.start("acme/a\n")
    assert blobs.cancel(dropped) is True
    assert blobs.cancel(dropped) is False
    with pytest.raises(UploadUnknown) as raised:
        blobs.append(dropped, [b"late"])
    assert blobs.cancel_uploads("madams/") == 1
    assert blobs.owner(kept) is None
    assert blobs.owner(other) == "acme/a\n"
    assert blobs.cancel_uploads() == 1
    one, two = blobs.put_bytes(b"one"), blobs.put_bytes(b"two")
    assert list(blobs.digests()) == sorted([one, two])
    assert (blobs.delete(one), blobs.delete(one)) == (True, False)
    assert list(blobs.digests()) == [two]
    assert (raised.value.status, raised.value.registry_code) == (404, "BLOB_UPLOAD_UNKNOWN")
    assert raised.value.registry_detail() == {"uuid": dropped}


def test_requests_writing_one_upload_take_turns(blobs):
    upload = blobs.start()
    ends = []  # (the size an append returned, its letter): each append's place in the upload

    def write(letter):
        for _ in range(5):
            ends.append((blobs.append(upload, [letter * 100, letter * 100]), letter))

    threads = [threading.Thread(target=write, args=(letter,)) for letter in (b"a", b"b", b"c", b"d")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert sorted(size for size, _ in ends) == list(range(200, 4001, 200))  # one after another, none lost
    expected = b"".join(letter * 200 for _, letter in sorted(ends))  # each append whole, where it said it ended
    assert blobs.finish(upload, digest_of(expected)) == digest_of(expected)
    assert blobs.read(digest_of(expected)) == expected


def test_an_upload_held_too_long_is_busy_and_one_finished_meanwhile_is_unknown(open_backend):
    blobs = open_backend(lock_timeout=SHORT_TIMEOUT).blobs
    upload = blobs.start()
    entered, release = threading.Event(), threading.Event()

    def slow_chunks():
        entered.set()
        release.wait(WAIT)
        yield b"the blob"

    holder, outcome = in_thread(lambda: blobs.finish(upload, digest_of(b"the blob"), slow_chunks()))
    assert entered.wait(WAIT)
    with pytest.raises(UploadBusy) as raised:
        blobs.append(upload, [b"more"])
    release.set()
    holder.join(WAIT)
    assert outcome == [digest_of(b"the blob")]
    with pytest.raises(UploadUnknown):
        blobs.append(upload, [b"more"])
    assert (raised.value.status, raised.value.registry_code) == (429, "TOOMANYREQUESTS")
    assert raised.value.headers() == {"Retry-After": "1"}
    assert raised.value.registry_detail()["uuid"] == upload


def test_blobs_of_both_algorithms_whatever_the_upload_was_hashed_with(blobs):
    sha512 = blobs.put_bytes(b"manifest", "sha512")
    assert sha512 == "sha512:" + hashlib.sha512(b"manifest").hexdigest()
    upload = blobs.start(algorithm="sha512")
    blobs.append(upload, [b"some "])
    assert blobs.finish(upload, digest_of(b"some bytes"), [b"bytes"]) == digest_of(b"some bytes")
    again = blobs.start()
    blobs.append(again, [b"other"])
    with pytest.raises(DigestMismatch):
        blobs.finish(again, "sha512:" + hashlib.sha512(b"wrong").hexdigest())
    assert blobs.finish(again, "sha512:" + hashlib.sha512(b"other").hexdigest()).startswith("sha512:")
    assert sorted(blobs.digests()) == sorted(
        [sha512, digest_of(b"some bytes"), "sha512:" + hashlib.sha512(b"other").hexdigest()]
    )
    assert blobs.read(sha512) == b"manifest"
