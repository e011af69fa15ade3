"""Bad files in the data directory, and changes to many namespaces that fail half-way, against the
real server: one bad file affects its own namespace only, and a failed change leaves every file as it was."""

import json
import subprocess
import sys

import pytest

from helpers import PROJECT, oci_manifest, pushed_blob, running_server, send

TRUNCATED = b'{"format": 3, "namespace": "broken", "repositor'


@pytest.fixture
def hub(tmp_path):
    data_dir = tmp_path / "data"
    with running_server(data_dir) as (process, url):
        for namespace in ("madams", "other"):
            assert send(url, "POST", "/v1/repositories/%s/" % namespace, {"repo_name": "repo"}).status == 201
        yield url, data_dir, process


def files_of(data_dir):
    """Return {name: bytes} of every namespace file and log in the data directory (not the lock files)."""
    return {path.name: path.read_bytes() for path in data_dir.iterdir() if path.is_file() and path.suffix != ".lock"}


def test_a_truncated_namespace_file_is_skipped_by_the_listings_and_named(hub):
    url, data_dir, process = hub
    (data_dir / "broken.json").write_bytes(TRUNCATED)
    root = send(url, "GET", "/")
    assert root.status == 200 and root.headers["X-Hub-Unreadable-Namespaces"] == "broken"
    catalog = send(url, "GET", "/v2/_catalog")
    assert catalog.status == 200 and catalog.json() == {"repositories": ["madams/repo", "other/repo"]}
    assert catalog.headers["X-Hub-Unreadable-Namespaces"] == "broken"
    page = send(url, "GET", "/", headers={"Accept": "text/html"})
    assert page.status == 200 and b"madams" in page.body
    assert send(url, "GET", "/v1/repositories/madams/repo/").status == 200
    exported = send(url, "GET", "/_hub/state")
    assert exported.status == 500 and "namespace broken cannot be read" in exported.json()["detail"]
    assert send(url, "GET", "/v1/repositories/broken/").status == 500
    assert (data_dir / "broken.json").read_bytes() == TRUNCATED  # reported, never overwritten
    assert "broken" in process.log()


def test_a_folder_named_like_a_namespace_file_breaks_nothing_else(hub):
    url, data_dir, _ = hub
    (data_dir / "folder.json").mkdir()
    assert send(url, "GET", "/").json() == {"namespaces": ["madams", "other"]}
    assert send(url, "GET", "/v2/_catalog").json() == {"repositories": ["madams/repo", "other/repo"]}
    answer = send(url, "POST", "/v1/repositories/folder/", {"repo_name": "repo"})
    assert answer.status == 500 and "its file or its log is a folder" in answer.json()["detail"]
    assert send(url, "POST", "/_hub/reset").status == 204
    assert send(url, "GET", "/").json() == {"namespaces": []}
    assert (data_dir / "folder.json").is_dir()


def test_a_reset_of_one_namespace_beside_a_truncated_file(hub):
    url, data_dir, _ = hub
    (data_dir / "broken.json").write_bytes(TRUNCATED)
    assert send(url, "POST", "/_hub/reset?namespace=madams").status == 204
    assert send(url, "GET", "/v1/repositories/madams/").json()["count"] == 0
    assert send(url, "GET", "/v1/repositories/other/").json()["count"] == 1
    assert (data_dir / "broken.json").read_bytes() == TRUNCATED


def test_an_import_with_a_bad_second_namespace_changes_no_byte(hub):
    url, data_dir, _ = hub
    before = files_of(data_dir)
    body = (
        b'{"format": 1, "namespaces": [{"format": 3, "namespace": "aaa", "repositories": []},'
        b' {"format": 3, "namespace": "bbb", "repositories": [{"repo_name": "\\ud800"}]}]}'
    )
    answer = send(url, "PUT", "/_hub/state", body, {"Content-Type": "application/json"})
    assert answer.status == 400
    assert files_of(data_dir) == before


def test_an_import_whose_second_write_fails_puts_the_first_back_byte_for_byte(hub):
    url, data_dir, _ = hub
    (data_dir / "zzz.json").mkdir()  # written last: its write fails after the others were written
    before = files_of(data_dir)
    state = {
        "format": 1,
        "namespaces": [
            {"format": 3, "namespace": "madams", "repositories": []},
            {"format": 3, "namespace": "zzz", "repositories": []},
        ],
    }
    answer = send(url, "PUT", "/_hub/state", state)
    assert answer.status == 500 and "namespace zzz" in answer.json()["detail"]
    assert files_of(data_dir) == before
    assert send(url, "GET", "/v1/repositories/madams/").json()["count"] == 1
    assert send(url, "GET", "/v1/repositories/other/").json()["count"] == 1


def test_a_blob_a_manifest_names_cannot_be_deleted_and_the_manifest_still_answers(hub):
    url, _, _ = hub
    layer_digest = pushed_blob(url, "madams/repo", b"a layer")
    pushed_blob(url, "madams/repo", b"{}")
    manifest = oci_manifest(b"{}", b"a layer")
    headers = {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}
    assert send(url, "PUT", "/v2/madams/repo/manifests/v1", manifest, headers).status == 201
    refused = send(url, "DELETE", "/v2/madams/repo/blobs/" + layer_digest)
    assert refused.status == 405 and refused.json()["errors"][0]["code"] == "UNSUPPORTED"
    assert send(url, "GET", "/v2/madams/repo/manifests/v1").body == manifest
    assert send(url, "PUT", "/v2/madams/repo/manifests/v1", manifest, headers).status == 201


def test_gc_removes_nothing_while_a_namespace_cannot_be_read(tmp_path):
    data_dir = tmp_path / "data"
    with running_server(data_dir) as (_, url):
        digest = pushed_blob(url, "madams/repo", b"kept")
    (data_dir / "madams.json").write_bytes(TRUNCATED)
    gc = subprocess.run(
        [sys.executable, str(PROJECT / "hubserver.py"), "gc", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert gc.returncode == 1 and "nothing removed" in gc.stderr and "namespace madams" in gc.stderr
    assert len(list((data_dir / "_blobs").rglob("*"))) > 0 and any((data_dir / "_blobs").rglob(digest[7:]))


def test_a_seed_that_cannot_be_written_whole_is_written_not_at_all(tmp_path):
    data_dir = tmp_path / "data"
    with running_server(data_dir) as (_, url):
        assert send(url, "POST", "/v1/repositories/madams/", {"repo_name": "mine"}).status == 201
    (data_dir / "zzz.json").mkdir()
    before = files_of(data_dir)
    seed = tmp_path / "seed.json"
    seed.write_text(
        json.dumps(
            {
                "format": 1,
                "namespaces": [
                    {"format": 3, "namespace": "madams", "repositories": []},
                    {"format": 3, "namespace": "zzz", "repositories": []},
                ],
            }
        )
    )
    started = subprocess.run(
        [
            sys.executable,
            str(PROJECT / "hubserver.py"),
            "--port",
            "0",
            "--data-dir",
            str(data_dir),
            "--seed",
            str(seed),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode == 1 and "cannot start" in started.stderr and "namespace zzz" in started.stderr
    assert files_of(data_dir) == before
