"""Server-side trouble over HTTP: a corrupt namespace file is a 500, a held lock a 503."""

import filelock
import pytest

import hubserver
from hubserver.storage import StorageError

from helpers import assert_error


@pytest.fixture
def corrupt(data_dir, make_repository):
    make_repository("acme", "fine")
    path = data_dir / "madams.json"
    path.write_text('{"format": 1, "namespace": "madams", "repositories": [')
    return path


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("get", "/v1/repositories/madams/", None),
        ("post", "/v1/repositories/madams/", {"repo_name": "repo"}),
        ("get", "/v1/repositories/madams/repo", None),
        ("put", "/v1/repositories/madams/repo", {"description": "x"}),
        ("delete", "/v1/repositories/madams/repo", None),
        ("get", "/v1/repositories/madams/repo/tags", None),
        ("put", "/v1/repositories/madams/repo/tags/latest", {"image_id": "a" * 64}),
    ],
)
def test_a_corrupt_namespace_file_is_a_500_naming_it_and_left_alone(client, corrupt, method, path, body):
    before = corrupt.read_bytes()
    response = getattr(client, method)(path, json=body)
    assert response.status_code == 500
    assert list(response.get_json()) == ["detail"]
    assert "madams" in response.get_json()["detail"]
    assert corrupt.read_bytes() == before
    assert client.get("/v1/repositories/acme/fine").status_code == 200


def test_a_lock_held_too_long_is_a_503(data_dir):
    client = hubserver.create_app({"DATA_DIR": str(data_dir), "LOCK_TIMEOUT": 0.2}).test_client()
    with filelock.FileLock(str(data_dir / "madams.json.lock")):
        response = client.post("/v1/repositories/madams/", json={"repo_name": "repo"})
    assert response.status_code == 503
    assert "madams" in response.get_json()["detail"]
    assert client.post("/v1/repositories/madams/", json={"repo_name": "repo"}).status_code == 201


def test_an_unexpected_error_is_a_json_500(app, client, monkeypatch):
    def explode(*args):
        raise RuntimeError("boom")

    monkeypatch.setattr(app.extensions["hubserver.store"], "list_repositories", explode)
    assert_error(client.get("/v1/repositories/madams/"), 500, {"detail": "A server error occurred."})


class QuotaExceeded(StorageError):
    """A kind of storage error no handler was ever told about."""

    status = 429
    detail = "The namespace's quota is used up."
    registry_code = "DENIED"


@pytest.mark.parametrize(
    "path, status, shape",
    [
        ("/v1/repositories/madams/", 429, {"detail": "The namespace's quota is used up."}),
        (
            "/v2/madams/app/tags/list",
            429,
            {"errors": [{"code": "DENIED", "message": "requested access to the resource is denied", "detail": None}]},
        ),
    ],
)
def test_a_new_storage_error_is_answered_from_its_own_attributes(app, client, monkeypatch, path, status, shape):
    def quota(*arguments, **keywords):
        raise QuotaExceeded("quota", "madams")

    monkeypatch.setattr(app.extensions["hubserver.store"], "list_repositories", quota)
    monkeypatch.setattr(app.extensions["hubserver.store"], "find_repository", quota)
    response = client.get(path)
    assert (response.status_code, response.get_json()) == (status, shape)
    page = client.get("/ui/madams", headers={"Accept": "text/html"})
    assert page.status_code == 429 and "quota is used up" in page.get_data(as_text=True)
