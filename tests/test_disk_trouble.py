"""Disk trouble: a full disk or a read-only one is a clear error, loses nothing, and passes."""

import errno
import hashlib
import os
import subprocess

import pytest

from hubserver.app import create_app
from hubserver.clock import Clock
from hubserver.storage import DiskFull, NamespaceStore
from hubserver.storage.files import durable as files
from hubserver.storage.files import namespace_files
from hubserver.web import STORE_KEY

from helpers import OCTETS, assert_error, running_server, send, upload_path


@pytest.fixture(params=["sync", "write"])
def failing_disk(monkeypatch, request):
    """Make the disk refuse writes with a chosen errno until ``recover()`` is called.

    Where it refuses: at the sync, the bytes written ("sync"), or halfway
    through an append, half its bytes on disk ("write"), as a disk that fills
    up does.
    """

    class Disk:
        failure = None
        where = request.param

        def recover(self):
            self.failure = None

        def refuses(self, where):
            return self.failure is not None and self.where == where

        def refuse(self):
            raise OSError(self.failure, os.strerror(self.failure))

    disk = Disk()
    real_sync, real_write_at = files._sync_data, files.AppendFile._write_at

    def sync(fd):
        if disk.refuses("sync"):
            disk.refuse()
        return real_sync(fd)

    def write_at(append_file, data, offset):
        if disk.refuses("write"):
            real_write_at(append_file, data[: len(data) // 2], offset)
            disk.refuse()
        return real_write_at(append_file, data, offset)

    monkeypatch.setattr(files, "_sync_data", sync)
    monkeypatch.setattr(files.AppendFile, "_write_at", write_at)
    return disk


@pytest.mark.parametrize(
    "failure, status, words",
    [
        (errno.ENOSPC, 507, "No space left on device"),
        (errno.EDQUOT, 507, "quota"),
        (errno.EROFS, 503, "Read-only file system"),
    ],
)
def test_a_refused_write_is_a_clear_error_and_loses_nothing(
    client, data_dir, make_repository, failing_disk, failure, status, words
):
    make_repository(description="before")
    client.put("/v1/repositories/madams/repo/tags/old", json={"image_id": "b" * 64})  # a record in the log
    before = (data_dir / "madams.json").read_bytes(), (data_dir / "madams.log").read_bytes()
    failing_disk.failure = failure
    for method, path, body in [
        ("post", "/v1/repositories/madams/", {"repo_name": "new"}),
        ("put", "/v1/repositories/madams/repo", {"description": "after"}),
        ("put", "/v1/repositories/madams/repo/tags/latest", {"image_id": "a" * 64}),
        ("delete", "/v1/repositories/madams/repo", None),
    ]:
        response = getattr(client, method)(path, json=body)
        assert response.status_code == status
        detail = response.get_json()["detail"]
        assert list(response.get_json()) == ["detail"] and "madams" in detail and words.lower() in detail.lower()
    assert ((data_dir / "madams.json").read_bytes(), (data_dir / "madams.log").read_bytes()) == before  # nothing torn
    assert not (data_dir / "madams.json.tmp").exists()
    assert client.get("/v1/repositories/madams/repo").get_json()["description"] == "before"
    failing_disk.recover()
    assert client.post("/v1/repositories/madams/", json={"repo_name": "new"}).status_code == 201
    assert [item["repo_name"] for item in client.get("/v1/repositories/madams/").get_json()["results"]] == [
        "repo",
        "new",
    ]


def test_a_refused_write_is_answered_as_such_after_a_restart_too(client, app, data_dir, make_repository, failing_disk):
    make_repository()
    failing_disk.failure = errno.ENOSPC
    assert client.post("/v1/repositories/madams/", json={"repo_name": "refused"}).status_code == 507
    failing_disk.recover()
    fresh = create_app({"DATA_DIR": str(data_dir), "FROZEN_TIME": app.config["FROZEN_TIME"]}).test_client()
    assert fresh.get("/v1/repositories/madams/refused").status_code == 404  # what the 507 said
    assert fresh.post("/v1/repositories/madams/", json={"repo_name": "refused"}).status_code == 201  # a retry works


def test_reads_go_on_while_the_disk_refuses_writes(client, make_repository, failing_disk):
    make_repository()
    failing_disk.failure = errno.ENOSPC
    assert client.get("/v1/repositories/madams/repo").status_code == 200
    assert client.get("/v1/repositories/madams/").get_json()["count"] == 1


def test_another_os_error_is_a_500_not_a_guess(client, make_repository, monkeypatch):
    make_repository()

    def broken(path, *arguments, **keywords):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(files.AppendFile, "append", broken)
    assert_error(
        client.post("/v1/repositories/madams/", json={"repo_name": "new"}), 500, {"detail": "A server error occurred."}
    )


def test_a_blob_the_disk_refuses_is_a_507_in_the_registry_shape(client, monkeypatch):
    from hubserver.storage.files.blobs import FileBlobs

    def full(self, *arguments):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    location = client.post("/v2/madams/app/blobs/uploads/").headers["Location"].replace("http://localhost", "")
    monkeypatch.setattr(FileBlobs, "append", full)
    response = client.patch(location, data=b"layer", content_type="application/octet-stream")
    assert response.status_code == 507
    [error] = response.get_json()["errors"]
    assert error["code"] == "UNKNOWN" and "No space left on device" in error["detail"]


def assert_blob_refused(response):
    assert response.status_code == 507
    [error] = response.get_json()["errors"]
    assert sorted(error) == ["code", "detail", "message"] and error["code"] == "UNKNOWN"
    assert "No space left on device" in error["detail"] and "Nothing of this change was stored" in error["detail"]


def test_a_chunk_the_disk_refuses_leaves_the_upload_as_it_was_and_the_next_one_works(client, data_dir, failing_disk):
    location = client.post("/v2/madams/app/blobs/uploads/").headers["Location"].replace("http://localhost", "")
    assert client.patch(location, data=b"a" * 1000, content_type="application/octet-stream").status_code == 202
    failing_disk.failure = errno.ENOSPC
    assert_blob_refused(client.patch(location, data=b"b" * 1000, content_type="application/octet-stream"))
    whole = b"a" * 1000 + b"c" * 1000
    digest = "sha256:" + hashlib.sha256(whole).hexdigest()
    assert_blob_refused(
        client.put(location + "?digest=" + digest, data=b"c" * 1000, content_type="application/octet-stream")
    )
    assert client.get(location).headers["Range"] == "0-999"  # the refused chunks left nothing
    assert not (data_dir / "_blobs").exists()
    failing_disk.recover()
    finished = client.put(location + "?digest=" + digest, data=b"c" * 1000, content_type="application/octet-stream")
    assert finished.status_code == 201
    assert client.get("/v2/madams/app/blobs/" + digest, buffered=True).data == whole


def test_an_upload_the_disk_refuses_to_open_leaves_no_file(client, data_dir, failing_disk):
    failing_disk.failure = errno.ENOSPC
    assert_blob_refused(client.post("/v2/madams/app/blobs/uploads/"))
    assert list((data_dir / "_uploads").iterdir()) == []
    failing_disk.recover()
    assert client.post("/v2/madams/app/blobs/uploads/").status_code == 202


def test_a_compaction_the_disk_refuses_leaves_the_files_as_they_were(app, client, data_dir, monkeypatch):
    client.post("/v1/repositories/madams/", json={"repo_name": "repo"})
    client.put("/v1/repositories/madams/repo/tags/old", json={"image_id": "b" * 64})  # a record in the log
    before = (data_dir / "madams.json").read_bytes(), (data_dir / "madams.log").read_bytes()

    def full(path, data, **options):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(namespace_files, "atomic_write", full)
    with pytest.raises(DiskFull):
        app.extensions[STORE_KEY].backend.compact("madams")
    assert ((data_dir / "madams.json").read_bytes(), (data_dir / "madams.log").read_bytes()) == before


# A real full disk: a 2 MiB file system, filled by a real server


@pytest.fixture
def small_disk(tmp_path):
    """Yield a folder on a 2 MiB tmpfs of its own, and unmount it after (skipped where it cannot be mounted)."""
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root; the in-process disk tests above stand in")
    folder = tmp_path / "small"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: %s" % mounted.stderr.decode(errors="replace").strip())
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


class Acknowledged:
    """Every write sent to the server, by what it answered: the truth a restart must show."""

    def __init__(self, url):
        self.url = url
        self.repositories = {}  # name -> True (201) or False (507)
        self.tags = {}  # (name, tag) -> True or False
        self.upload = upload_path(url, "madams/layer")
        self.upload_size = 0

    def written(self, answer, success, surface):
        if answer.status == 507:
            body = answer.json()
            if surface == "v1":
                assert list(body) == ["detail"] and "No space left on device" in body["detail"]
            else:
                [error] = body["errors"]
                assert sorted(error) == ["code", "detail", "message"] and "No space left" in error["detail"]
            return False
        assert answer.status == success, answer.body
        return True

    def create(self, name):
        body = {"repo_name": name, "full_description": name * 1000}  # a log that soon wants compacting
        answer = send(self.url, "POST", "/v1/repositories/madams/", body)
        self.repositories[name] = self.written(answer, 201, "v1")
        return self.repositories[name]

    def tag(self, name, tag):
        answer = send(self.url, "PUT", "/v1/repositories/madams/%s/tags/%s" % (name, tag), {"image_id": "a" * 64})
        self.tags[name, tag] = self.written(answer, 201, "v1")
        return self.tags[name, tag]

    def chunk(self, data):
        answer = send(self.url, "PATCH", self.upload, data, OCTETS)
        if self.written(answer, 202, "v2"):
            self.upload_size += len(data)
            assert answer.headers["Range"] == "0-%d" % (self.upload_size - 1)
            return True
        return False

    def round(self, number):
        """Write a little of everything; tell whether all of it was refused."""
        done = [self.create("r%04d" % number)]
        done += [self.tag(name, "t%04d" % number) for name in list(self.repositories)[-3:] if self.repositories[name]]
        if number % 4 == 0:
            done.append(self.chunk(bytes([number % 256]) * 16384))
        return not any(done)

    def check_after_a_restart(self, data_dir, url):
        """Check that what the files hold, and what a restarted server says, is exactly what was acknowledged."""
        stored = {
            item["repo_name"]: item for item in NamespaceStore.on_disk(data_dir, Clock()).list_repositories("madams")
        }
        assert set(stored) == {name for name, kept in self.repositories.items() if kept}
        stored_tags = {(name, tag["tag"]) for name, item in stored.items() for tag in item["tags"]}
        assert stored_tags == {key for key, kept in self.tags.items() if kept}
        assert send(url, "GET", self.upload).headers["Range"] == "0-%d" % (self.upload_size - 1)


def test_a_full_disk_answers_every_write_truthfully_and_writes_again_once_space_is_back(small_disk):
    data = small_disk / "data"
    (small_disk / "ballast").write_bytes(b"b" * (768 * 1024))  # taken away later: the space that comes back
    with running_server(data) as (_, url):
        writes = Acknowledged(url)
        refused_rounds = 0
        for number in range(2000):  # bounded: a 2 MiB disk is full long before
            refused_rounds = refused_rounds + 1 if writes.round(number) else 0
            if refused_rounds == 10:
                break
        assert refused_rounds == 10, "the disk never filled up"
        assert not all(writes.repositories.values()) and any(writes.repositories.values())
        (small_disk / "ballast").unlink()
        assert writes.create("after") and writes.tag("after", "back") and writes.chunk(b"z" * 16384)  # no restart
    with running_server(data) as (_, url):
        writes.check_after_a_restart(data, url)
