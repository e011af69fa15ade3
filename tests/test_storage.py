"""The data directory's own promises: its files, their format, what another store on it sees.

Every test runs twice: reading back through the store that wrote, and through
a second store on the same directory (what another server process sees). The
rules and the promises every backend keeps are in test_backend_contract.
"""

import json
import os

import pytest

from hubserver.clock import Clock
from hubserver.storage import (
    CorruptNamespace,
    NamespaceBusy,
    NamespaceStore,
    document,
)

IMAGE_A = "a" * 64
IMAGE_B = "b" * 64


@pytest.fixture(params=["same store", "second store"])
def stores(request, tmp_path):
    """Return (writer, reader): two views of one data directory."""
    writer = NamespaceStore.on_disk(tmp_path, Clock())
    reader = writer if request.param == "same store" else NamespaceStore.on_disk(tmp_path, Clock())
    return writer, reader


@pytest.fixture
def store(stores):
    return stores[0]


@pytest.fixture
def reader(stores):
    return stores[1]


FILE_KEYS = [
    "repo_name",
    "description",
    "full_description",
    "is_public",
    "logo",
    "is_automated",
    "created",
    "updated",
    "download",
    "upload",
    "pulled_at",
    "pushed_at",
    "tags",
    "starred_by",
    "manifests",
    "blobs",
    "fetched_tags",
]


def test_the_file_is_format_4_indented_by_two_spaces_in_key_order(store, tmp_path):
    store.create_repository("madams", "repo")
    store.put_tag("madams", "repo", "latest", IMAGE_A)
    store.backend.compact("madams")
    text = (tmp_path / "madams.json").read_text("utf-8")
    parsed = json.loads(text)
    assert list(parsed) == ["format", "namespace", "repositories"]
    assert (parsed["format"], parsed["namespace"]) == (4, "madams")
    assert list(parsed["repositories"][0]) == FILE_KEYS
    assert list(parsed["repositories"][0]["tags"][0]) == ["tag", "image_id"]
    assert text == json.dumps(parsed, indent=2, ensure_ascii=False) + "\n"


def test_non_ascii_text_is_written_as_utf8(store, tmp_path):
    store.create_repository("madams", "repo", description="café ☕")
    assert "café ☕" in (tmp_path / "madams.json").read_text("utf-8")


def test_files_are_0644_before_the_umask(store, tmp_path):
    store.create_repository("madams", "repo")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "madams.json").stat().st_mode & 0o777 == 0o644 & ~umask


def test_no_temporary_files_are_left_behind_and_at_rest_only_the_namespace_file(store, tmp_path):
    for index in range(5):
        store.create_repository("madams", "repo%d" % index)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["madams.json", "madams.json.lock", "madams.log"]
    store.close()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["madams.json", "madams.json.lock"]


def test_a_stale_temporary_file_from_a_crash_is_replaced_by_the_next_write(store, reader, tmp_path):
    store.create_repository("madams", "repo")
    (tmp_path / "madams.json.tmp").write_bytes(b"half a file")
    assert reader.get_repository("madams", "repo")["repo_name"] == "repo"  # never read
    store.create_repository("madams", "next")
    store.backend.compact("madams")  # the next write of the namespace file
    assert not (tmp_path / "madams.json.tmp").exists()
    assert [repo["repo_name"] for repo in reader.list_repositories("madams")] == ["repo", "next"]


def hand_written(namespace="madams", **changes):
    """Return a valid hand-written namespace document, keys in an unusual order."""
    repository = {
        "tags": [{"image_id": IMAGE_A, "tag": "latest"}],
        "starred_by": [],
        "pushed_at": "2015-05-24T00:54:26.452Z",
        "pulled_at": None,
        "upload": 4,
        "download": 103,
        "updated": "2015-06-07T10:41:31.882Z",
        "created": "2015-05-13T01:04:48.246Z",
        "is_automated": False,
        "logo": "default-icon.jpg",
        "is_public": False,
        "full_description": "",
        "description": "test",
        "repo_name": "test",
    }
    repository.update(changes)
    return {"repositories": [repository], "namespace": namespace, "format": 1}


def test_a_hand_written_file_in_any_key_order_is_read_and_rewritten_in_order(store, reader, tmp_path):
    (tmp_path / "madams.json").write_text(json.dumps(hand_written()))
    repository = reader.get_repository("madams", "test")
    assert (repository["download"], repository["tags"]) == (103, [{"tag": "latest", "image_id": IMAGE_A}])
    store.update_repository("madams", "test", description="changed")
    store.backend.compact("madams")
    rewritten = json.loads((tmp_path / "madams.json").read_text())
    assert rewritten["format"] == 4  # a format 1 file is written back as format 4
    assert list(rewritten["repositories"][0]) == list(document.REPOSITORY_KEYS)
    written = rewritten["repositories"][0]
    assert written["manifests"] == written["blobs"] == written["fetched_tags"] == []
    assert rewritten["repositories"][0]["download"] == 103


def _without(key):
    broken = hand_written()
    del broken["repositories"][0][key]
    return broken


def _twice():
    broken = hand_written()
    broken["repositories"].append(dict(broken["repositories"][0]))
    return broken


BROKEN_FILES = {
    "not json": b"{not json",
    "truncated": json.dumps(hand_written()).encode()[:-10],
    "not utf-8": b'{"format": 1, "namespace": "\xff"}',
    "a list": b"[]",
    "format 2 without manifests": json.dumps({**hand_written(), "format": 2}).encode(),
    "format 3 without blobs": json.dumps({**hand_written(manifests=[]), "format": 3}).encode(),
    "format 5": json.dumps({**hand_written(), "format": 5}).encode(),
    "format 3 with fetched tags": json.dumps(
        {**hand_written(manifests=[], blobs=[], fetched_tags=[]), "format": 3}
    ).encode(),
    "format 4 without fetched tags": json.dumps({**hand_written(manifests=[], blobs=[]), "format": 4}).encode(),
    "a fetched tag the repository lacks": json.dumps(
        {**hand_written(manifests=[], blobs=[], fetched_tags=["other"]), "format": 4}
    ).encode(),
    "a fetched tag twice": json.dumps(
        {**hand_written(manifests=[], blobs=[], fetched_tags=["latest", "latest"]), "format": 4}
    ).encode(),
    "format 2 with blobs": json.dumps({**hand_written(manifests=[], blobs=[]), "format": 2}).encode(),
    "bad blob": json.dumps({**hand_written(manifests=[], blobs=["sha256:x"]), "format": 3}).encode(),
    "a blob twice": json.dumps({**hand_written(manifests=[], blobs=["sha256:" + "a" * 64] * 2), "format": 3}).encode(),
    "format 1 with manifests": json.dumps(hand_written(manifests=[])).encode(),
    "bad manifest": json.dumps(
        {**hand_written(manifests=[{"digest": "sha256:x", "media_type": "m", "size": 1}]), "format": 2}
    ).encode(),
    "format true": json.dumps({**hand_written(), "format": True}).encode(),
    "other namespace": json.dumps(hand_written("acme")).encode(),
    "missing key": json.dumps(_without("logo")).encode(),
    "unknown key": json.dumps(hand_written(colour="red")).encode(),
    "unknown top key": json.dumps({**hand_written(), "extra": 1}).encode(),
    "bad repo name": json.dumps(hand_written(repo_name="../x")).encode(),
    "bad type": json.dumps(hand_written(is_public="yes")).encode(),
    "negative count": json.dumps(hand_written(download=-1)).encode(),
    "bad stamp": json.dumps(hand_written(created="2015-05-13 01:04:48")).encode(),
    "bad tag": json.dumps(hand_written(tags=[{"tag": ".x", "image_id": IMAGE_A}])).encode(),
    "bad image id": json.dumps(hand_written(tags=[{"tag": "x", "image_id": "abc"}])).encode(),
    "duplicate tag": json.dumps(hand_written(tags=[{"tag": "x", "image_id": IMAGE_A}] * 2)).encode(),
    "duplicate repository": json.dumps(_twice()).encode(),
    "long description": json.dumps(hand_written(description="x" * 1001)).encode(),
    "bad star": json.dumps(hand_written(starred_by=[5])).encode(),
}


@pytest.mark.parametrize("name", BROKEN_FILES)
def test_a_broken_file_is_reported_and_never_overwritten(store, reader, tmp_path, name):
    path = tmp_path / "madams.json"
    path.write_bytes(BROKEN_FILES[name])
    with pytest.raises(CorruptNamespace) as raised:
        reader.list_repositories("madams")
    assert "madams" in str(raised.value)
    with pytest.raises(CorruptNamespace):
        store.create_repository("madams", "new")
    with pytest.raises(CorruptNamespace):
        store.delete_repository("madams", "test")
    assert path.read_bytes() == BROKEN_FILES[name]
    store.create_repository("acme", "fine")  # other namespaces are unaffected


def test_an_unchanged_file_is_parsed_once(store, tmp_path, monkeypatch):
    (tmp_path / "madams.json").write_text(json.dumps(hand_written()))
    parses = []
    decode = document.decode
    monkeypatch.setattr(document, "decode", lambda *args: parses.append(1) or decode(*args))
    fresh = NamespaceStore.on_disk(tmp_path, Clock())
    for _ in range(20):
        fresh.get_repository("madams", "test")
        fresh.list_repositories("madams")
    assert len(parses) == 1


def test_a_write_by_another_store_is_seen_by_this_one(store, tmp_path):
    other = NamespaceStore.on_disk(tmp_path, Clock())
    store.create_repository("madams", "repo")
    assert other.get_repository("madams", "repo")["description"] == ""
    store.update_repository("madams", "repo", description="seen")
    assert other.get_repository("madams", "repo")["description"] == "seen"
    other.delete_repository("madams", "repo")
    assert list(store.list_repositories("madams")) == []


def test_a_lock_not_obtained_in_time_raises_busy(tmp_path):
    import filelock

    store = NamespaceStore.on_disk(tmp_path, Clock(), lock_timeout=0.2)
    with filelock.FileLock(str(tmp_path / "madams.json.lock")), pytest.raises(NamespaceBusy) as raised:
        store.create_repository("madams", "repo")
    assert "madams" in str(raised.value)
    store.create_repository("madams", "repo")  # free again once released


def test_names_that_are_no_namespace_never_become_paths(store):
    for name in ["..", "../x", "a/b", "x\x00", "_hub", "A"]:
        with pytest.raises(ValueError):
            store.backend.path(name)


# The upstream's tags (format 4): what the mirror fetched follows the upstream until it is pushed here

FETCHED = {"digest": "sha256:" + IMAGE_A, "media_type": "application/vnd.oci.image.manifest.v1+json", "size": 2}


def test_a_fetched_tag_is_kept_as_the_upstreams_and_read_back(store, reader):
    store.record_fetched("library", "alpine", FETCHED, "latest")
    repository = reader.get_repository("library", "alpine")
    assert (repository["tags"], repository["fetched_tags"]) == ([{"tag": "latest", "image_id": IMAGE_A}], ["latest"])
    assert repository["manifests"] == [FETCHED]


def test_a_fetched_tag_pushed_here_or_deleted_is_no_longer_the_upstreams(store, reader):
    store.record_fetched("library", "alpine", FETCHED, "latest")
    store.record_fetched("library", "alpine", FETCHED, "edge")
    store.put_tag("library", "alpine", "latest", IMAGE_B)
    assert reader.get_repository("library", "alpine")["fetched_tags"] == ["edge"]
    store.delete_tag("library", "alpine", "edge")
    assert reader.get_repository("library", "alpine")["fetched_tags"] == []


def test_deleting_a_fetched_manifest_forgets_its_tags_as_the_upstreams(store, reader):
    store.record_fetched("library", "alpine", FETCHED, "latest")
    store.delete_manifest("library", "alpine", FETCHED["digest"])
    assert reader.get_repository("library", "alpine")["fetched_tags"] == []
