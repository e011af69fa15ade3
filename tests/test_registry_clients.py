"""Real OCI clients against hubserver's /v2/: skopeo (Debian) and oras (PyPI).

Each test pushes with the client, then looks through both protocols: the
registry's and the hub API's.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers import running_server, send
from oci import Layout

pytestmark = pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo is not installed (.ci/run installs it)")


def skopeo(*arguments):
    result = subprocess.run(["skopeo", "--insecure-policy", *arguments], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def hub(tmp_path):
    with running_server(tmp_path / "data") as (process, url):
        yield url, url.split("//")[1]


def test_push_inspect_list_pull_and_delete_with_skopeo(tmp_path, hub):
    url, host = hub
    layout = Layout(tmp_path / "image")
    pushed = layout.tag(layout.image("hello from hubserver"), "v1")
    skopeo("copy", "--dest-tls-verify=false", "oci:%s:v1" % layout.folder, "docker://%s/madams/app:v1" % host)

    inspected = json.loads(skopeo("inspect", "--tls-verify=false", "docker://%s/madams/app:v1" % host))
    assert inspected["Digest"] == pushed["digest"]
    assert json.loads(skopeo("list-tags", "--tls-verify=false", "docker://%s/madams/app" % host))["Tags"] == ["v1"]

    skopeo("copy", "--src-tls-verify=false", "docker://%s/madams/app:v1" % host, "oci:%s:v1" % (tmp_path / "out"))
    index = json.loads((tmp_path / "out" / "index.json").read_text())
    assert index["manifests"][0]["digest"] == pushed["digest"]

    detail = send(url, "GET", "/v1/repositories/madams/app").json()
    assert (detail["upload"], detail["download"], detail["is_public"]) == (1, 2, True)
    assert detail["pushed_at"] and detail["pulled_at"]
    tags = send(url, "GET", "/v1/repositories/madams/app/tags").json()
    assert tags == [{"image_id": pushed["digest"].split(":")[1], "tag": "v1"}]

    skopeo("delete", "--tls-verify=false", "docker://%s/madams/app:v1" % host)
    assert send(url, "GET", "/v1/repositories/madams/app/tags").json() == []
    assert send(url, "GET", "/v2/madams/app/manifests/v1").status == 404


def test_a_multi_architecture_index_with_all(tmp_path, hub):
    url, host = hub
    layout = Layout(tmp_path / "image")
    images = [layout.image("amd64 inside", "amd64"), layout.image("arm64 inside", "arm64")]
    index = layout.tag(layout.index(images), "multi")
    skopeo(
        "copy",
        "--all",
        "--dest-tls-verify=false",
        "oci:%s:multi" % layout.folder,
        "docker://%s/madams/multi:latest" % host,
    )
    raw = json.loads(skopeo("inspect", "--raw", "--tls-verify=false", "docker://%s/madams/multi:latest" % host))
    assert [child["digest"] for child in raw["manifests"]] == [image["digest"] for image in images]
    head = send(url, "HEAD", "/v2/madams/multi/manifests/latest")
    assert head.headers["Docker-Content-Digest"] == index["digest"]
    skopeo(
        "copy",
        "--all",
        "--src-tls-verify=false",
        "docker://%s/madams/multi:latest" % host,
        "oci:%s:m" % (tmp_path / "out"),
    )
    assert json.loads((tmp_path / "out" / "index.json").read_text())["manifests"][0]["digest"] == index["digest"]


def test_oras_pushes_and_pulls_an_artifact(tmp_path, hub, monkeypatch):
    oras_provider = pytest.importorskip("oras.provider")
    url, host = hub
    monkeypatch.chdir(tmp_path)  # oras pushes files from the working folder only
    artifact = tmp_path / "notes.txt"
    artifact.write_text("an artifact pushed with oras")
    client = oras_provider.Registry(hostname=host, insecure=True)
    client.push(target="%s/madams/notes:v1" % host, files=["notes.txt"])
    out = tmp_path / "pulled"
    paths = client.pull(target="%s/madams/notes:v1" % host, outdir=str(out))
    assert [Path(path).read_text() for path in paths] == ["an artifact pushed with oras"]
    assert send(url, "GET", "/v1/repositories/madams/notes").json()["upload"] == 1
