"""sha512 digests beside sha256, and the spec's optional parts: single POST, mount without from, ?tag=, sparse."""

import hashlib
import json
import subprocess
import sys

import pytest
from test_registry_http import errors_of, image_manifest, push_blob, put_manifest

import hubserver

from helpers import OCI_MANIFEST, PROJECT, digest_of

NON_DISTRIBUTABLE = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
EMPTY_INDEX = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []}


def sha512_of(data):
    return "sha512:" + hashlib.sha512(data).hexdigest()


def location_path(response):
    return response.headers["Location"].replace("http://localhost", "")


def test_a_sha512_blob_is_pushed_in_chunks_read_and_deleted(client, data_dir):
    started = client.post("/v2/madams/app/blobs/uploads/?digest-algorithm=sha512")
    assert started.status_code == 202
    path = location_path(started)
    assert client.patch(path, data=b"first ", content_type="application/octet-stream").status_code == 202
    digest = sha512_of(b"first last")
    finished = client.put(path + "?digest=" + digest, data=b"last", content_type="application/octet-stream")
    assert (finished.status_code, finished.headers["Docker-Content-Digest"]) == (201, digest)
    with client.get("/v2/madams/app/blobs/" + digest) as pulled:
        assert (pulled.data, pulled.headers["Docker-Content-Digest"]) == (b"first last", digest)
    assert client.head("/v2/madams/app/blobs/" + digest).headers["Content-Length"] == "10"
    stored = data_dir / "_blobs" / "sha512" / digest[7:9] / digest[7:]
    assert stored.read_bytes() == b"first last"
    assert client.delete("/v2/madams/app/blobs/" + digest).status_code == 202
    assert errors_of(client.get("/v2/madams/app/blobs/" + digest)) == ["BLOB_UNKNOWN"]


def test_an_upload_opened_for_sha256_finishes_with_a_sha512_digest_and_the_other_way(client):
    for algorithm, digest in (("sha256", sha512_of(b"bytes")), ("sha512", digest_of(b"bytes"))):
        path = location_path(client.post("/v2/madams/app/blobs/uploads/?digest-algorithm=" + algorithm))
        assert client.put(path + "?digest=" + digest, data=b"bytes").status_code == 201
        with client.get("/v2/madams/app/blobs/" + digest) as pulled:
            assert pulled.data == b"bytes"


@pytest.mark.parametrize("method", ["GET", "HEAD", "DELETE"])
def test_a_well_formed_digest_not_stored_is_a_404_of_either_algorithm(client, method):
    push_blob(client, "madams/app", b"held")
    for digest in (sha512_of(b"missing"), digest_of(b"missing")):
        answer = client.open("/v2/madams/app/blobs/" + digest, method=method)
        assert answer.status_code == 404
        if method != "HEAD":
            assert errors_of(answer) == ["BLOB_UNKNOWN"]


def test_a_digest_of_another_algorithm_is_digest_invalid_naming_those_taken(client):
    answer = client.get("/v2/madams/app/blobs/md5:" + "a" * 32)
    assert (answer.status_code, errors_of(answer)) == (400, ["DIGEST_INVALID"])
    assert answer.get_json()["errors"][0]["detail"] == {"digest": "md5:" + "a" * 32, "algorithms": ["sha256", "sha512"]}
    refused = client.post("/v2/madams/app/blobs/uploads/?digest-algorithm=sha1")
    assert (refused.status_code, refused.get_json()["errors"][0]["detail"]["algorithms"]) == (400, ["sha256", "sha512"])


def test_a_manifest_pushed_by_sha512_digest_with_tags_is_pulled_by_it_and_by_its_tags(client):
    data = image_manifest(client, "madams/app")
    digest = sha512_of(data)
    pushed = put_manifest(client, "madams/app", digest + "?tag=v1&tag=latest", data)
    assert (pushed.status_code, pushed.headers["Docker-Content-Digest"]) == (201, digest)
    assert pushed.headers["OCI-Tag"] == "v1, latest"
    for reference in (digest, "v1", "latest"):
        with client.get("/v2/madams/app/manifests/" + reference) as pulled:
            assert (pulled.data, pulled.headers["Docker-Content-Digest"]) == (data, digest)
    assert client.get("/v2/madams/app/tags/list").get_json()["tags"] == ["latest", "v1"]
    tags = client.get("/v1/repositories/madams/app/tags").get_json()
    assert {tag["image_id"] for tag in tags} == {digest[7:]}  # the hub API's image id: the 128 hex digits
    assert client.delete("/v2/madams/app/manifests/" + digest).status_code == 202
    assert client.get("/v2/madams/app/tags/list").get_json()["tags"] == []


def test_a_sha512_manifest_survives_a_restart_in_the_namespace_file(data_dir, client):
    data = image_manifest(client, "madams/app")
    assert put_manifest(client, "madams/app", sha512_of(data) + "?tag=v1", data).status_code == 201
    restarted = hubserver.create_app({"DATA_DIR": str(data_dir)}).test_client()
    with restarted.get("/v2/madams/app/manifests/v1") as pulled:
        assert pulled.headers["Docker-Content-Digest"] == sha512_of(data)


def test_a_single_post_pushes_a_blob_whole(client):
    answer = client.post(
        "/v2/madams/app/blobs/uploads/?digest=" + sha512_of(b"whole"),
        data=b"whole",
        content_type="application/octet-stream",
    )
    assert (answer.status_code, answer.headers["Docker-Content-Digest"]) == (201, sha512_of(b"whole"))
    assert location_path(answer) == "/v2/madams/app/blobs/" + sha512_of(b"whole")
    wrong = client.post("/v2/madams/app/blobs/uploads/?digest=" + digest_of(b"other"), data=b"whole")
    assert (wrong.status_code, errors_of(wrong)) == (400, ["DIGEST_INVALID"])


def test_a_mount_without_from_finds_a_repository_holding_the_blob(client):
    digest = push_blob(client, "madams/source", b"shared layer")
    mounted = client.post("/v2/madams/copy/blobs/uploads/?mount=" + digest)
    assert (mounted.status_code, mounted.headers["Docker-Content-Digest"]) == (201, digest)
    with client.get("/v2/madams/copy/blobs/" + digest) as pulled:
        assert pulled.data == b"shared layer"
    unknown = client.post("/v2/madams/copy/blobs/uploads/?mount=" + digest_of(b"nowhere"))
    assert unknown.status_code == 202  # an ordinary upload, as the spec says


def test_referrers_of_a_repository_not_pushed_yet_are_an_empty_index(client):
    answer = client.get("/v2/madams/nothing/referrers/" + sha512_of(b"subject"))
    assert (answer.status_code, answer.get_json()) == (200, EMPTY_INDEX)
    assert answer.headers["Content-Type"] == "application/vnd.oci.image.index.v1+json"


def manifest_with_foreign_layer(config_digest, config_size):
    layer = {"mediaType": NON_DISTRIBUTABLE, "digest": digest_of(b"never pushed"), "size": 123456}
    layer["urls"] = ["https://store.example.com/blob"]
    config = {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size}
    return json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config, "layers": [layer]}).encode()


def test_a_non_distributable_layer_need_not_be_pushed_but_a_config_must(client):
    data = manifest_with_foreign_layer(push_blob(client, "madams/app", b"{}"), 2)
    assert put_manifest(client, "madams/app", "v1", data).status_code == 201
    missing_config = manifest_with_foreign_layer(digest_of(b"no config"), 9)
    refused = put_manifest(client, "madams/app", "v2", missing_config)
    assert (refused.status_code, errors_of(refused)) == (400, ["MANIFEST_BLOB_UNKNOWN"])
    assert errors_of(client.get("/v2/madams/app/blobs/" + digest_of(b"never pushed"))) == ["BLOB_UNKNOWN"]


def test_sparse_manifests_are_taken_only_when_asked_for(data_dir):
    data = manifest_with_foreign_layer(digest_of(b"no config"), 9)
    plain = hubserver.create_app({"DATA_DIR": str(data_dir / "plain")}).test_client()
    sparse = hubserver.create_app({"DATA_DIR": str(data_dir / "sparse"), "SPARSE_MANIFESTS": True}).test_client()
    assert put_manifest(plain, "madams/app", "v1", data).status_code == 400
    assert put_manifest(sparse, "madams/app", "v1", data).status_code == 201
    with sparse.get("/v2/madams/app/manifests/v1") as pulled:
        assert pulled.data == data
    assert errors_of(sparse.get("/v2/madams/app/blobs/" + digest_of(b"no config"))) == ["BLOB_UNKNOWN"]


def test_a_range_past_the_end_of_a_blob_is_a_416_saying_its_size(client):
    digest = push_blob(client, "madams/app", b"ten bytes!")
    answer = client.get("/v2/madams/app/blobs/" + digest, headers={"Range": "bytes=20-30"})
    assert (answer.status_code, errors_of(answer)) == (416, ["RANGE_INVALID"])
    assert answer.headers["Content-Range"] == "bytes */10"
    with client.get("/v2/madams/app/blobs/" + digest, headers={"Range": "bytes=4-8"}) as part:
        assert (part.status_code, part.data) == (206, b"bytes")


def test_gc_and_the_state_export_handle_sha512_blobs_and_manifests(data_dir, client):
    data = image_manifest(client, "madams/app")
    assert put_manifest(client, "madams/app", sha512_of(data) + "?tag=v1", data).status_code == 201
    orphan = client.post("/v2/madams/app/blobs/uploads/?digest=" + sha512_of(b"orphan"), data=b"orphan")
    assert client.delete("/v2/madams/app/blobs/" + sha512_of(b"orphan")).status_code == 202
    assert orphan.status_code == 201
    result = subprocess.run(
        [sys.executable, str(PROJECT / "hubserver.py"), "gc", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "removed 1 unreferenced blob(s), 6 bytes"
    state = client.get("/_hub/state").get_json()
    assert client.put("/_hub/state", json=state).status_code == 204
    with client.get("/v2/madams/app/manifests/v1") as pulled:
        assert (pulled.data, pulled.headers["Docker-Content-Digest"]) == (data, sha512_of(data))
    assert errors_of(client.get("/v2/madams/app/blobs/" + sha512_of(b"orphan"))) == ["BLOB_UNKNOWN"]


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "application/json", "text/plain"])
def test_a_blob_is_its_bytes_whatever_content_type_the_client_sends(client, content_type):
    data = b"\xff not text, not a form"
    single_post = "/v2/madams/app/blobs/uploads/?digest=" + sha512_of(data)
    single = client.post(single_post, data=data, content_type=content_type)
    path = location_path(client.post("/v2/madams/app/blobs/uploads/"))
    chunk = client.patch(path, data=data, content_type=content_type)
    finished = client.put(path + "?digest=" + digest_of(data + data), data=data, content_type=content_type)
    assert (single.status_code, chunk.status_code, finished.status_code) == (201, 202, 201)
