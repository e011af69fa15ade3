"""Real OCI clients against hubserver's /v2/: skopeo (Debian) and oras (PyPI).

Each test pushes with the client, then looks through both protocols: the
registry's and the hub API's.
"""

import base64
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


# With accounts on: the token flow, as real clients walk it

USERS = {
    "users": {
        "alice": {"password": "alice-pw"},
        "bob": {"password": "bob-pw"},
        "root": {"password": "root-pw", "admin": True},
    }
}


def skopeo_refused(*arguments):
    result = subprocess.run(["skopeo", "--insecure-policy", *arguments], capture_output=True, text=True, timeout=120)
    assert result.returncode != 0, result.stdout
    return result.stderr


@pytest.fixture
def guarded(tmp_path):
    users = tmp_path / "users.json"
    users.write_text(json.dumps(USERS))
    with running_server(tmp_path / "data", "--users", str(users)) as (process, url):
        yield url, url.split("//")[1]


def private_repository(url, namespace, name, password):
    token = send(url, "POST", "/v1/generate-api-token/", {"username": namespace, "password": password}).json()
    made = send(
        url,
        "POST",
        "/v1/repositories/%s/" % namespace,
        {"repo_name": name, "is_public": False},
        {"Authorization": "Token " + token["token"]},
    )
    assert made.status == 201


def test_skopeo_pushes_and_pulls_a_private_image_with_credentials_through_the_token_flow(tmp_path, guarded):
    url, host = guarded
    private_repository(url, "alice", "secret", "alice-pw")
    layout = Layout(tmp_path / "image")
    pushed = layout.tag(layout.image("alice's private bytes"), "v1")
    image = "docker://%s/alice/secret:v1" % host
    skopeo("copy", "--dest-tls-verify=false", "--dest-creds", "alice:alice-pw", "oci:%s:v1" % layout.folder, image)
    inspected = json.loads(skopeo("inspect", "--tls-verify=false", "--creds", "alice:alice-pw", image))
    assert inspected["Digest"] == pushed["digest"]
    skopeo("copy", "--src-tls-verify=false", "--src-creds", "alice:alice-pw", image, "oci:%s:v1" % (tmp_path / "out"))
    assert json.loads((tmp_path / "out" / "index.json").read_text())["manifests"][0]["digest"] == pushed["digest"]

    assert "unauthorized" in skopeo_refused("inspect", "--tls-verify=false", image)
    assert "manifest unknown" in skopeo_refused("inspect", "--tls-verify=false", "--creds", "bob:bob-pw", image)
    assert "unauthorized" in skopeo_refused("inspect", "--tls-verify=false", "--creds", "alice:wrong", image)

    admin = {"Authorization": "Basic " + base64.b64encode(b"root:root-pw").decode()}
    journal = send(url, "GET", "/_hub/requests?path_prefix=/v2/token", headers=admin).json()["requests"]
    assert journal and all(entry["method"] == "GET" for entry in journal)  # the clients went through the realm
    assert all("alice-pw" not in json.dumps(entry) for entry in journal)


def test_oras_pushes_and_pulls_with_credentials(tmp_path, guarded, monkeypatch):
    oras_provider = pytest.importorskip("oras.provider")
    url, host = guarded
    private_repository(url, "alice", "notes", "alice-pw")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("alice's private notes")
    client = oras_provider.Registry(hostname=host, insecure=True)
    client.auth.set_basic_auth("alice", "alice-pw")
    client.push(target="%s/alice/notes:v1" % host, files=["notes.txt"])
    paths = client.pull(target="%s/alice/notes:v1" % host, outdir=str(tmp_path / "pulled"))
    assert [Path(path).read_text() for path in paths] == ["alice's private notes"]
    stranger = oras_provider.Registry(hostname=host, insecure=True)
    stranger.auth.set_basic_auth("bob", "bob-pw")
    with pytest.raises(Exception):  # noqa: B017  (oras raises what its HTTP library raises)
        stranger.pull(target="%s/alice/notes:v1" % host, outdir=str(tmp_path / "stolen"))
    assert not (tmp_path / "stolen" / "notes.txt").exists()
