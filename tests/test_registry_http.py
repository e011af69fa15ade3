"""The /v2/ protocol by raw HTTP: what clients rarely do, errors, the bridge, accounts, gc."""

import base64
import json
import subprocess
import sys

import pytest

import hubserver

from helpers import OCI_MANIFEST, PROJECT, digest_of, oci_manifest

OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def errors_of(response):
    assert response.headers["Docker-Distribution-API-Version"] == "registry/2.0"
    return [error["code"] for error in response.get_json()["errors"]]


def upload(client, name, data, digest=None):
    """Open an upload and send ``data`` to it with PUT ?digest=; return the last answer."""
    location = client.post("/v2/%s/blobs/uploads/" % name).headers["Location"].replace("http://localhost", "")
    return client.put(
        "%s?digest=%s" % (location, digest or digest_of(data)), data=data, content_type="application/octet-stream"
    )


def push_blob(client, name, data):
    """Push ``data``; return its digest."""
    response = upload(client, name, data)
    assert response.status_code == 201, response.data
    return digest_of(data)


def image_manifest(client, name, layer=b"layer bytes", config=b"{}"):
    """Push a config and a layer; return the bytes of a manifest naming them."""
    push_blob(client, name, config)
    push_blob(client, name, layer)
    return oci_manifest(config, layer)


def put_manifest(client, name, reference, data, media_type=OCI_MANIFEST, **kwargs):
    return client.put("/v2/%s/manifests/%s" % (name, reference), data=data, content_type=media_type, **kwargs)


def test_the_base_answers_with_the_api_version(client):
    response = client.get("/v2/")
    assert (response.status_code, response.get_json()) == (200, {})
    assert response.headers["Docker-Distribution-API-Version"] == "registry/2.0"


def test_a_chunked_upload_in_order_then_out_of_order(client):
    started = client.post("/v2/madams/app/blobs/uploads/")
    assert started.status_code == 202
    location = started.headers["Location"].replace("http://localhost", "")
    assert started.headers["Range"] == "0-0" and started.headers["Docker-Upload-UUID"] in location
    first = client.patch(
        location, data=b"abc", headers={"Content-Range": "0-2"}, content_type="application/octet-stream"
    )
    assert (first.status_code, first.headers["Range"]) == (202, "0-2")
    out_of_order = client.patch(
        location, data=b"xyz", headers={"Content-Range": "10-12"}, content_type="application/octet-stream"
    )
    assert out_of_order.status_code == 416
    assert errors_of(out_of_order) == ["RANGE_INVALID"]
    status = client.get(location)
    assert (status.status_code, status.headers["Range"]) == (204, "0-2")
    finished = client.put(
        location + "?digest=" + digest_of(b"abcdef"), data=b"def", content_type="application/octet-stream"
    )
    assert finished.status_code == 201
    assert finished.headers["Docker-Content-Digest"] == digest_of(b"abcdef")
    assert client.get("/v2/madams/app/blobs/" + digest_of(b"abcdef"), buffered=True).data == b"abcdef"


def test_a_wrong_digest_is_digest_invalid_and_nothing_is_stored(client):
    response = upload(client, "madams/app", b"these bytes", digest_of(b"other"))
    assert response.status_code == 400
    assert errors_of(response) == ["DIGEST_INVALID"]
    assert client.head("/v2/madams/app/blobs/" + digest_of(b"these bytes")).status_code == 404


def test_unknown_uploads_and_blobs(client):
    assert errors_of(client.patch("/v2/madams/app/blobs/uploads/" + "0" * 32, data=b"x")) == ["BLOB_UPLOAD_UNKNOWN"]
    missing = client.get("/v2/madams/app/blobs/" + digest_of(b"nothing"))
    assert (missing.status_code, errors_of(missing)) == (404, ["BLOB_UNKNOWN"])


def test_an_upload_can_be_cancelled(client):
    location = client.post("/v2/madams/app/blobs/uploads/").headers["Location"].replace("http://localhost", "")
    assert client.delete(location).status_code == 204
    assert errors_of(client.get(location)) == ["BLOB_UPLOAD_UNKNOWN"]


def test_a_manifest_naming_a_missing_blob_is_refused(client):
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": digest_of(b"absent"),
                "size": 6,
            },
            "layers": [],
        }
    ).encode()
    response = put_manifest(client, "madams/app", "v1", manifest)
    assert (response.status_code, errors_of(response)) == (400, ["MANIFEST_BLOB_UNKNOWN"])
    assert client.get("/v1/repositories/madams/app").status_code == 404


@pytest.mark.parametrize(
    "data",
    [b"not json", b"[]", b'{"schemaVersion": 1}', json.dumps({"schemaVersion": 2, "mediaType": "text/plain"}).encode()],
)
def test_an_invalid_manifest_is_manifest_invalid(client, data):
    assert errors_of(put_manifest(client, "madams/app", "v1", data)) == ["MANIFEST_INVALID"]


def test_a_mount_from_another_repository(client):
    digest = push_blob(client, "madams/source", b"shared layer")
    mounted = client.post("/v2/madams/target/blobs/uploads/?mount=%s&from=madams/source" % digest)
    assert (mounted.status_code, mounted.headers["Docker-Content-Digest"]) == (201, digest)
    assert mounted.headers["Location"].endswith("/v2/madams/target/blobs/" + digest)
    unknown = client.post("/v2/madams/target/blobs/uploads/?mount=%s&from=madams/source" % digest_of(b"absent"))
    assert unknown.status_code == 202  # no such blob: an ordinary upload starts


def test_range_reads(client):
    digest = push_blob(client, "madams/app", b"0123456789")
    partial = client.get("/v2/madams/app/blobs/" + digest, headers={"Range": "bytes=2-5"}, buffered=True)
    assert (partial.status_code, partial.data, partial.headers["Content-Range"]) == (206, b"2345", "bytes 2-5/10")
    head = client.head("/v2/madams/app/blobs/" + digest)
    assert (head.status_code, head.data, head.headers["Content-Length"], head.headers["Docker-Content-Digest"]) == (
        200,
        b"",
        "10",
        digest,
    )


def test_push_by_tag_is_a_hub_tag_and_a_push_and_a_get_is_a_pull(client):
    manifest = image_manifest(client, "madams/app")
    pushed = put_manifest(client, "madams/app", "v1", manifest)
    assert pushed.status_code == 201
    digest = digest_of(manifest)
    assert pushed.headers["Docker-Content-Digest"] == digest
    assert pushed.headers["Location"].endswith("/v2/madams/app/manifests/" + digest)
    detail = client.get("/v1/repositories/madams/app").get_json()
    assert (detail["upload"], detail["download"], detail["is_public"], detail["description"]) == (1, 0, True, "")
    assert client.get("/v1/repositories/madams/app/tags").get_json() == [
        {"image_id": digest.split(":")[1], "tag": "v1"}
    ]
    head = client.head("/v2/madams/app/manifests/v1")
    assert (head.headers["Docker-Content-Digest"], head.headers["Content-Type"]) == (digest, OCI_MANIFEST)
    assert client.get("/v1/repositories/madams/app").get_json()["download"] == 0  # HEAD is no pull
    got = client.get("/v2/madams/app/manifests/" + digest)
    assert (got.status_code, got.data) == (200, manifest)
    after = client.get("/v1/repositories/madams/app").get_json()
    assert (after["download"], after["pulled_at"] is not None) == (1, True)


def test_a_hub_api_tag_delete_is_gone_from_v2(client):
    put_manifest(client, "madams/app", "v1", image_manifest(client, "madams/app"))
    assert client.delete("/v1/repositories/madams/app/tags/v1").status_code == 204
    response = client.get("/v2/madams/app/manifests/v1")
    assert (response.status_code, errors_of(response)) == (404, ["MANIFEST_UNKNOWN"])
    assert client.get("/v2/madams/app/tags/list").get_json()["tags"] == []


def test_a_hub_api_tag_without_a_manifest_lists_in_the_hub_only(client):
    put_manifest(client, "madams/app", "v1", image_manifest(client, "madams/app"))
    client.put("/v1/repositories/madams/app/tags/handmade", json={"image_id": "b" * 64})
    assert [entry["tag"] for entry in client.get("/v1/repositories/madams/app/tags").get_json()] == ["v1", "handmade"]
    assert client.get("/v2/madams/app/tags/list").get_json() == {"name": "madams/app", "tags": ["v1"]}
    assert errors_of(client.get("/v2/madams/app/manifests/handmade")) == ["MANIFEST_UNKNOWN"]


def test_a_one_part_name_is_library(client):
    put_manifest(client, "alpine", "latest", image_manifest(client, "alpine"))
    assert client.get("/v1/repositories/library/alpine/tags").get_json()[0]["tag"] == "latest"
    assert client.get("/v2/library/alpine/manifests/latest").status_code == 200


UNKNOWN_NAME = (404, "NAME_UNKNOWN")  # of three parts or more: no repository of hubserver's
INVALID_NAME = (400, "NAME_INVALID")  # breaking the spec's grammar


@pytest.mark.parametrize(
    ("path", "name", "refusal"),
    [
        ("/v2/a/b/c/manifests/latest", "a/b/c", UNKNOWN_NAME),
        ("/v2/ab/cd/ef/blobs/uploads/", "ab/cd/ef", UNKNOWN_NAME),
        ("/v2/madams/nothing/tags/list", "madams/nothing", UNKNOWN_NAME),
        ("/v2/Upper/app/tags/list", "Upper/app", INVALID_NAME),
        ("/v2/a..b/app/manifests/latest", "a..b/app", INVALID_NAME),
        ("/v2/ab/c_d_/e/blobs/uploads/", "ab/c_d_/e", INVALID_NAME),
        ("/v2/-x/manifests/latest", "library/-x", INVALID_NAME),
    ],
)
def test_a_name_without_a_repository_is_refused_naming_the_whole_name(client, path, name, refusal):
    response = client.get(path) if "uploads" not in path else client.post(path)
    status, code = refusal
    assert (response.status_code, errors_of(response)) == (status, [code])
    assert response.get_json()["errors"][0]["detail"] == {"name": name}


def test_names_of_the_spec_grammar_are_pushed_and_listed_under_v1_too(client):
    for name in ("alice/o", "a__b/c--d", "x/y.z"):
        assert client.post("/v2/%s/blobs/uploads/?digest=%s" % (name, digest_of(b"x")), data=b"x").status_code == 201
    with client.get("/v2/alice/o/blobs/" + digest_of(b"x")) as pulled:
        assert pulled.data == b"x"
    assert [item["repo_name"] for item in client.get("/v1/repositories/alice/").get_json()["results"]] == ["o"]
    assert client.get("/v1/repositories/a__b/c--d").get_json()["repo_name"] == "c--d"
    assert client.patch("/v1/repositories/alice/o", json={"description": "one letter"}).status_code == 200
    assert client.put("/v1/repositories/a__b/c--d/tags/v1", json={"image_id": "a" * 64}).status_code in (200, 201)
    assert client.get("/v1/repositories/a__b/c--d/tags/v1").get_json()["image_id"] == "a" * 64
    assert client.delete("/v1/repositories/x/y.z").status_code == 204
    created = client.post("/v1/repositories/alice/", json={"repo_name": "o2"})
    refused = client.post("/v1/repositories/a__b/", json={"repo_name": "new"})  # the seed's rule for new names
    assert (created.status_code, refused.status_code) == (201, 400)


def test_tags_list_and_catalog_paginate_with_n_and_last(client):
    manifest = image_manifest(client, "madams/app")
    for tag in ["b", "a", "d", "c"]:
        put_manifest(client, "madams/app", tag, manifest)
    first = client.get("/v2/madams/app/tags/list?n=2")
    assert first.get_json() == {"name": "madams/app", "tags": ["a", "b"]}
    assert first.headers["Link"] == '</v2/madams/app/tags/list?last=b&n=2>; rel="next"'
    last = client.get("/v2/madams/app/tags/list?n=2&last=b")
    assert last.get_json()["tags"] == ["c", "d"] and "Link" not in last.headers
    for name in ["zeta/one", "acme/two"]:
        put_manifest(client, name, "x", image_manifest(client, name))
    assert client.get("/v2/_catalog").get_json() == {"repositories": ["acme/two", "madams/app", "zeta/one"]}
    assert client.get("/v2/_catalog?n=1&last=acme/two").get_json() == {"repositories": ["madams/app"]}


def test_an_index_needs_its_manifests_and_referrers_list_subjects(client):
    child = image_manifest(client, "madams/app")
    missing = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [{"mediaType": OCI_MANIFEST, "digest": digest_of(child), "size": len(child)}],
        }
    ).encode()
    assert errors_of(put_manifest(client, "madams/app", "multi", missing, OCI_INDEX)) == ["MANIFEST_BLOB_UNKNOWN"]
    put_manifest(client, "madams/app", digest_of(child), child)
    assert put_manifest(client, "madams/app", "multi", missing, OCI_INDEX).status_code == 201
    signature = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": "application/example.signature",
            "config": {
                "mediaType": "application/vnd.oci.empty.v1+json",
                "digest": push_blob(client, "madams/app", b"{}"),
                "size": 2,
            },
            "layers": [],
            "subject": {"mediaType": OCI_MANIFEST, "digest": digest_of(child), "size": len(child)},
            "annotations": {"signed": "yes"},
        }
    ).encode()
    pushed = put_manifest(client, "madams/app", digest_of(signature), signature)
    assert pushed.headers["OCI-Subject"] == digest_of(child)
    listed = client.get("/v2/madams/app/referrers/" + digest_of(child))
    assert listed.headers["Content-Type"] == OCI_INDEX
    assert listed.get_json() == {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {
                "mediaType": OCI_MANIFEST,
                "digest": digest_of(signature),
                "size": len(signature),
                "artifactType": "application/example.signature",
                "annotations": {"signed": "yes"},
            }
        ],
    }
    filtered = client.get("/v2/madams/app/referrers/%s?artifactType=other" % digest_of(child))
    assert filtered.get_json()["manifests"] == [] and filtered.headers["OCI-Filters-Applied"] == "artifactType"


def test_deleting_a_manifest_by_digest_takes_its_tags(client):
    manifest = image_manifest(client, "madams/app")
    put_manifest(client, "madams/app", "v1", manifest)
    assert client.delete("/v2/madams/app/manifests/" + digest_of(manifest)).status_code == 202
    assert client.get("/v1/repositories/madams/app/tags").get_json() == []
    assert errors_of(client.delete("/v2/madams/app/manifests/" + digest_of(manifest))) == ["MANIFEST_UNKNOWN"]


def test_gc_removes_only_blobs_no_repository_holds(data_dir, client):
    put_manifest(client, "madams/app", "v1", image_manifest(client, "madams/app"))
    orphan = push_blob(client, "madams/app", b"nobody needs me")
    kept = push_blob(client, "madams/app", b"not named by a manifest, but uploaded here")
    assert client.delete("/v2/madams/app/blobs/" + orphan).status_code == 202  # the repository lets go of it
    result = subprocess.run(
        [sys.executable, str(PROJECT / "hubserver.py"), "gc", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert result.stdout.strip() == "removed 1 unreferenced blob(s), 15 bytes"
    assert not (data_dir / "_blobs" / "sha256" / orphan[7:9] / orphan[7:]).exists()
    assert client.head("/v2/madams/app/blobs/" + kept).status_code == 200
    assert client.get("/v2/madams/app/manifests/v1").status_code == 200


def test_a_blob_over_the_limit_is_refused(data_dir):
    client = hubserver.create_app({"DATA_DIR": str(data_dir), "MAX_BLOB_SIZE": 100}).test_client()
    response = upload(client, "madams/app", b"x" * 101)
    assert (response.status_code, errors_of(response)) == (413, ["SIZE_INVALID"])


# Accounts


@pytest.fixture
def guarded(tmp_path, data_dir):
    users = tmp_path / "users.json"
    users.write_text(json.dumps({"users": {"madams": {"password": "secret"}, "bob": {"password": "bobpass"}}}))
    return hubserver.create_app({"DATA_DIR": str(data_dir), "USERS": str(users)}).test_client()


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()}


def test_with_accounts_the_base_asks_for_credentials(guarded):
    response = guarded.get("/v2/")
    assert (response.status_code, errors_of(response)) == (401, ["UNAUTHORIZED"])
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="http://localhost/v2/token",service="hubserver"'
    assert guarded.get("/v2/", headers=basic("madams", "secret")).status_code == 200
    assert errors_of(guarded.get("/v2/", headers=basic("madams", "wrong"))) == ["UNAUTHORIZED"]


def test_with_accounts_pushes_need_the_namespace_owner(guarded):
    data = b"layer"
    url = "/v2/madams/app/blobs/uploads/"
    assert errors_of(guarded.post(url)) == ["UNAUTHORIZED"]
    assert errors_of(guarded.post(url, headers=basic("bob", "bobpass"))) == ["DENIED"]
    location = guarded.post(url, headers=basic("madams", "secret")).headers["Location"].replace("http://localhost", "")
    assert (
        guarded.put(location + "?digest=" + digest_of(data), data=data, headers=basic("madams", "secret")).status_code
        == 201
    )
    token = guarded.post("/v1/generate-api-token/", json={"username": "madams", "password": "secret"}).get_json()[
        "token"
    ]
    assert (
        guarded.head("/v2/madams/app/blobs/" + digest_of(data), headers={"Authorization": "Token " + token}).status_code
        == 200
    )


def test_with_accounts_a_private_repository_is_hidden(guarded):
    owner = basic("madams", "secret")
    guarded.post(
        "/v1/repositories/madams/",
        json={"repo_name": "secret", "is_public": False},
        headers={
            "Authorization": "Token "
            + guarded.post("/v1/generate-api-token/", json={"username": "madams", "password": "secret"}).get_json()[
                "token"
            ]
        },
    )
    assert guarded.get("/v2/madams/secret/tags/list", headers=owner).status_code == 200
    assert errors_of(guarded.get("/v2/madams/secret/tags/list")) == ["UNAUTHORIZED"]
    assert errors_of(guarded.get("/v2/madams/secret/tags/list", headers=basic("bob", "bobpass"))) == ["NAME_UNKNOWN"]
    assert guarded.get("/v2/_catalog", headers=basic("bob", "bobpass")).get_json() == {"repositories": []}


def test_an_upload_untouched_for_a_day_expires(data_dir):
    import os
    import time

    from hubserver.storage.files.blobs import FileBlobs

    blobs = FileBlobs(str(data_dir), 1024)
    stale, fresh = blobs.start(), blobs.start()
    blobs.append(fresh, [b"recent"])
    day_ago = time.time() - 24 * 3600 - 60
    os.utime(os.path.join(blobs.uploads, stale), (day_ago, day_ago))
    blobs.start()  # starting an upload sweeps the old ones
    assert os.path.exists(os.path.join(blobs.uploads, fresh))
    assert not os.path.exists(os.path.join(blobs.uploads, stale))


def test_a_chunk_whose_upload_is_finished_while_it_waits_for_the_lock_is_unknown(client, monkeypatch):
    import os

    location = client.post("/v2/madams/app/blobs/uploads/").headers["Location"].replace("http://localhost", "")
    upload = location.rstrip("/").rsplit("/", 1)[1]
    blobs = client.application.extensions["hubserver.blobs"]
    lock_path = os.path.join(blobs.uploads, upload + ".lock")
    open(lock_path, "w").close()  # left by an earlier request: opened without O_CREAT
    real_open = os.open

    def finished_meanwhile(path, flags, *arguments):
        if path == lock_path:  # the finishing request removes the upload, then its lock file, right now
            os.unlink(os.path.join(blobs.uploads, upload))
            os.unlink(lock_path)
        return real_open(path, flags, *arguments)

    monkeypatch.setattr(os, "open", finished_meanwhile)
    response = client.patch(location, data=b"late", content_type="application/octet-stream")
    monkeypatch.undo()
    assert (response.status_code, errors_of(response)) == (404, ["BLOB_UPLOAD_UNKNOWN"])


def test_a_corrupt_namespace_file_is_reported_in_the_registry_shape(client, data_dir):
    put_manifest(client, "madams/app", "v1", image_manifest(client, "madams/app"))
    (data_dir / "madams.json").write_text("{broken")
    response = client.get("/v2/madams/app/manifests/v1")
    assert (response.status_code, errors_of(response)) == (500, ["UNKNOWN"])
    assert "madams" in response.get_json()["errors"][0]["detail"]


def test_a_negative_page_size_is_refused(client):
    put_manifest(client, "madams/app", "v1", image_manifest(client, "madams/app"))
    assert errors_of(client.get("/v2/madams/app/tags/list?n=-1")) == ["PAGINATION_NUMBER_INVALID"]
