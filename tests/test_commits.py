"""Group commit: concurrent changes to one namespace share writes and keep their own outcomes."""

import threading
import time

import pytest

from hubserver.clock import Clock
from hubserver.storage import DiskFull, NamespaceStore, RepositoryExists
from hubserver.storage.files import durable as files
from hubserver.storage.files import namespace_files
from hubserver.storage.files.commits import GroupCommit, WriterTimeout

WRITES = [(files.AppendFile, "append"), (namespace_files, "atomic_write")]  # a log's records, a namespace file


@pytest.fixture
def writes(monkeypatch):
    """Count the writes of a namespace's files, by kind."""
    written = []
    for owner, name in WRITES:
        real = getattr(owner, name)

        def counted(*arguments, real=real, name=name, **keywords):
            written.append(name)
            return real(*arguments, **keywords)

        monkeypatch.setattr(owner, name, counted)
    return written


def wait_until(condition, timeout=10):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not reached within %g s" % timeout
        time.sleep(0.001)


def run_in_one_batch(store, changes):
    """Run each of ``changes`` in a thread of its own, queued in order while writes are held; return their outcomes.

    The namespace's writer is held until every change waits behind it, so
    that the first thread to take it writes them all in one batch.
    """
    queue = store.backend._commits["madams"]  # the queue the changes wait in
    outcomes = [None] * len(changes)

    def run(index):
        try:
            outcomes[index] = changes[index]()
        except Exception as error:
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(changes))]
    with queue.exclusive(timeout=10):
        for index, thread in enumerate(threads):
            thread.start()
            wait_until(lambda index=index: len(queue._pending) == index + 1)
    for thread in threads:
        thread.join()
    return outcomes


def creates(store, names):
    """Return a function a name that creates that repository."""
    return [lambda name=name: store.create_repository("madams", name) for name in names]


def test_concurrent_creates_share_writes_and_all_land(tmp_path, writes):
    store = NamespaceStore.on_disk(tmp_path, Clock())
    names = ["repo%d" % index for index in range(8)]
    outcomes = run_in_one_batch(store, creates(store, names))
    assert [outcome["repo_name"] for outcome in outcomes] == names
    assert writes == ["atomic_write"]  # one namespace file for the eight
    fresh = NamespaceStore.on_disk(tmp_path, Clock())
    assert sorted(repo["repo_name"] for repo in fresh.list_repositories("madams")) == sorted(
        "repo%d" % index for index in range(8)
    )


def test_a_failing_change_in_a_batch_fails_alone(tmp_path, writes):
    store = NamespaceStore.on_disk(tmp_path, Clock())
    store.create_repository("madams", "taken")
    names = ["taken" if index % 2 else "new%d" % index for index in range(6)]
    outcomes = run_in_one_batch(store, creates(store, names))
    assert [type(outcome) for outcome in outcomes] == [dict, RepositoryExists] * 3
    assert writes == ["atomic_write", "append"]  # the first create, then one append for the batch
    names = [repo["repo_name"] for repo in NamespaceStore.on_disk(tmp_path, Clock()).list_repositories("madams")]
    assert sorted(names) == ["new0", "new2", "new4", "taken"]


def test_a_failed_write_fails_every_change_of_its_batch_and_stores_nothing(tmp_path, monkeypatch):
    store = NamespaceStore.on_disk(tmp_path, Clock())
    store.create_repository("madams", "kept")

    def full_disk(path, *arguments, **keywords):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(files.AppendFile, "append", full_disk)
        names = ["new%d" % index for index in range(4)]
        outcomes = run_in_one_batch(store, creates(store, names))
    assert all(isinstance(outcome, DiskFull) for outcome in outcomes)
    assert [repo["repo_name"] for repo in store.list_repositories("madams")] == ["kept"]
    store.create_repository("madams", "after")
    assert [repo["repo_name"] for repo in NamespaceStore.on_disk(tmp_path, Clock()).list_repositories("madams")] == [
        "kept",
        "after",
    ]


def test_a_change_not_taken_in_time_is_withdrawn_and_never_applied():
    commit_started, release_commit = threading.Event(), threading.Event()
    applied = []

    def blocking_commit(batch):
        commit_started.set()
        release_commit.wait(30)
        for change in batch:
            change.apply(applied)

    queue = GroupCommit()
    first = threading.Thread(target=queue.submit, args=(lambda state: state.append("first"), blocking_commit, 5))
    first.start()
    commit_started.wait(30)
    with pytest.raises(WriterTimeout):
        queue.submit(lambda state: state.append("late"), blocking_commit, 0.1)
    release_commit.set()
    first.join()
    assert applied == ["first"]
    assert (
        queue.submit(lambda state: state.append("next") or "ok", lambda batch: [c.apply(applied) for c in batch], 1)
        == "ok"
    )
    assert applied == ["first", "next"]


def test_a_repository_deleted_and_made_again_in_one_batch_is_listed_last(tmp_path, writes):
    store = NamespaceStore.on_disk(tmp_path, Clock())
    for name in ("first", "again", "last"):
        store.create_repository("madams", name)
    del writes[:]
    run_in_one_batch(
        store,
        [
            lambda: store.update_repository("madams", "first", description="changed in the same batch"),
            lambda: store.delete_repository("madams", "again"),
            lambda: store.create_repository("madams", "again", description="made again"),
        ],
    )
    assert writes == ["append"]
    for reader in (store, NamespaceStore.on_disk(tmp_path, Clock())):  # this store's state, and its files read afresh
        listed = reader.list_repositories("madams")
        assert [repo["repo_name"] for repo in listed] == ["first", "last", "again"]
        assert listed[-1]["description"] == "made again"
