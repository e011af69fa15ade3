"""Durability: concurrent writers lose nothing, and a killed writer leaves a whole file."""

import random
import shutil
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from hubserver.clock import Clock
from hubserver.storage import NamespaceStore

from helpers import PROJECT, running_server, send

WRITER = """
import sys
sys.path.insert(0, sys.argv[1])
from hubserver.clock import Clock
from hubserver.storage import NamespaceStore

store = NamespaceStore.on_disk(sys.argv[2], Clock())
for number in range(100000):
    name = "r%s-%05d" % (sys.argv[3], number)
    store.create_repository("crash", name)
    print(name, flush=True)  # printed only once the write is acknowledged
"""


FROZEN = "2015-06-07T10:41:31.882Z"


def create_many(url, names):
    statuses = [send(url, "POST", "/v1/repositories/madams/", {"repo_name": name}).status for name in names]
    assert statuses == [201] * len(names)


def names_of(data_dir, namespace):
    return {repo["repo_name"] for repo in NamespaceStore.on_disk(data_dir, Clock()).list_repositories(namespace)}


def test_eight_threads_of_25_creates_lose_nothing(tmp_path):
    batches = [["t%d-%02d" % (thread, index) for index in range(25)] for thread in range(8)]
    with running_server(tmp_path / "data", "--threads", "8") as (process, url):
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda batch: create_many(url, batch), batches))
        assert send(url, "GET", "/v1/repositories/madams/?page_size=100").json()["count"] == 200
    assert names_of(tmp_path / "data", "madams") == {name for batch in batches for name in batch}


def test_two_server_processes_on_one_data_directory_lose_nothing(tmp_path):
    data = tmp_path / "data"
    with running_server(data) as (first, first_url), running_server(data) as (second, second_url):
        batches = [
            (url, ["p%d-t%d-%02d" % (server, thread, index) for index in range(25)])
            for server, url in enumerate([first_url, second_url])
            for thread in range(4)
        ]
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda batch: create_many(*batch), batches))
        for url in (first_url, second_url):
            assert send(url, "GET", "/v1/repositories/madams/").json()["count"] == 200
    assert len(names_of(data, "madams")) == 200


def test_threads_updating_one_repository_see_every_tag(tmp_path):
    store = NamespaceStore.on_disk(tmp_path, Clock())
    store.create_repository("madams", "repo")

    def push(thread):
        for index in range(20):
            store.put_tag("madams", "repo", "t%d-%d" % (thread, index), "a" * 64)

    threads = [threading.Thread(target=push, args=(number,)) for number in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    fresh = NamespaceStore.on_disk(tmp_path, Clock())
    assert len(fresh.list_tags("madams", "repo")) == 120
    assert fresh.get_repository("madams", "repo")["upload"] == 120


def test_a_writer_killed_mid_stream_50_times_keeps_every_acknowledged_write(tmp_path):
    randomness = random.Random(20141119)
    acknowledged = set()
    for run in range(50):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(PROJECT), str(tmp_path), "%02d" % run],
            stdout=subprocess.PIPE,
            text=True,
        )
        wanted = randomness.randint(1, 6)
        for _ in range(wanted):
            line = writer.stdout.readline()
            assert line, "the writer stopped before it was killed"
            acknowledged.add(line.strip())
        writer.send_signal(signal.SIGKILL)
        acknowledged.update(line.strip() for line in writer.stdout)  # acknowledged before the kill
        writer.wait()
        writer.stdout.close()
        assert writer.returncode == -signal.SIGKILL
        stored = names_of(tmp_path, "crash")  # parses, or raises CorruptNamespace
        assert acknowledged <= stored
    assert len(acknowledged) >= 50


def repository_names(url):
    return [repository["repo_name"] for repository in send(url, "GET", "/v1/repositories/madams/").json()["results"]]


def tear_like_a_killed_writer(data, next_name, scratch):
    """Leave after the log's records the start of a record, as long as the record a create of ``next_name`` makes.

    That length is measured by making the create in a copy of ``data``.
    """
    shutil.copytree(data, scratch)
    before = (scratch / "madams.log").stat().st_size
    NamespaceStore.on_disk(scratch, Clock(FROZEN)).create_repository("madams", next_name)
    length = (scratch / "madams.log").stat().st_size - before
    with open(data / "madams.log", "ab") as stream:
        stream.write(b'{"after":"' + b"c" * (length - 10))  # no newline: never a record
    return before + length


def test_a_create_over_a_torn_record_of_its_own_length_is_seen_by_another_server_and_kept(tmp_path):
    data = tmp_path / "data"
    with running_server(data, "--frozen-time", FROZEN) as (first, url):
        create_many(url, ["rr0", "rr1"])  # the namespace file, then a record in the log
        first.send_signal(signal.SIGKILL)  # no compaction at exit: the log stays
        first.wait()
    size = tear_like_a_killed_writer(data, "rr2", tmp_path / "scratch")
    with (
        running_server(data, "--frozen-time", FROZEN) as (_, reader_url),
        running_server(data, "--frozen-time", FROZEN) as (_, writer_url),
    ):
        assert repository_names(reader_url) == ["rr0", "rr1"]  # it has read the log, torn record and all
        create_many(writer_url, ["rr2"])
        assert (data / "madams.log").stat().st_size == size  # the torn bytes became rr2's record: same size
        assert repository_names(reader_url) == ["rr0", "rr1", "rr2"]
        create_many(reader_url, ["rr3"])
        assert repository_names(writer_url) == ["rr0", "rr1", "rr2", "rr3"]
    assert [repo["repo_name"] for repo in NamespaceStore.on_disk(data, Clock()).list_repositories("madams")] == [
        "rr0",
        "rr1",
        "rr2",
        "rr3",
    ]


def test_two_writers_killed_again_and_again_while_they_write_at_once_keep_every_acknowledged_write(tmp_path):
    randomness = random.Random(20261207)
    acknowledged = set()
    for run in range(15):
        writers = [
            subprocess.Popen(
                [sys.executable, "-c", WRITER, str(PROJECT), str(tmp_path), "%02d%d" % (run, number)],
                stdout=subprocess.PIPE,
                text=True,
            )
            for number in range(2)
        ]
        for writer in writers:  # both are writing once each has acknowledged a few
            for _ in range(randomness.randint(1, 4)):
                line = writer.stdout.readline()
                assert line, "a writer stopped before it was killed"
                acknowledged.add(line.strip())
        for writer in writers:
            writer.send_signal(signal.SIGKILL)
        for writer in writers:
            acknowledged.update(line.strip() for line in writer.stdout)
            writer.wait()
            writer.stdout.close()
        stored = names_of(tmp_path, "crash")  # parses, or raises CorruptNamespace
        assert acknowledged <= stored
