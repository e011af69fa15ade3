"""Disk trouble: a full disk or a read-only one is a clear error, loses nothing, and passes."""

import errno
import os

import pytest

from hubserver.storage import files

from helpers import assert_error


@pytest.fixture
def failing_disk(monkeypatch):
    """Make the disk refuse writes with a chosen errno until ``recover()`` is called."""

    class Disk:
        failure = None

        def recover(self):
            self.failure = None

    disk = Disk()
    real_fsync = files._sync_data

    def sync(fd):
        if disk.failure is not None:
            raise OSError(disk.failure, os.strerror(disk.failure))
        return real_fsync(fd)

    monkeypatch.setattr(files, "_sync_data", sync)
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
    from hubserver.registry.blobs import BlobStore

    def full(self, *arguments):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    location = client.post("/v2/madams/app/blobs/uploads/").headers["Location"].replace("http://localhost", "")
    monkeypatch.setattr(BlobStore, "append", full)
    response = client.patch(location, data=b"layer", content_type="application/octet-stream")
    assert response.status_code == 507
    [error] = response.get_json()["errors"]
    assert error["code"] == "UNKNOWN" and "No space left on device" in error["detail"]
