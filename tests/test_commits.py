"""Group commit: concurrent changes to one namespace share writes and keep their own outcomes."""

import threading
import time

import pytest

from hubserver.clock import Clock
from hubserver.storage import DiskFull, NamespaceStore, RepositoryExists, files, namespace_files
from hubserver.storage.commits import GroupCommit, WriterTimeout

WRITES = [(files.AppendFile, "append"), (namespace_files, "atomic_write")]  # a log's records, a namespace file


@pytest.fixture
def slow_writes(monkeypatch):
    """Make every write of a namespace's files take 50 ms, and count the writes."""
    writes = []
    for owner, name in WRITES:
        real = getattr(owner, name)

        def slow(*arguments, real=real, name=name, **keywords):
            writes.append(name)
            time.sleep(0.05)
            return real(*arguments, **keywords)

        monkeypatch.setattr(owner, name, slow)
    return writes


def run_threads(target, count):
    outcomes = [None] * count

    def run(index):
        try:
            outcomes[index] = target(index)
        except Exception as error:
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_concurrent_creates_share_writes_and_all_land(tmp_path, slow_writes):
    store = NamespaceStore(tmp_path, Clock())
    outcomes = run_threads(lambda index: store.create_repository("madams", "repo%d" % index), 8)
    assert [outcome["repo_name"] for outcome in outcomes] == ["repo%d" % index for index in range(8)]
    assert len(slow_writes) < 8
    fresh = NamespaceStore(tmp_path, Clock())
    assert sorted(repo["repo_name"] for repo in fresh.list_repositories("madams")) == sorted(
        "repo%d" % index for index in range(8)
    )


def test_a_failing_change_in_a_batch_fails_alone(tmp_path, slow_writes):
    store = NamespaceStore(tmp_path, Clock())
    store.create_repository("madams", "taken")
    outcomes = run_threads(
        lambda index: store.create_repository("madams", "taken" if index % 2 else "new%d" % index), 6
    )
    assert [type(outcome) for outcome in outcomes] == [dict, RepositoryExists] * 3
    names = [repo["repo_name"] for repo in NamespaceStore(tmp_path, Clock()).list_repositories("madams")]
    assert sorted(names) == ["new0", "new2", "new4", "taken"]


def test_a_failed_write_fails_every_change_of_its_batch_and_stores_nothing(tmp_path, monkeypatch):
    store = NamespaceStore(tmp_path, Clock())
    store.create_repository("madams", "kept")

    def full_disk(path, *arguments, **keywords):
        time.sleep(0.05)
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(files.AppendFile, "append", full_disk)
        outcomes = run_threads(lambda index: store.create_repository("madams", "new%d" % index), 4)
    assert all(isinstance(outcome, DiskFull) for outcome in outcomes)
    assert [repo["repo_name"] for repo in store.list_repositories("madams")] == ["kept"]
    store.create_repository("madams", "after")
    assert [repo["repo_name"] for repo in NamespaceStore(tmp_path, Clock()).list_repositories("madams")] == [
        "kept",
        "after",
    ]


def test_a_change_not_taken_in_time_is_withdrawn_and_never_applied():
    commit_started, release_commit = threading.Event(), threading.Event()
    applied = []

    def blocking_commit(batch):
        commit_started.set()
        release_commit.wait(5)
        for change in batch:
            change.apply(applied)

    queue = GroupCommit()
    first = threading.Thread(target=queue.submit, args=(lambda state: state.append("first"), blocking_commit, 5))
    first.start()
    commit_started.wait(5)
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


def test_a_repository_deleted_and_made_again_in_one_batch_is_listed_last(tmp_path, monkeypatch):
    store = NamespaceStore(tmp_path, Clock())
    for name in ("first", "again", "last"):
        store.create_repository("madams", name)
    writing, release = threading.Event(), threading.Event()
    real_append = files.AppendFile.append

    def held_append(self, *arguments, **keywords):
        writing.set()
        release.wait(5)
        return real_append(self, *arguments, **keywords)

    monkeypatch.setattr(files.AppendFile, "append", held_append)
    changes = [
        lambda: store.update_repository("madams", "first", description="the write the others queue behind"),
        lambda: store.delete_repository("madams", "again"),
        lambda: store.create_repository("madams", "again", description="made again"),
    ]
    threads = [threading.Thread(target=change) for change in changes]
    threads[0].start()
    writing.wait(5)
    for thread in threads[1:]:  # queued in this order while the first write is held: one batch
        thread.start()
        time.sleep(0.2)
    release.set()
    for thread in threads:
        thread.join()
    for reader in (store, NamespaceStore(tmp_path, Clock())):  # this store's state, and its files read afresh
        listed = reader.list_repositories("madams")
        assert [repo["repo_name"] for repo in listed] == ["first", "last", "again"]
        assert listed[-1]["description"] == "made again"
