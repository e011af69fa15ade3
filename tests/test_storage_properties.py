"""Property tests: random sequences of store operations against a plain in-memory model.

Three stores on one directory stand for three processes: each reads only what
the files tell it (what the logs grew by, or all of them again). Between
their writes come what crashes and full disks do: a torn record at the end of
the log (a writer killed in the middle of an append), a disk that refuses a
write halfway or at its sync while another store reads what it wrote, a
compaction killed before or after its new snapshot is in place, and a store
that restarts. Every answer must be what the model says, and every store, and
a fresh one, must hold exactly the model: an answered write is never lost, a
refused one never appears (docs/design.md, "Who sees which change").
"""

import errno
import os
import shutil
import tempfile
import threading
from contextlib import contextmanager, suppress
from unittest import mock

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from hubserver.clock import Clock
from hubserver.storage import (
    DiskFull,
    NamespaceStore,
    RepositoryExists,
    RepositoryNotFound,
    TagNotFound,
    document,
)
from hubserver.storage.files import durable as files
from hubserver.storage.files import log, namespace_files

NAMES = st.sampled_from(["aa", "bb", "cc", "d-d", "e.e"])
TAGS = st.sampled_from(["latest", "v1", "_x", "1.0"])
IMAGES = st.sampled_from(["a" * 64, "b" * 64, "c" * 64])
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)
STAMP = "2015-06-07T10:41:31.882Z"
STORES = 3
WHO = st.integers(0, STORES - 1)
OUTCOMES = (RepositoryExists, RepositoryNotFound, TagNotFound, DiskFull)


class Killed(BaseException):
    """A process killed at this point: nothing after it runs (but the handlers on the way out)."""


def in_this_thread(replacement, real):
    """Return a function that is ``replacement`` in this thread and ``real`` in any other.

    A patch of a module is seen by every thread of the process: the compaction
    threads of stores from other tests must not meet this test's faults.
    """
    owner = threading.get_ident()

    def chosen(*arguments, **options):
        return (replacement if threading.get_ident() == owner else real)(*arguments, **options)

    return chosen


class StoresAgainstModel(RuleBasedStateMachine):
    """Drive three stores with a frozen clock, and a model of what they should hold."""

    def __init__(self):
        super().__init__()
        self.folder = tempfile.mkdtemp()
        self.stores = [self.started() for _ in range(STORES)]
        self.model = {}  # repo_name -> repository, in creation order

    def started(self):
        """Return a store as a process that starts now has it; its logs are compacted every 4 records."""
        return NamespaceStore.on_disk(self.folder, Clock(STAMP), compact_records=4, idle=3600)

    def teardown(self):
        shutil.rmtree(self.folder)

    @staticmethod
    def outcome(action):
        try:
            return action()
        except OUTCOMES as error:
            return type(error)

    # What clients do

    @rule(who=WHO, name=NAMES, description=TEXT, public=st.booleans())
    def create(self, who, name, description, public):
        self.expect_create(name, description, public, self.create_by(who, name, description, public))

    def create_by(self, who, name, description="", public=True):
        store = self.stores[who]
        return self.outcome(lambda: store.create_repository("madams", name, description=description, is_public=public))

    def expect_create(self, name, description, public, got):
        if got is DiskFull:
            return
        if name in self.model:
            assert got is RepositoryExists
        else:
            self.model[name] = document.new_repository(name, STAMP, description=description, is_public=public)
            assert got == self.model[name]

    @rule(who=WHO, name=NAMES, description=TEXT, logo=TEXT)
    def update(self, who, name, description, logo):
        store = self.stores[who]
        got = self.outcome(lambda: store.update_repository("madams", name, description=description, logo=logo))
        if name not in self.model:
            assert got is RepositoryNotFound
        else:
            self.model[name] = {**self.model[name], "description": description, "logo": logo}
            assert got == self.model[name]

    @rule(who=WHO, name=NAMES)
    def delete(self, who, name):
        self.expect_delete(name, self.delete_by(who, name))

    def delete_by(self, who, name):
        store = self.stores[who]
        return self.outcome(lambda: store.delete_repository("madams", name))

    def expect_delete(self, name, got):
        if got is DiskFull:
            return
        assert got is (RepositoryNotFound if name not in self.model else None)
        self.model.pop(name, None)

    @rule(who=WHO, name=NAMES, tag=TAGS, image=IMAGES)
    def put_tag(self, who, name, tag, image):
        self.expect_tag(name, tag, image, self.tag_by(who, name, tag, image))

    def tag_by(self, who, name, tag="latest", image="a" * 64):
        store = self.stores[who]
        return self.outcome(lambda: store.put_tag("madams", name, tag, image))

    def expect_tag(self, name, tag, image, got):
        if got is DiskFull:
            return
        if name not in self.model:
            assert got is RepositoryNotFound
            return
        repository = dict(self.model[name])
        entry = {"tag": tag, "image_id": image}
        created = all(old["tag"] != tag for old in repository["tags"])
        repository["tags"] = [entry if old["tag"] == tag else old for old in repository["tags"]] + (
            [entry] if created else []
        )
        repository.update(upload=repository["upload"] + 1, pushed_at=STAMP)
        self.model[name] = repository
        assert got == (entry, created)

    @rule(who=WHO, name=NAMES, tag=TAGS)
    def delete_tag(self, who, name, tag):
        got = self.outcome(lambda: self.stores[who].delete_tag("madams", name, tag))
        if name not in self.model:
            assert got is RepositoryNotFound
        elif all(old["tag"] != tag for old in self.model[name]["tags"]):
            assert got is TagNotFound
        else:
            assert got is None
            self.model[name] = {
                **self.model[name],
                "tags": [old for old in self.model[name]["tags"] if old["tag"] != tag],
            }

    @rule(who=WHO)
    def compact(self, who):
        self.stores[who].backend.compact("madams")
        path = self.stores[who].backend.path("madams")
        try:
            with open(path, "rb") as stream:
                written = stream.read()
        except FileNotFoundError:
            assert not self.model
            return
        assert written == document.encode("madams", self.model.values())  # what a fresh write gives

    # What crashes and full disks do

    @rule(length=st.integers(1, 900) | NAMES)
    def tear(self, length):
        """Leave at the end of the log the first ``length`` bytes of a record, as a writer killed mid-append does.

        A name for ``length`` stands for the length of the record its create
        would append now: torn bytes that the next create replaces with as
        many of its own.
        """
        snapshot, whole = self.files_now()
        if snapshot is None:
            return  # the first write makes the namespace file, whole or not at all
        tail = log.read_records("madams", whole)
        after = log.snapshot_id(snapshot)
        if isinstance(length, str):
            length = len(log.encode([log.put_record(after, document.new_repository(length, STAMP))], tail.mark))
        repository = document.new_repository("torn", STAMP, description="t" * 900)
        record = log.encode([log.put_record(after, repository)], tail.mark)
        with open(self.log_path(), "r+b" if whole else "wb") as stream:
            stream.truncate(tail.length)
            stream.seek(tail.length)
            stream.write(record[:length])

    @rule(who=WHO)
    def restart(self, who):
        self.stores[who] = self.started()

    @rule(
        who=WHO,
        reader=WHO,
        action=st.sampled_from(["create", "tag", "delete"]),
        name=NAMES,
        where=st.sampled_from(["write", "sync"]),
        first_failure=st.integers(0, 2),
    )
    def write_on_a_full_disk(self, who, reader, action, name, where, first_failure):
        """The disk refuses the ``first_failure``-th write or sync of one change and every one after it.

        ``reader`` reads the namespace as the disk refuses, seeing what was
        written so far; the change is refused (DiskFull) or, if only its
        compaction was, answered as done.
        """
        with self.full_disk(where, first_failure, lambda: self.stores[reader].list_repositories("madams")):
            if action == "create":
                got = self.create_by(who, name)
            elif action == "tag":
                got = self.tag_by(who, name)
            else:
                got = self.delete_by(who, name)
        if action == "create":
            self.expect_create(name, "", True, got)
        elif action == "tag":
            self.expect_tag(name, "latest", "a" * 64, got)
        else:
            self.expect_delete(name, got)

    @rule(who=WHO, after_the_snapshot=st.booleans())
    def kill_a_compaction(self, who, after_the_snapshot):
        """Kill a store while it compacts: before its new snapshot is in place, or between it and the log's removal."""
        real = namespace_files.atomic_write

        def killed(path, data, **options):
            if after_the_snapshot:
                real(path, data, **options)
            raise Killed()

        with mock.patch.object(namespace_files, "atomic_write", in_this_thread(killed, real)), suppress(Killed):
            self.stores[who].backend.compact("madams")
        self.stores[who] = self.started()

    # Checks

    @invariant()
    def same_answers_everywhere(self):
        for store in [*self.stores, self.started()]:  # and a process that starts now
            assert list(store.list_repositories("madams")) == list(self.model.values())

    # Helpers

    def log_path(self):
        return self.stores[0].backend.path("madams")[: -len(".json")] + log.LOG_SUFFIX

    def files_now(self):
        """Return the bytes of the namespace file and of the log (None and b"" where there are none)."""
        try:
            with open(self.stores[0].backend.path("madams"), "rb") as stream:
                snapshot = stream.read()
        except FileNotFoundError:
            return None, b""
        try:
            with open(self.log_path(), "rb") as stream:
                return snapshot, stream.read()
        except FileNotFoundError:
            return snapshot, b""

    @contextmanager
    def full_disk(self, where, first_failure, read_meanwhile):
        """Refuse with ENOSPC every append write (half of it written) or every sync from the ``first_failure``-th."""
        calls = []
        real_sync, real_write_at = files._sync_data, files.AppendFile._write_at

        def refused(kind):
            if kind != where:
                return False
            calls.append(kind)
            return len(calls) > first_failure

        def refuse():
            read_meanwhile()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def sync(fd):
            if refused("sync"):
                refuse()
            return real_sync(fd)

        def write_at(append_file, data, offset):
            if refused("write"):
                real_write_at(append_file, data[: len(data) // 2], offset)
                refuse()
            return real_write_at(append_file, data, offset)

        with (
            mock.patch.object(files, "_sync_data", in_this_thread(sync, real_sync)),
            mock.patch.object(files.AppendFile, "_write_at", in_this_thread(write_at, real_write_at)),
        ):
            yield


StoresAgainstModel.TestCase.settings = settings(max_examples=80, stateful_step_count=30, deadline=None)
test_the_stores_behave_like_their_model = StoresAgainstModel.TestCase
