"""Upload sessions against the real server: one request writes a session at a time, and a blob's
bytes always have its digest."""

import hashlib
import os
import threading
from functools import partial

import filelock
import pytest

from helpers import OCTETS, digest_of, running_server, send, upload_path

RUNS = 200


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("uploads") / "data"
    with running_server(data_dir) as (_, url):
        yield url, data_dir


def at_once(*calls):
    """Run the calls in threads released together; return their results in order."""
    start = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        start.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def stored_blobs(data_dir):
    """Yield (name, sha256 of the bytes) of every blob file stored."""
    root = data_dir / "_blobs" / "sha256"
    for prefix in os.listdir(root):
        for name in os.listdir(root / prefix):
            yield name, hashlib.sha256((root / prefix / name).read_bytes()).hexdigest()


def test_finishing_an_upload_while_a_chunk_is_written_never_stores_wrong_bytes(hub):
    url, data_dir = hub
    outcomes = set()
    for _ in range(RUNS):
        path = upload_path(url, "madams/race")
        small = os.urandom(1024)
        assert send(url, "PATCH", path, small, OCTETS).status == 202
        large = os.urandom(1024 * 1024)
        patch, finish = at_once(
            partial(send, url, "PATCH", path, large, OCTETS),
            partial(send, url, "PUT", path + "?digest=" + digest_of(small), b"", OCTETS),
        )
        outcomes.add((patch.status, finish.status))
        if finish.status == 201:  # finished first: the blob is the 1 KiB, the chunk came too late
            assert patch.status == 404 and patch.json()["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN"
            assert send(url, "GET", "/v2/madams/race/blobs/" + digest_of(small)).body == small
        else:  # the chunk first: the upload holds 1 KiB + 1 MiB, which is not the digest named
            assert (patch.status, finish.status) == (202, 400)
            assert finish.json()["errors"][0]["code"] == "DIGEST_INVALID"
            assert send(url, "GET", path).headers["Range"] == "0-%d" % (1024 + len(large) - 1)
    assert all(name == sha for name, sha in stored_blobs(data_dir))
    assert outcomes <= {(404, 201), (202, 400)}


def test_two_chunks_at_once_are_written_one_after_the_other(hub):
    url, _ = hub
    for _ in range(20):
        path = upload_path(url, "madams/pair")
        first, second = os.urandom(300 * 1024), os.urandom(200 * 1024)
        answers = at_once(
            partial(send, url, "PATCH", path, first, OCTETS), partial(send, url, "PATCH", path, second, OCTETS)
        )
        assert [answer.status for answer in answers] == [202, 202]
        ends = sorted(int(answer.headers["Range"].split("-")[1]) for answer in answers)
        assert ends[1] == len(first) + len(second) - 1 and ends[0] in (len(first) - 1, len(second) - 1)
        whole = first + second if ends[0] == len(first) - 1 else second + first
        assert send(url, "PUT", path + "?digest=" + digest_of(whole), b"", OCTETS).status == 201


def test_a_content_range_that_is_not_the_body_length_is_refused(hub):
    url, _ = hub
    path = upload_path(url, "madams/range")
    answer = send(url, "PATCH", path, b"x" * 10, {**OCTETS, "Content-Range": "0-99"})
    assert answer.status == 416
    assert answer.json() == {
        "errors": [
            {
                "code": "RANGE_INVALID",
                "message": "invalid content range",
                "detail": {"Content-Range": "0-99", "Content-Length": 10},
            }
        ]
    }
    assert send(url, "GET", path).headers["Range"] == "0-0"  # nothing written
    assert send(url, "PATCH", path, b"x" * 10, {**OCTETS, "Content-Range": "0-9"}).status == 202


def test_a_failed_finish_leaves_the_upload_as_it_was(hub):
    url, _ = hub
    path = upload_path(url, "madams/retry")
    assert send(url, "PATCH", path, b"first", OCTETS).status == 202
    answer = send(url, "PUT", path + "?digest=" + digest_of(b"wrong"), b"second", OCTETS)
    assert answer.status == 400 and answer.json()["errors"][0]["code"] == "DIGEST_INVALID"
    assert send(url, "GET", path).headers["Range"] == "0-4"
    answer = send(url, "PUT", path + "?digest=" + digest_of(b"firstsecond"), b"second", OCTETS)
    assert answer.status == 201


def test_a_session_another_process_keeps_writing_is_refused_with_a_wait(tmp_path):
    data_dir = tmp_path / "data"
    with running_server(data_dir, env={"HUB_LOCK_TIMEOUT": "0.5"}) as (_, url):
        path = upload_path(url, "madams/busy")
        upload = path.rstrip("/").rsplit("/", 1)[1]
        with filelock.FileLock(str(data_dir / "_uploads" / (upload + ".lock"))):  # another writer holds it
            answer = send(url, "PATCH", path, b"late", OCTETS)
            assert answer.status == 429 and answer.headers["Retry-After"] == "1"
            assert answer.json()["errors"][0]["code"] == "TOOMANYREQUESTS"
            assert answer.json()["errors"][0]["detail"]["uuid"] == upload
        answer = send(url, "PATCH", path, b"late", OCTETS)
        assert answer.status == 202 and answer.headers["Range"] == "0-3"
