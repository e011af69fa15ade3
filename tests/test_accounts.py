"""Accounts: tokens, the permission matrix, private repositories and stars."""

import json

import pytest
from werkzeug.security import generate_password_hash

import hubserver

from helpers import assert_error, assert_field_errors

STAMP = "2015-06-07T10:41:31.882Z"
IMAGE = "a" * 64
NOT_AUTHENTICATED = {"detail": "Authentication credentials were not provided."}
FORBIDDEN = {"detail": "You do not have permission to perform this action."}
NOT_FOUND = {"detail": "Not found."}
INVALID_TOKEN = {"detail": "Invalid token."}
CAROLS_HASH = generate_password_hash("hunter2", method="pbkdf2:sha256:1000")  # werkzeug's format, made quick


def repository(name, is_public):
    return {
        "repo_name": name,
        "description": "",
        "full_description": "",
        "is_public": is_public,
        "logo": "default-icon.jpg",
        "is_automated": False,
        "created": STAMP,
        "updated": STAMP,
        "download": 0,
        "upload": 0,
        "pulled_at": None,
        "pushed_at": None,
        "tags": [],
        "starred_by": [],
    }


@pytest.fixture
def users_file(tmp_path):
    path = tmp_path / "users.json"
    path.write_text(
        json.dumps(
            {
                "users": {
                    "madams": {"password": "secret"},
                    "carol": {"password_hash": CAROLS_HASH, "orgs": ["madams"]},
                    "bob": {"password": "bobpass", "orgs": ["acme"]},
                }
            }
        )
    )
    return path


@pytest.fixture
def seed(tmp_path):
    path = tmp_path / "seed.json"
    path.write_text(
        json.dumps(
            {"format": 1, "namespace": "madams", "repositories": [repository("pub", True), repository("priv", False)]}
        )
    )
    return path


@pytest.fixture
def hub(data_dir, users_file, seed):
    return hubserver.create_app({"DATA_DIR": str(data_dir), "USERS": str(users_file), "SEED": str(seed)}).test_client()


PASSWORDS = {"madams": "secret", "carol": "hunter2", "bob": "bobpass"}


def token(client, username):
    response = client.post("/v1/generate-api-token/", json={"username": username, "password": PASSWORDS[username]})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["token"]


def headers_of(client, who):
    """Return the Authorization headers of a kind of caller."""
    if who == "anonymous":
        return {}
    if who == "bad token":
        return {"Authorization": "Token " + "0" * 40}
    user = {"owner": "madams", "org member": "carol", "other user": "bob"}[who]
    return {"Authorization": "Token " + token(client, user)}


WHO = ["anonymous", "owner", "org member", "other user", "bad token"]


def expected(who, visible_to_others, ok_status, ok_body=None, star=False):
    """The answer a caller gets to a write (or star) on a repository."""
    if who == "bad token":
        return 401, INVALID_TOKEN
    if who == "anonymous":
        return 401, NOT_AUTHENTICATED
    if who == "other user":
        if not visible_to_others:
            return 404, NOT_FOUND
        return (ok_status, ok_body) if star else (403, FORBIDDEN)
    return ok_status, ok_body


def read_expected(who, public, ok_body=None):
    if who == "bad token":
        return 401, INVALID_TOKEN
    if public or who in ("owner", "org member"):
        return 200, ok_body
    return 404, NOT_FOUND


CASES = []
for who in WHO:
    for public in (True, False):
        name = "pub" if public else "priv"
        base = "/v1/repositories/madams/" + name
        CASES += [
            (who, public, "detail", "get", base, None, read_expected(who, public)),
            (who, public, "tags", "get", base + "/tags", None, read_expected(who, public, [])),
            (who, public, "update", "put", base, {"description": "x"}, expected(who, public, 200)),
            (who, public, "delete", "delete", base, None, expected(who, public, 204)),
            (
                who,
                public,
                "tag write",
                "put",
                base + "/tags/latest",
                {"image_id": IMAGE},
                expected(who, public, 201, {"image_id": IMAGE, "tag": "latest"}),
            ),
            (who, public, "star", "put", base + "/star", None, expected(who, public, 204, star=True)),
            (
                who,
                public,
                "create",
                "post",
                "/v1/repositories/madams/",
                {"repo_name": "new", "is_public": public},
                expected(who, True, 201),
            ),
        ]


@pytest.mark.parametrize(
    "who, public, action, method, path, body, answer",
    CASES,
    ids=["%s-%s-%s" % (c[0], "public" if c[1] else "private", c[2]) for c in CASES],
)
def test_the_permission_matrix(hub, who, public, action, method, path, body, answer):
    status, expected_body = answer
    response = getattr(hub, method)(path, json=body, headers=headers_of(hub, who))
    assert response.status_code == status, response.get_data(as_text=True)
    if expected_body is not None:
        assert response.get_json() == expected_body
    if status == 401:
        assert response.headers["WWW-Authenticate"] == "Token"
    if status in (204,):
        assert response.data == b""
    if status >= 400:
        assert hub.get("/v1/repositories/madams/", headers=headers_of(hub, "owner")).get_json()["count"] == 2


@pytest.mark.parametrize("who, count", [("anonymous", 1), ("owner", 2), ("org member", 2), ("other user", 1)])
def test_lists_leave_out_what_the_caller_may_not_see(hub, who, count):
    body = hub.get("/v1/repositories/madams/", headers=headers_of(hub, who)).get_json()
    assert body["count"] == count
    assert [item["repo_name"] for item in body["results"]] == ["pub", "priv"][:count]


def test_a_bad_token_is_401_on_every_path(hub):
    for path in ["/v1/repositories/madams/", "/v1/repositories/madams/pub", "/nowhere", "/_hub/health"]:
        response = hub.get(path, headers=headers_of(hub, "bad token"))
        assert_error(response, 401, INVALID_TOKEN)
        assert response.headers["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize(
    "header, detail",
    [
        ("Token", "Invalid token header. No credentials provided."),
        ("Token a b", "Invalid token header. Token string should not contain spaces."),
        ("token " + "0" * 40, "Invalid token."),
    ],
)
def test_malformed_token_headers_are_401_with_drf_messages(hub, header, detail):
    assert_error(hub.get("/v1/repositories/madams/", headers={"Authorization": header}), 401, {"detail": detail})


def test_other_schemes_are_anonymous_on_the_hub_api(hub):
    response = hub.get("/v1/repositories/madams/", headers={"Authorization": "Basic bWFkYW1zOnNlY3JldA=="})
    assert response.get_json()["count"] == 1


# Tokens


def test_a_token_is_40_hex_and_the_same_every_time_also_after_a_restart(data_dir, users_file, hub):
    first = hub.post("/v1/generate-api-token/", json={"username": "madams", "password": "secret"})
    assert first.status_code == 200
    assert list(first.get_json()) == ["token", "username"]
    value = first.get_json()["token"]
    assert len(value) == 40 and all(c in "0123456789abcdef" for c in value)
    again = hub.post("/v1/generate-api-token/", data={"username": "madams", "password": "secret"})
    assert again.get_json() == {"token": value, "username": "madams"}
    restarted = hubserver.create_app({"DATA_DIR": str(data_dir), "USERS": str(users_file)}).test_client()
    assert (
        restarted.post("/v1/generate-api-token/", json={"username": "madams", "password": "secret"}).get_json()["token"]
        == value
    )
    assert (
        restarted.get("/v1/repositories/madams/", headers={"Authorization": "Token " + value}).get_json()["count"] == 2
    )
    assert token(hub, "carol") != value


def test_tokens_live_in_a_file_that_cannot_be_a_namespace(data_dir, hub):
    token(hub, "madams")
    assert (data_dir / "_tokens.json").exists()
    assert [doc["namespace"] for doc in hub.get("/_hub/state").get_json()["namespaces"]] == ["madams"]


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "madams", "password": "wrong"},
        {"username": "nobody", "password": "secret"},
        {"username": "carol", "password": "secret"},
    ],
)
def test_wrong_credentials_are_a_400(hub, credentials):
    response = hub.post("/v1/generate-api-token/", json=credentials)
    assert_error(response, 400, {"non_field_errors": ["Unable to log in with provided credentials."]})


def test_a_missing_field_is_a_400_naming_it(hub):
    assert_error(
        hub.post("/v1/generate-api-token/", json={"password": "x"}), 400, {"username": ["This field is required."]}
    )
    assert_field_errors(hub.post("/v1/generate-api-token/", json={}), "username", "password")


def test_a_token_stops_working_when_its_user_leaves_the_users_file(hub, users_file):
    value = token(hub, "bob")
    users_file.write_text(json.dumps({"users": {"madams": {"password": "secret"}}}))
    assert_error(hub.get("/v1/repositories/madams/", headers={"Authorization": "Token " + value}), 401, INVALID_TOKEN)


@pytest.mark.parametrize(
    "contents",
    [
        "[]",
        "{not json",
        '{"users": {"Bad Name": {"password": "x"}}}',
        '{"users": {"a1": {}}}',
        '{"users": {"a1": {"password": "x", "password_hash": "y"}}}',
        '{"users": {"a1": {"password": "x", "orgs": "acme"}}}',
    ],
)
def test_a_broken_users_file_stops_the_start(tmp_path, data_dir, contents):
    from hubserver.accounts import AccountsFileError

    users = tmp_path / "users.json"
    users.write_text(contents)
    with pytest.raises(AccountsFileError):
        hubserver.create_app({"DATA_DIR": str(data_dir), "USERS": str(users)})


# Accounts off


def test_without_accounts_any_user_gets_a_stable_token_and_headers_are_ignored(client):
    first = client.post("/v1/generate-api-token/", json={"username": "anyone", "password": "whatever"}).get_json()
    second = client.post("/v1/generate-api-token/", json={"username": "anyone", "password": "other"}).get_json()
    assert first == second and first["username"] == "anyone"
    response = client.post(
        "/v1/repositories/madams/", json={"repo_name": "repo"}, headers={"Authorization": "Token nonsense"}
    )
    assert response.status_code == 201


def test_without_accounts_stars_need_credentials(client, make_repository):
    make_repository()
    response = client.put("/v1/repositories/madams/repo/star")
    assert_error(response, 401, NOT_AUTHENTICATED)
    assert response.headers["WWW-Authenticate"] == "Token"


# Stars


def test_stars_count_show_per_caller_and_do_not_change_updated(hub):
    owner, other = headers_of(hub, "owner"), headers_of(hub, "other user")
    before = hub.get("/v1/repositories/madams/pub").get_json()
    for _ in range(2):  # idempotent
        assert hub.put("/v1/repositories/madams/pub/star", headers=other).status_code == 204
    hub.put("/v1/repositories/madams/pub/star/", headers=owner)
    seen_by_other = hub.get("/v1/repositories/madams/pub", headers=other).get_json()
    assert (seen_by_other["repo_starred_count"], seen_by_other["is_repo_starred"]) == (2, True)
    assert seen_by_other["updated_at"] == before["updated_at"]
    assert hub.get("/v1/repositories/madams/pub").get_json()["is_repo_starred"] is False
    assert hub.delete("/v1/repositories/madams/pub/star", headers=other).status_code == 204
    assert hub.delete("/v1/repositories/madams/pub/star", headers=other).status_code == 204
    seen = hub.get("/v1/repositories/madams/pub", headers=other).get_json()
    assert (seen["repo_starred_count"], seen["is_repo_starred"]) == (1, False)
    listed = hub.get("/v1/repositories/madams/", headers=owner).get_json()["results"][0]
    assert listed["repo_starred_count"] == 1
    stored = hub.get("/_hub/state").get_json()["namespaces"][0]["repositories"][0]["starred_by"]
    assert stored == ["madams"]
