"""The repository endpoints of the seed: create, list, detail, update, delete."""

import json

import pytest

from helpers import DETAIL_KEYS, STAMP, assert_error, assert_field_errors

CREATED_KEYS = [
    "repo_name",
    "namespace",
    "repo_path",
    "is_automated",
    "description",
    "creation_time",
    "updated_time",
    "is_public",
    "logo",
]
LIST_ITEM_KEYS = [
    "repo_name",
    "namespace",
    "repo_path",
    "is_automated",
    "description",
    "creation_at",
    "updated_at",
    "is_public",
    "logo",
    "repo_starred_count",
    "full_description",
    "download",
    "upload",
    "pulled_at",
    "pushed_at",
]
UPDATED_KEYS = ["repo_name", "namespace", "repo_path", "description", "is_public", "logo"]
NOT_FOUND = {"detail": "Not found."}

BAD_NAMES = ["a", "A", "Ab", "-ab", "ab-", "a..b", "a__b", "a b", "ab/cd", "..", "é", "ab\x00", "_hub"]


def test_create_answers_the_seed_keys_with_defaults(client):
    response = client.post("/v1/repositories/madams/", json={"repo_name": "repo"})
    assert response.status_code == 201
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert list(body) == CREATED_KEYS
    assert STAMP.fullmatch(body["creation_time"])
    assert body == {
        "repo_name": "repo",
        "namespace": "madams",
        "repo_path": "madams/repo",
        "is_automated": False,
        "description": "",
        "creation_time": body["creation_time"],
        "updated_time": body["creation_time"],
        "is_public": True,
        "logo": "default-icon.jpg",
    }


def test_create_takes_the_seed_example_body(client):
    seed_example = {
        "repo_name": "repo",
        "description": "A repo docker image repository",
        "namespace": "madams",
        "is_public": True,
    }
    body = client.post("/v1/repositories/madams/", json=seed_example).get_json()
    assert body["description"] == "A repo docker image repository"
    assert body["is_public"] is True


def test_create_stores_every_writable_field(client):
    fields = {"repo_name": "repo", "description": "d", "full_description": "long text", "is_public": False}
    client.post("/v1/repositories/madams/", json=fields)
    detail = client.get("/v1/repositories/madams/repo").get_json()
    assert (detail["description"], detail["full_description"], detail["is_public"]) == ("d", "long text", False)


@pytest.mark.parametrize(
    "send",
    [
        lambda client, url, fields: client.post(url, data=fields),
        lambda client, url, fields: client.post(url, data=fields, content_type="multipart/form-data"),
    ],
    ids=["urlencoded", "multipart"],
)
def test_create_takes_form_bodies(client, send):
    response = send(client, "/v1/repositories/madams/", {"repo_name": "repo", "is_public": "false", "description": "x"})
    assert response.status_code == 201
    assert (response.get_json()["is_public"], response.get_json()["description"]) == (False, "x")


def test_create_coerces_and_trims_like_drf(client):
    body = client.post("/v1/repositories/madams/", json={"repo_name": " repo ", "description": 42}).get_json()
    assert (body["repo_name"], body["description"]) == ("repo", "42")


def test_create_existing_repository_is_a_conflict(client, make_repository):
    make_repository()
    response = client.post("/v1/repositories/madams/", json={"repo_name": "repo"})
    assert_error(response, 409, {"detail": "Repository madams/repo already exists."})


def test_same_repo_name_in_two_namespaces(client, make_repository):
    make_repository("madams", "repo")
    make_repository("acme", "repo")
    assert client.get("/v1/repositories/acme/repo").status_code == 200


@pytest.mark.parametrize("repo_name", BAD_NAMES + ["", "   ", "x" * 256, None, True, ["ab"], {"a": 1}])
def test_create_rejects_bad_repo_names(client, data_dir, repo_name):
    response = client.post("/v1/repositories/madams/", json={"repo_name": repo_name})
    assert_field_errors(response, "repo_name")
    assert not data_dir.exists() or not any(data_dir.iterdir())


def test_create_rejects_a_repo_path_over_255_characters(client):
    namespace = "n" * 200
    assert_field_errors(client.post("/v1/repositories/%s/" % namespace, json={"repo_name": "r" * 55}), "repo_name")
    assert client.post("/v1/repositories/%s/" % namespace, json={"repo_name": "r" * 54}).status_code == 201


@pytest.mark.parametrize("namespace", [name for name in BAD_NAMES if "/" not in name] + ["n" * 201])
def test_create_rejects_bad_namespaces(client, data_dir, namespace):
    response = client.post("/v1/repositories/%s/" % namespace, json={"repo_name": "repo"})
    assert_field_errors(response, "namespace")
    assert not data_dir.exists() or not any(data_dir.iterdir())


def test_create_rejects_a_body_namespace_that_differs_from_the_url(client):
    response = client.post("/v1/repositories/madams/", json={"repo_name": "repo", "namespace": "acme"})
    assert_field_errors(response, "namespace")


@pytest.mark.parametrize(
    "fields, named",
    [
        ({}, ["repo_name"]),
        ({"repo_name": "repo", "colour": "red"}, ["colour"]),
        ({"repo_name": "repo", "is_public": "maybe"}, ["is_public"]),
        ({"repo_name": "repo", "is_public": None}, ["is_public"]),
        ({"repo_name": "repo", "description": None}, ["description"]),
        ({"repo_name": "repo", "description": ["x"]}, ["description"]),
        ({"repo_name": "repo", "description": "x" * 1001}, ["description"]),
        ({"repo_name": "repo", "full_description": "x" * 100_001}, ["full_description"]),
        ({"repo_name": "repo", "logo": "x.png"}, ["logo"]),
        ({"repo_name": "repo", "is_automated": True}, ["is_automated"]),
        ({"repo_name": "repo", "repo_path": "madams/repo"}, ["repo_path"]),
        ({"description": 1, "is_public": 3, "extra": 1}, ["repo_name", "is_public", "extra"]),
    ],
)
def test_create_field_errors_name_each_bad_field(client, fields, named):
    assert_field_errors(client.post("/v1/repositories/madams/", json=fields), *named)


def test_create_field_error_messages_are_drf_wording(client):
    response = client.post("/v1/repositories/madams/", json={"is_public": "maybe", "description": "x" * 1001, "foo": 1})
    assert response.get_json() == {
        "repo_name": ["This field is required."],
        "is_public": ["Must be a valid boolean."],
        "description": ["Ensure this field has no more than 1000 characters."],
        "foo": ["Unknown field."],
    }


def test_list_answers_a_page_with_the_seed_keys(client, make_repository):
    make_repository(description="first")
    response = client.get("/v1/repositories/madams/")
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == ["count", "next", "previous", "results"]
    assert (body["count"], body["next"], body["previous"]) == (1, None, None)
    [item] = body["results"]
    assert list(item) == LIST_ITEM_KEYS
    assert item["repo_path"] == "madams/repo"
    assert item["description"] == "first"
    assert (item["repo_starred_count"], item["download"], item["upload"]) == (0, 0, 0)
    assert (item["pulled_at"], item["pushed_at"]) == (None, None)
    assert STAMP.fullmatch(item["creation_at"]) and item["updated_at"] == item["creation_at"]


def test_list_is_in_creation_order(client, make_repository):
    for name in ["zeta", "alpha", "mid"]:
        make_repository(repo_name=name)
    names = [item["repo_name"] for item in client.get("/v1/repositories/madams").get_json()["results"]]
    assert names == ["zeta", "alpha", "mid"]


def test_list_of_an_unknown_namespace_is_empty(client):
    response = client.get("/v1/repositories/nobody/")
    assert response.get_json() == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.parametrize("namespace", ["A", "_hub", "..", "a--", "n" * 201])
def test_list_of_an_impossible_namespace_is_not_found(client, namespace):
    assert_error(client.get("/v1/repositories/%s/" % namespace), 404, NOT_FOUND)


def test_detail_answers_the_seed_keys(client, make_repository):
    created = make_repository(description="test", full_description="test contain 2 tags", is_public=False)
    response = client.get("/v1/repositories/madams/repo")
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == DETAIL_KEYS
    assert body == {
        "namespace": "madams",
        "repo_name": "repo",
        "repo_path": "madams/repo",
        "logo_file": "/static/images/user/default-logo.png",
        "description": "test",
        "full_description": "test contain 2 tags",
        "repo_starred_count": 0,
        "created_at": created["creation_time"],
        "updated_at": created["updated_time"],
        "is_public": False,
        "logo": "default-icon.jpg",
        "is_automated": False,
        "download": 0,
        "upload": 0,
        "pulled_at": None,
        "pushed_at": None,
        "is_repo_starred": False,
    }


@pytest.mark.parametrize(
    "path", ["/v1/repositories/madams/nothing", "/v1/repositories/nobody/repo", "/v1/repositories/madams/A"]
)
def test_detail_of_an_unknown_repository_is_not_found(client, make_repository, path):
    make_repository()
    assert_error(client.get(path), 404, NOT_FOUND)


@pytest.mark.parametrize("method", ["put", "patch"])
def test_update_changes_fields_and_answers_the_seed_keys(client, make_repository, method):
    created = make_repository()
    changes = {"description": "new", "full_description": "more", "is_public": False, "logo": "mine.png"}
    response = getattr(client, method)("/v1/repositories/madams/repo", json=changes)
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == UPDATED_KEYS
    assert body == {
        "repo_name": "repo",
        "namespace": "madams",
        "repo_path": "madams/repo",
        "description": "new",
        "is_public": False,
        "logo": "mine.png",
    }
    detail = client.get("/v1/repositories/madams/repo").get_json()
    assert detail["full_description"] == "more"
    assert detail["created_at"] == created["creation_time"]
    assert detail["updated_at"] > created["updated_time"]


def test_update_with_a_partial_body_keeps_the_rest(client, make_repository):
    make_repository(description="kept", is_public=False)
    body = client.put("/v1/repositories/madams/repo/", json={"logo": "x.png"}).get_json()
    assert (body["description"], body["is_public"], body["logo"]) == ("kept", False, "x.png")


def test_every_update_moves_updated_strictly_forward(client, make_repository):
    make_repository()
    stamps = []
    for index in range(5):
        client.put("/v1/repositories/madams/repo", json={"description": str(index)})
        stamps.append(client.get("/v1/repositories/madams/repo").get_json()["updated_at"])
    assert stamps == sorted(set(stamps))


def test_update_accepts_the_current_names_in_the_body(client, make_repository):
    make_repository()
    response = client.put("/v1/repositories/madams/repo", json={"repo_name": "repo", "namespace": "madams"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "fields, named",
    [
        ({"repo_name": "other"}, ["repo_name"]),
        ({"namespace": "acme"}, ["namespace"]),
        ({"is_automated": True}, ["is_automated"]),
        ({"download": 5}, ["download"]),
        ({"logo": "x" * 256}, ["logo"]),
        ({"is_public": "perhaps", "colour": 1}, ["is_public", "colour"]),
    ],
)
def test_update_rejects_other_keys_and_bad_values(client, make_repository, fields, named):
    make_repository(description="kept")
    assert_field_errors(client.put("/v1/repositories/madams/repo", json=fields), *named)
    assert client.get("/v1/repositories/madams/repo").get_json()["description"] == "kept"


def test_update_of_an_unknown_repository_is_not_found(client):
    assert_error(client.put("/v1/repositories/madams/repo", json={"description": "x"}), 404, NOT_FOUND)
    assert_error(client.put("/v1/repositories/madams/repo", json={"colour": "x"}), 404, NOT_FOUND)


def test_delete_repository_answers_204_without_a_body(client, make_repository):
    make_repository()
    response = client.delete("/v1/repositories/madams/repo/")
    assert response.status_code == 204
    assert response.data == b""
    assert "Content-Type" not in response.headers
    assert_error(client.get("/v1/repositories/madams/repo"), 404, NOT_FOUND)
    assert client.get("/v1/repositories/madams/").get_json()["count"] == 0


def test_delete_takes_the_tags_with_it(client, make_repository):
    make_repository()
    client.put("/v1/repositories/madams/repo/tags/latest", json={"image_id": "a" * 64})
    client.delete("/v1/repositories/madams/repo")
    make_repository()
    assert client.get("/v1/repositories/madams/repo/tags").get_json() == []


@pytest.mark.parametrize(
    "path", ["/v1/repositories/madams/repo/", "/v1/repositories/nobody/repo", "/v1/repositories/A/repo"]
)
def test_delete_of_an_unknown_repository_is_not_found(client, data_dir, path):
    assert_error(client.delete(path), 404, NOT_FOUND)
    assert not data_dir.exists() or not any(data_dir.iterdir())


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("post", "/v1/repositories/madams", 201),
        ("get", "/v1/repositories/madams", 200),
        ("get", "/v1/repositories/madams/repo/", 200),
        ("put", "/v1/repositories/madams/repo/", 200),
        ("get", "/v1/repositories/madams/repo/tags/", 200),
        ("put", "/v1/repositories/madams/repo/tags/v1/", 201),
        ("get", "/v1/repositories/madams/repo/tags/latest/", 200),
        ("delete", "/v1/repositories/madams/repo/tags/latest/", 204),
        ("delete", "/v1/repositories/madams/repo", 204),
    ],
)
def test_every_path_answers_with_and_without_its_trailing_slash(client, make_repository, method, path, status):
    make_repository()
    client.put("/v1/repositories/madams/repo/tags/latest", json={"image_id": "a" * 64})
    body = {"repo_name": "other"} if method == "post" else {"image_id": "b" * 64} if "tags/v1" in path else {}
    response = getattr(client, method)(path, json=body)
    assert response.status_code == status
    assert response.headers.get("Location") is None


@pytest.mark.parametrize(
    "method, path, allowed",
    [
        ("patch", "/v1/repositories/madams/", "GET, HEAD, OPTIONS, POST"),
        ("post", "/v1/repositories/madams/repo", "DELETE, GET, HEAD, OPTIONS, PATCH, PUT"),
        ("post", "/v1/repositories/madams/repo/tags", "GET, HEAD, OPTIONS"),
    ],
)
def test_a_wrong_method_is_405_with_allow(client, method, path, allowed):
    response = getattr(client, method)(path)
    assert_error(response, 405, {"detail": 'Method "%s" not allowed.' % method.upper()})
    assert response.headers["Allow"] == allowed


def test_an_unknown_path_is_a_json_404(client):
    assert_error(client.get("/v3/nothing/here"), 404, NOT_FOUND)


def test_options_answers_json_with_allow(client):
    response = client.options("/v1/repositories/madams/repo/tags/latest")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Allow"] == "DELETE, GET, HEAD, OPTIONS, PUT"
    body = response.get_json()
    assert list(body) == ["name", "description", "renders", "parses"]
    assert body["parses"] == ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"]


def test_head_answers_like_get_without_a_body(client, make_repository):
    make_repository()
    response = client.head("/v1/repositories/madams/repo")
    assert (response.status_code, response.data, response.mimetype) == (200, b"", "application/json")


def test_the_list_page_is_exactly_what_its_schema_dumps(app, client, make_repository):
    from hubserver import schemas

    make_repository(description="first")
    make_repository(repo_name="second")
    body = client.get("/v1/repositories/madams/?page_size=1").get_json()
    store = app.extensions["hubserver.store"]
    expected = schemas.REPOSITORY_PAGE.schema.dump(
        {
            "count": 2,
            "next": "http://localhost/v1/repositories/madams/?page=2&page_size=1",
            "previous": None,
            "results": [{**store.get_repository("madams", "repo"), "namespace": "madams", "is_repo_starred": False}],
        }
    )
    assert body == expected and list(body["results"][0]) == LIST_ITEM_KEYS


def test_a_listed_repository_shows_its_changes_at_once(client, make_repository):
    make_repository(description="before")
    assert client.get("/v1/repositories/madams/").get_json()["results"][0]["description"] == "before"
    client.put("/v1/repositories/madams/repo", json={"description": "after"})
    assert client.get("/v1/repositories/madams/").get_json()["results"][0]["description"] == "after"
    client.put("/v1/repositories/madams/repo/tags/latest", json={"image_id": "a" * 64})
    assert client.get("/v1/repositories/madams/").get_json()["results"][0]["upload"] == 1


def test_a_list_answer_is_written_exactly_as_drfs_renderer_writes_it(client, make_repository):
    make_repository(description="café ☕")
    make_repository(repo_name="second")
    response = client.get("/v1/repositories/madams/?page_size=1")
    expected = json.dumps(response.get_json(), separators=(",", ":"), ensure_ascii=False).encode()
    assert response.data == expected  # compact throughout, UTF-8, no newline at the end
    detail = client.get("/v1/repositories/madams/repo")
    assert detail.data == json.dumps(detail.get_json(), separators=(",", ":"), ensure_ascii=False).encode()
