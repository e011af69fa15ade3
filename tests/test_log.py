"""The change log beside each namespace file: appended, read incrementally, compacted, and never trusted blindly."""

import json
import random
import signal
import subprocess
import sys
import time
import zlib

import pytest

from hubserver.clock import Clock
from hubserver.storage import CorruptNamespace, NamespaceStore, document
from hubserver.storage.files import durable as files
from hubserver.storage.files import log

STAMP = "2015-06-07T10:41:31.882Z"


def names(store, namespace="madams"):
    return [repository["repo_name"] for repository in store.list_repositories(namespace)]


@pytest.fixture
def store(tmp_path):
    return NamespaceStore.on_disk(tmp_path, Clock(STAMP))


def test_a_change_is_one_appended_record_after_the_snapshot(store, tmp_path):
    store.create_repository("madams", "first")  # a new namespace: its file
    snapshot = (tmp_path / "madams.json").read_bytes()
    store.create_repository("madams", "second")
    store.delete_repository("madams", "first")
    lines = (tmp_path / "madams.log").read_bytes().splitlines()
    records = [json.loads(line) for line in lines]
    assert [sorted(record) for record in records] == [["after", "put", "sum"], ["after", "delete", "sum"]]
    assert {record["after"] for record in records} == {log.snapshot_id(snapshot)}
    assert (records[0]["put"]["repo_name"], records[1]["delete"]) == ("second", "first")
    assert (tmp_path / "madams.json").read_bytes() == snapshot  # untouched until compaction


def test_compaction_writes_what_a_fresh_write_gives_and_removes_the_log(store, tmp_path):
    for name in ["aa", "bb", "cc"]:
        store.create_repository("madams", name, description="about " + name)
    store.put_tag("madams", "bb", "latest", "a" * 64)
    store.delete_repository("madams", "aa")
    store.backend.compact("madams")
    assert not (tmp_path / "madams.log").exists()
    fresh = tmp_path / "fresh"
    NamespaceStore.on_disk(fresh, Clock(STAMP)).replace_namespace("madams", dict(store._repositories("madams").by_name))
    assert (tmp_path / "madams.json").read_bytes() == (fresh / "madams.json").read_bytes()
    assert (tmp_path / "madams.json").read_bytes() == document.encode("madams", store.list_repositories("madams"))


def test_a_log_is_compacted_at_once_when_it_outgrows_its_limits(tmp_path):
    store = NamespaceStore.on_disk(tmp_path, Clock(STAMP), compact_records=5)
    for number in range(12):
        store.create_repository("madams", "repo%02d" % number)
    lines = (tmp_path / "madams.log").read_bytes().splitlines() if (tmp_path / "madams.log").exists() else []
    assert len(lines) < 5
    assert names(NamespaceStore.on_disk(tmp_path, Clock(STAMP))) == ["repo%02d" % number for number in range(12)]


def test_a_namespace_at_rest_is_compacted_after_a_short_idle_time(tmp_path):
    store = NamespaceStore.on_disk(tmp_path, Clock(STAMP), idle=0.2)
    store.create_repository("madams", "one")
    store.create_repository("madams", "two")
    assert (tmp_path / "madams.log").exists()
    deadline = time.monotonic() + 10
    while (tmp_path / "madams.log").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not (tmp_path / "madams.log").exists()
    assert [repo["repo_name"] for repo in json.loads((tmp_path / "madams.json").read_text())["repositories"]] == [
        "one",
        "two",
    ]


def test_another_process_reads_only_what_the_log_grew_by(tmp_path, monkeypatch):
    writer, reader = NamespaceStore.on_disk(tmp_path, Clock(STAMP)), NamespaceStore.on_disk(tmp_path, Clock(STAMP))
    for number in range(50):
        writer.create_repository("madams", "repo%02d" % number)
    assert len(names(reader)) == 50
    decoded = []
    real = document.decode
    monkeypatch.setattr(document, "decode", lambda *arguments: decoded.append(1) or real(*arguments))
    writer.put_tag("madams", "repo07", "latest", "a" * 64)
    assert reader.get_repository("madams", "repo07")["tags"] == [{"tag": "latest", "image_id": "a" * 64}]
    assert decoded == []  # the snapshot was not parsed again: one record was read


def test_a_torn_last_record_is_dropped_and_cut_away_by_the_next_write(store, tmp_path):
    store.create_repository("madams", "kept")
    store.create_repository("madams", "acknowledged")
    whole = (tmp_path / "madams.log").read_bytes()
    torn = log.encode([log.put_record("0" * 16, document.new_repository("never", STAMP))])[:-40]
    (tmp_path / "madams.log").write_bytes(whole + torn)  # a crash cut the last record short
    reader = NamespaceStore.on_disk(tmp_path, Clock(STAMP))
    assert names(reader) == ["kept", "acknowledged"]
    reader.create_repository("madams", "next")
    assert (tmp_path / "madams.log").read_bytes().startswith(whole)
    assert torn not in (tmp_path / "madams.log").read_bytes()
    assert names(NamespaceStore.on_disk(tmp_path, Clock(STAMP))) == ["kept", "acknowledged", "next"]


@pytest.mark.parametrize("damage", ["a changed byte", "a cut record", "garbage"])
def test_a_damaged_record_before_the_end_is_reported_and_nothing_is_overwritten(store, tmp_path, damage):
    store.create_repository("madams", "one")
    for name in ["two", "three"]:
        store.create_repository("madams", name)
    first, second = (tmp_path / "madams.log").read_bytes().splitlines(keepends=True)
    broken = {
        "a changed byte": first.replace(b'"two"', b'"tw0"'),
        "a cut record": first[:30] + b"\n",
        "garbage": b"not a record\n",
    }[damage]
    (tmp_path / "madams.log").write_bytes(broken + second)
    before = (tmp_path / "madams.json").read_bytes(), (tmp_path / "madams.log").read_bytes()
    reader = NamespaceStore.on_disk(tmp_path, Clock(STAMP))
    with pytest.raises(CorruptNamespace, match="madams.*damaged record at byte 0"):
        reader.list_repositories("madams")
    with pytest.raises(CorruptNamespace):
        reader.create_repository("madams", "four")
    with pytest.raises(CorruptNamespace):
        reader.backend.compact("madams")
    assert ((tmp_path / "madams.json").read_bytes(), (tmp_path / "madams.log").read_bytes()) == before


def test_a_log_that_follows_another_snapshot_is_reported(store, tmp_path):
    store.create_repository("madams", "one")
    store.create_repository("madams", "two")
    hand_edited = json.loads((tmp_path / "madams.json").read_text())
    hand_edited["repositories"][0]["description"] = "edited by a person while a log was there"
    (tmp_path / "madams.json").write_text(json.dumps(hand_edited))
    with pytest.raises(CorruptNamespace, match="its log follows another snapshot"):
        NamespaceStore.on_disk(tmp_path, Clock(STAMP)).list_repositories("madams")


def test_a_compaction_cut_short_after_its_snapshot_leaves_a_log_that_is_known_to_be_in_it(store, tmp_path):
    store.create_repository("madams", "one")
    store.create_repository("madams", "two")
    old_log = (tmp_path / "madams.log").read_bytes()
    old_id = json.loads(old_log.splitlines()[0])["after"]
    store.backend.compact("madams")
    new_id = log.snapshot_id((tmp_path / "madams.json").read_bytes())
    (tmp_path / "madams.log").write_bytes(  # as a crash leaves it
        old_log + log.encode([log.compacted_record(old_id, new_id)], log.mark_of(old_log))
    )
    reader = NamespaceStore.on_disk(tmp_path, Clock(STAMP))
    assert names(reader) == ["one", "two"]
    reader.create_repository("madams", "three")
    lines = (tmp_path / "madams.log").read_bytes().splitlines()
    assert [json.loads(line)["after"] for line in lines] == [new_id]  # the stale log went first
    assert names(NamespaceStore.on_disk(tmp_path, Clock(STAMP))) == ["one", "two", "three"]


def test_a_namespace_file_written_by_a_person_while_the_server_is_stopped_is_read(store, tmp_path):
    store.create_repository("madams", "one")
    store.close()
    document_ = json.loads((tmp_path / "madams.json").read_text())
    document_["repositories"][0]["description"] = "by hand"
    (tmp_path / "madams.json").write_text(json.dumps(document_))
    assert NamespaceStore.on_disk(tmp_path, Clock(STAMP)).get_repository("madams", "one")["description"] == "by hand"


def test_without_sync_nothing_is_synced(tmp_path, monkeypatch):
    synced = []
    monkeypatch.setattr(files, "_sync_data", lambda fd: synced.append(fd))
    monkeypatch.setattr(files, "fsync_folder", lambda folder: synced.append(folder))
    store = NamespaceStore.on_disk(tmp_path, Clock(STAMP), sync=False)
    store.create_repository("madams", "one")
    store.create_repository("madams", "two")
    store.backend.compact("madams")
    assert synced == []
    NamespaceStore.on_disk(tmp_path / "synced", Clock(STAMP)).create_repository("madams", "one")
    assert synced


WRITER = """
import sys
from hubserver.clock import Clock
from hubserver.storage import NamespaceStore

folder, run, records = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = NamespaceStore.on_disk(folder, Clock(), compact_records=records, idle=0.001)
for number in range(100000):
    name = "r%s-%05d" % (run, number)
    store.create_repository("crash", name)
    print(name, flush=True)  # printed only once the change is acknowledged
"""


def read_acknowledged(process, count):
    found = []
    for _ in range(count):
        line = process.stdout.readline()
        assert line, "the writer stopped before it was killed"
        found.append(line.strip())
    return found


def test_writers_killed_50_times_during_appends_and_compactions_keep_every_acknowledged_change(tmp_path):
    randomness = random.Random(20261202)
    acknowledged = set()
    for run in range(50):
        compact_every = randomness.choice([2, 3, 5, 50])  # often: kills land inside compactions too
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path), "%02d" % run, str(compact_every)],
            stdout=subprocess.PIPE,
            text=True,
        )
        acknowledged.update(read_acknowledged(writer, randomness.randint(1, 8)))
        time.sleep(randomness.random() * 0.005)  # somewhere in the middle of the next change
        writer.send_signal(signal.SIGKILL)
        acknowledged.update(line.strip() for line in writer.stdout)  # acknowledged before the kill
        writer.wait()
        writer.stdout.close()
        assert writer.returncode == -signal.SIGKILL
        stored = {repo["repo_name"] for repo in NamespaceStore.on_disk(tmp_path, Clock()).list_repositories("crash")}
        assert acknowledged <= stored  # loads (or raises CorruptNamespace), and lost nothing
    assert len(acknowledged) >= 50


def test_two_processes_appending_to_one_namespace_lose_nothing(tmp_path):
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path), "p%d" % number, "40"], stdout=subprocess.PIPE, text=True
        )
        for number in range(2)
    ]
    acknowledged = [set(read_acknowledged(writer, 150)) for writer in writers]
    for writer in writers:
        writer.send_signal(signal.SIGTERM)
        writer.wait()
        acknowledged.append({line.strip() for line in writer.stdout})
        writer.stdout.close()
    stored = {repo["repo_name"] for repo in NamespaceStore.on_disk(tmp_path, Clock()).list_repositories("crash")}
    assert set().union(*acknowledged) <= stored and len(stored) >= 300


def test_a_record_is_one_line_of_json_ending_in_a_checksum_chained_from_the_record_before():
    repository = document.new_repository("repo", STAMP)
    first, second = log.encode([log.put_record("0123456789abcdef", repository)] * 2).splitlines(keepends=True)
    for line in (first, second):
        assert line.endswith(b"}\n") and line.count(b"\n") == 1
        assert json.loads(line)["put"] == repository
    body = first[: -len(',"sum":"00000000"}\n')]
    assert json.loads(first)["sum"] == "%08x" % zlib.crc32(body)
    assert json.loads(second)["sum"] == "%08x" % zlib.crc32(body, zlib.crc32(body))  # the same bytes, another sum
    assert log.encode([log.put_record("0123456789abcdef", repository)], log.mark_of(first)) == second


def test_a_log_of_an_earlier_version_whose_checksums_are_not_chained_is_read(store, tmp_path):
    store.create_repository("madams", "one")
    after = log.snapshot_id((tmp_path / "madams.json").read_bytes())
    records = [log.put_record(after, document.new_repository(name, STAMP)) for name in ("aa", "bb")]
    unchained = b"".join(log.encode([record]) for record in records)  # each checksum from 0
    (tmp_path / "madams.log").write_bytes(unchained)
    reader = NamespaceStore.on_disk(tmp_path, Clock(STAMP))
    assert names(reader) == ["one", "aa", "bb"]
    reader.create_repository("madams", "cc")  # appended after them, chained from the last
    assert names(NamespaceStore.on_disk(tmp_path, Clock(STAMP))) == ["one", "aa", "bb", "cc"]


def test_a_tag_push_is_a_record_of_the_tag_alone_and_reads_back_as_the_writer_holds_it(store, tmp_path):
    store.create_repository("madams", "repo")
    for number in range(100):
        store.put_tag("madams", "repo", "t%02d" % number, "%064x" % number)
    store.put_tag("madams", "repo", "t05", "b" * 64)  # a tag pushed again keeps its place
    lines = (tmp_path / "madams.log").read_bytes().splitlines()
    assert max(len(line) for line in lines) < 300  # not the repository with its hundred tags
    record = json.loads(lines[-1])
    assert sorted(record) == ["after", "sum", "tag"]
    assert record["tag"] == {"repo_name": "repo", "tag": "t05", "image_id": "b" * 64, "pushed_at": STAMP}
    written = store.get_repository("madams", "repo")
    assert written["upload"] == 101 and written["tags"][5] == {"tag": "t05", "image_id": "b" * 64}
    assert NamespaceStore.on_disk(tmp_path, Clock(STAMP)).get_repository("madams", "repo") == written
    store.backend.compact("madams")
    fresh = tmp_path / "fresh"
    NamespaceStore.on_disk(fresh, Clock(STAMP)).replace_namespace("madams", {"repo": written})
    assert (tmp_path / "madams.json").read_bytes() == (fresh / "madams.json").read_bytes()


@pytest.mark.parametrize(
    "push",
    [
        {"repo_name": "repo", "tag": "no tag!", "image_id": "a" * 64, "pushed_at": STAMP},
        {"repo_name": "repo", "tag": "latest", "image_id": "short", "pushed_at": STAMP},
        {"repo_name": "repo", "tag": "latest", "image_id": "a" * 64, "pushed_at": "yesterday"},
        {"repo_name": "repo", "tag": "latest", "image_id": "a" * 64},
    ],
)
def test_a_tag_record_that_breaks_the_format_is_damage(store, tmp_path, push):
    store.create_repository("madams", "repo")
    store.create_repository("madams", "other")
    after = json.loads((tmp_path / "madams.log").read_bytes())["after"]
    written = (tmp_path / "madams.log").read_bytes()
    broken_then_good = log.encode(  # a good checksum over a bad record, then a whole record
        [{"after": after, "tag": push}, log.tag_record(after, "repo", "latest", "a" * 64, STAMP)], log.mark_of(written)
    )
    (tmp_path / "madams.log").write_bytes(written + broken_then_good)
    with pytest.raises(CorruptNamespace, match="damaged record"):
        NamespaceStore.on_disk(tmp_path, Clock(STAMP)).list_repositories("madams")


def test_a_tag_pushed_to_a_repository_the_log_does_not_hold_is_reported(store, tmp_path):
    store.create_repository("madams", "repo")
    store.create_repository("madams", "other")
    after = json.loads((tmp_path / "madams.log").read_bytes())["after"]
    written = (tmp_path / "madams.log").read_bytes()
    stray = log.encode([log.tag_record(after, "gone", "latest", "a" * 64, STAMP)], log.mark_of(written))
    (tmp_path / "madams.log").write_bytes(written + stray)
    before = (tmp_path / "madams.log").read_bytes()
    with pytest.raises(CorruptNamespace, match="pushes a tag to a repository it does not hold"):
        NamespaceStore.on_disk(tmp_path, Clock(STAMP)).list_repositories("madams")
    assert (tmp_path / "madams.log").read_bytes() == before


MANY_NAMESPACES = """
import resource, sys
from hubserver.clock import Clock
from hubserver.storage import NamespaceStore
resource.setrlimit(resource.RLIMIT_NOFILE, (400, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
store = NamespaceStore.on_disk(sys.argv[1], Clock(), sync=False)
for number in range(800):
    store.create_repository("ns%d" % number, "first")  # the namespace file
    store.create_repository("ns%d" % number, "second")  # a record in its log, kept open
print("written")
"""


@pytest.mark.skipif(sys.platform == "win32", reason="resource limits are POSIX")
def test_writing_to_more_namespaces_than_files_may_be_open_loses_nothing(tmp_path):
    run = subprocess.run([sys.executable, "-c", MANY_NAMESPACES, str(tmp_path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "written"
    reader = NamespaceStore.on_disk(tmp_path, Clock(STAMP))
    assert all(names(reader, "ns%d" % number) == ["first", "second"] for number in range(800))
