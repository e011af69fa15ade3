"""The pull-through mirror (--upstream): a second hubserver as the upstream, on loopback.

What is pulled through the mirror has the upstream's digests and bytes, is
kept, and is served again once the upstream is gone; what the upstream never
had is a 404 naming the upstream.
"""

import socket
from concurrent.futures import ThreadPoolExecutor

from helpers import OCTETS, digest_of, oci_manifest, pushed_blob, running_server, send

CONFIG = b'{"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}'
LAYER = b"a layer from the upstream" * 1000
MANIFEST_TYPE = {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}


def pushed_image(url, name, tag):
    pushed_blob(url, name, CONFIG)
    pushed_blob(url, name, LAYER)
    manifest = oci_manifest(CONFIG, LAYER)
    assert send(url, "PUT", "/v2/%s/manifests/%s" % (name, tag), manifest, MANIFEST_TYPE).status == 201
    return manifest


def test_a_pull_through_the_mirror_is_the_upstreams_and_is_served_again_once_it_is_gone(tmp_path):
    with running_server(tmp_path / "upstream") as (upstream, upstream_url):
        manifest = pushed_image(upstream_url, "library/app", "v1")
        with running_server(tmp_path / "mirror", "--upstream", upstream_url) as (mirror, url):
            first = send(url, "GET", "/v2/app/manifests/v1")
            assert (first.status, first.body) == (200, manifest)
            assert first.headers["Docker-Content-Digest"] == digest_of(manifest)
            layer = send(url, "GET", "/v2/library/app/blobs/" + digest_of(LAYER))
            assert (layer.status, layer.body) == (200, LAYER)
            assert send(url, "GET", "/v2/library/app/tags/list").json() == {"name": "library/app", "tags": ["v1"]}
    with running_server(tmp_path / "mirror", "--upstream", upstream_url, "--upstream-ttl", "0.001") as (_, url):
        again = send(url, "GET", "/v2/app/manifests/v1")
        assert (again.status, again.body) == (200, manifest)  # the upstream is gone: as last fetched
        assert send(url, "GET", "/v2/library/app/blobs/" + digest_of(LAYER)).body == LAYER
        detail = send(url, "GET", "/v1/repositories/library/app").json()
        assert detail["is_public"] is True
        never = send(url, "GET", "/v2/library/app/manifests/never")
        assert never.status == 404
        (error,) = never.json()["errors"]
        assert error["code"] == "MANIFEST_UNKNOWN"
        assert set(error["detail"]) == {"reference", "upstream", "reason"}
        assert error["detail"]["upstream"] == upstream_url


def test_a_tag_the_upstream_never_had_is_a_404_naming_the_upstream(tmp_path):
    with (
        running_server(tmp_path / "upstream") as (_, upstream_url),
        running_server(tmp_path / "mirror", "--upstream", upstream_url) as (_, url),
    ):
        answer = send(url, "GET", "/v2/library/nothing/manifests/v1")
        assert answer.status == 404
        (error,) = answer.json()["errors"]
        assert (error["code"], error["detail"]["upstream"]) == ("MANIFEST_UNKNOWN", upstream_url)
        assert "no manifest" in error["detail"]["reason"]
        blob = send(url, "GET", "/v2/library/nothing/blobs/" + digest_of(b"none"), headers=OCTETS)
        assert [e["code"] for e in blob.json()["errors"]] == ["BLOB_UNKNOWN"]


def test_six_parallel_pulls_of_one_layer_fetch_it_from_the_upstream_once(tmp_path):
    big = bytes(range(256)) * (8 * 4096)  # 8 MiB
    with running_server(tmp_path / "upstream") as (upstream, upstream_url):
        digest = pushed_blob(upstream_url, "library/big", big)
        with running_server(tmp_path / "mirror", "--upstream", upstream_url) as (_, url):
            with ThreadPoolExecutor(6) as pool:
                answers = list(pool.map(lambda _: send(url, "GET", "/v2/library/big/blobs/" + digest), range(6)))
            assert [(answer.status, answer.body == big) for answer in answers] == [(200, True)] * 6
            log = upstream.log()
        assert log.count('"GET /v2/library/big/blobs/%s ' % digest) == 1


def test_an_upstream_that_never_answers_is_a_404_once_the_timeout_is_over(tmp_path):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts connections, and never answers one
        upstream_url = "http://127.0.0.1:%d" % silent.getsockname()[1]
        with running_server(tmp_path / "mirror", "--upstream", upstream_url, "--upstream-timeout", "1") as (_, url):
            answer = send(url, "GET", "/v2/library/app/manifests/v1")
    assert answer.status == 404
    (error,) = answer.json()["errors"]
    assert error["code"] == "MANIFEST_UNKNOWN"
    assert "no answer within the timeout" in error["detail"]["reason"]
