"""Accounts: tokens, the permission matrix, private repositories and stars."""

import base64
import json
import threading

import pytest
from werkzeug.security import generate_password_hash

import hubserver
from hubserver.accounts import LoginThrottle, Throttled, TokenStore
from hubserver.accounts import users as users_module
from hubserver.accounts.api_tokens import TOKENS_FILE
from hubserver.controls.views import ADMIN_KEY

from helpers import assert_error, assert_field_errors, file_repository

STAMP = "2015-06-07T10:41:31.882Z"
IMAGE = "a" * 64
NOT_AUTHENTICATED = {"detail": "Authentication credentials were not provided."}
FORBIDDEN = {"detail": "You do not have permission to perform this action."}
NOT_FOUND = {"detail": "Not found."}
INVALID_TOKEN = {"detail": "Invalid token."}
CAROLS_HASH = generate_password_hash("hunter2", method="pbkdf2:sha256:1000")  # werkzeug's format, made quick


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
                    "root": {"password": "rootpass", "admin": True},
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
            {
                "format": 1,
                "namespace": "madams",
                "repositories": [file_repository("pub", STAMP, 1), file_repository("priv", STAMP, 1, is_public=False)],
            }
        )
    )
    return path


@pytest.fixture
def hub(data_dir, users_file, seed):
    return hubserver.create_app({"DATA_DIR": str(data_dir), "USERS": str(users_file), "SEED": str(seed)}).test_client()


PASSWORDS = {"madams": "secret", "carol": "hunter2", "bob": "bobpass", "root": "rootpass"}


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


def test_with_the_memory_storage_tokens_and_the_token_secret_stay_in_memory(tmp_path, users_file, seed):
    config = {"STORAGE": "memory", "DATA_DIR": str(tmp_path / "data"), "USERS": str(users_file), "SEED": str(seed)}
    hub = hubserver.create_app(config).test_client()
    value = token(hub, "madams")
    assert token(hub, "madams") == value
    assert hub.get("/v1/repositories/madams/", headers={"Authorization": "Token " + value}).get_json()["count"] == 2
    credentials = {"Authorization": "Basic " + base64.b64encode(b"madams:secret").decode()}
    granted = hub.get(
        "/v2/token", query_string={"service": "hubserver", "scope": "repository:madams/priv:pull"}, headers=credentials
    )
    assert granted.status_code == 200, granted.get_json()
    bearer = {"Authorization": "Bearer " + granted.get_json()["token"]}
    assert hub.get("/v2/madams/priv/tags/list", headers=bearer).status_code == 200
    assert sorted(path.name for path in tmp_path.iterdir()) == ["seed.json", "users.json"]
    restarted = hubserver.create_app(config).test_client()  # a new process: its own tokens and secret
    assert restarted.get("/v1/repositories/madams/", headers={"Authorization": "Token " + value}).status_code == 401
    assert restarted.get("/v2/madams/priv/tags/list", headers=bearer).status_code == 401


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


def test_tokens_live_in_a_file_that_cannot_be_a_namespace_readable_by_its_owner_only(data_dir, hub):
    token(hub, "madams")
    assert (data_dir / "_tokens.json").stat().st_mode & 0o777 == 0o600
    state = hub.get("/_hub/state", headers={"Authorization": "Token " + token(hub, "root")}).get_json()
    assert [doc["namespace"] for doc in state["namespaces"]] == ["madams"]


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
    admin = {"Authorization": "Token " + token(hub, "root")}
    stored = hub.get("/_hub/state", headers=admin).get_json()["namespaces"][0]["repositories"][0]["starred_by"]
    assert stored == ["madams"]


# Logins: throttled, and the same time whether or not the user exists


def failed_login(hub, username, address="10.0.0.1"):
    return hub.post(
        "/v1/generate-api-token/",
        json={"username": username, "password": "wrong"},
        environ_base={"REMOTE_ADDR": address},
    )


def test_too_many_failed_logins_for_a_name_are_throttled_as_drf_throttles(hub):
    for _ in range(10):
        assert failed_login(hub, "madams").status_code == 400
    throttled = failed_login(hub, "madams", "10.0.0.99")  # from elsewhere too: the name is throttled
    wait = throttled.headers["Retry-After"]
    assert throttled.status_code == 429 and 55 <= int(wait) <= 60
    assert throttled.get_json() == {"detail": "Request was throttled. Expected available in %s seconds." % wait}
    right = hub.post(
        "/v1/generate-api-token/",
        json={"username": "madams", "password": "secret"},
        environ_base={"REMOTE_ADDR": "10.0.0.99"},
    )
    assert right.status_code == 429  # throttled before the password is looked at: no oracle either
    other = hub.post(
        "/v1/generate-api-token/",
        json={"username": "bob", "password": "bobpass"},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
    )
    assert other.status_code == 200  # someone else's failures against another name do not slow bob


def test_too_many_failed_logins_from_an_address_are_throttled_whatever_the_name(hub):
    for number in range(10):
        assert failed_login(hub, "user%d" % number, "10.0.0.7").status_code == 400
    assert failed_login(hub, "yet-another", "10.0.0.7").status_code == 429
    assert failed_login(hub, "yet-another", "10.0.0.8").status_code == 400


def test_basic_logins_on_v2_and_the_controls_count_and_are_throttled_too(hub):
    wrong = {"Authorization": "Basic " + base64.b64encode(b"root:wrong").decode()}
    for _ in range(10):
        assert hub.get("/_hub/health", headers=wrong).status_code == 401
    throttled = hub.get("/v2/", headers=wrong)
    assert throttled.status_code == 429 and throttled.get_json()["errors"][0]["code"] == "TOOMANYREQUESTS"
    assert int(throttled.headers["Retry-After"]) > 0
    assert hub.get("/_hub/health", headers=wrong).status_code == 429


def test_the_throttle_forgets_failures_a_minute_old():
    now = [1000.0]
    throttle = LoginThrottle(3, now=lambda: now[0])
    for _ in range(3):
        throttle.failed("madams", "10.0.0.1")
    with pytest.raises(Throttled) as refused:
        throttle.check("madams", "10.0.0.2")
    assert refused.value.wait == 60
    now[0] += 59.5
    with pytest.raises(Throttled) as refused:
        throttle.check("madams", "10.0.0.2")
    assert (refused.value.wait, str(refused.value)) == (1, "Request was throttled. Expected available in 1 second.")
    now[0] += 0.5
    throttle.check("madams", "10.0.0.2")


def test_a_wrong_password_costs_the_same_work_whether_or_not_the_user_exists(tmp_path, data_dir, monkeypatch):
    users = tmp_path / "slow-users.json"
    slow = generate_password_hash("right", method="pbkdf2:sha256:200000")
    users.write_text(json.dumps({"users": {"carol": {"password_hash": slow}, "dave": {"password": "plain"}}}))
    hub = hubserver.create_app({"DATA_DIR": str(data_dir), "USERS": str(users), "LOGIN_RATE": 1000}).test_client()
    checked = []

    def check(password_hash, password):
        checked.append(password_hash)
        return real_check(password_hash, password)

    real_check = users_module.check_password_hash
    monkeypatch.setattr(users_module, "check_password_hash", check)
    for username in ("carol", "nobody"):
        answer = hub.post("/v1/generate-api-token/", json={"username": username, "password": "wrong"})
        assert answer.status_code == 400
    assert checked == [slow, slow]  # the unknown name costs one check of the same hash: bench/refusals.py times it


# The controls, with accounts on


def test_only_an_admin_may_use_the_controls_with_a_token_or_basic_credentials(hub):
    assert hub.get("/_hub/health", headers={"Authorization": "Token " + token(hub, "root")}).status_code == 200
    root = {"Authorization": "Basic " + base64.b64encode(b"root:rootpass").decode()}
    assert hub.get("/_hub/requests", headers=root).status_code == 200
    assert_error(hub.get("/_hub/state"), 401, NOT_AUTHENTICATED)
    assert_error(hub.post("/_hub/reset", headers=headers_of(hub, "owner")), 403, FORBIDDEN)
    assert_error(
        hub.get("/_hub/health", headers={"Authorization": "Basic " + base64.b64encode(b"root:no").decode()}),
        401,
        {"detail": "Invalid username/password."},
    )
    assert hub.get("/v1/repositories/madams/priv", headers=headers_of(hub, "owner")).status_code == 200  # untouched


def test_the_journal_never_holds_a_password_or_a_token(hub):
    root = {"Authorization": "Token " + token(hub, "root")}
    hub.post("/v1/generate-api-token/", json={"username": "madams", "password": "secret"})
    hub.post("/v1/generate-api-token/", data={"username": "bob", "password": "bobpass"})
    hub.post("/v2/token", data={"grant_type": "refresh_token", "refresh_token": "a-refresh-secret"})
    hub.get("/v2/token?scope=repository:madams/pub:pull&refresh_token=query-secret&password=query-password")
    entries = hub.get("/_hub/requests", headers=root).get_json()["requests"]
    bodies = [entry["body"] for entry in entries if entry["body"]]
    assert {"username": "madams", "password": "***"} in bodies
    assert {"username": "bob", "password": "***"} in bodies
    assert {"grant_type": "refresh_token", "refresh_token": "***"} in bodies
    query = [entry["query"] for entry in entries if entry["path"] == "/v2/token" and entry["query"]][0]
    assert "query-secret" not in query and "query-password" not in query and "scope=repository" in query
    journal = hub.application.extensions[ADMIN_KEY].journal
    held = repr(list(journal._entries))  # what it keeps in memory, not only what it shows
    for secret in ("secret", "bobpass", "rootpass", "a-refresh-secret", "query-secret", "query-password"):
        assert secret not in held, secret


def test_pages_and_the_openapi_document_name_no_private_repository(hub):
    for path in ["/", "/ui/madams", "/openapi.json"]:
        for headers in ({"Accept": "text/html"}, {}):
            body = hub.get(path, headers=headers).get_data(as_text=True)
            assert "priv" not in body.replace("private", ""), (path, headers)
    hidden = hub.get("/ui/madams/priv", headers={"Accept": "text/html"})
    missing = hub.get("/ui/madams/nothing", headers={"Accept": "text/html"})
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_data(as_text=True).replace("priv", "nothing") == missing.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/ui/madams", "/ui/madams/pub"])
def test_a_stale_token_on_a_page_is_a_401_page_not_a_500(hub, path):
    response = hub.get(path, headers={"Authorization": "Token " + "f" * 40, "Accept": "text/html"})
    assert response.status_code == 401
    assert response.mimetype == "text/html" and "Invalid token." in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/v1/repositories/madams/", "/v1/repositories/madams/pub", "/"])
def test_a_stale_token_on_the_hub_api_is_drfs_401(hub, path):
    response = hub.get(path, headers={"Authorization": "Token " + "f" * 40})
    assert_error(response, 401, INVALID_TOKEN)
    assert response.headers["WWW-Authenticate"] == "Token"


def test_tokens_made_by_many_threads_at_once_are_all_kept(tmp_path):
    store = TokenStore(str(tmp_path / TOKENS_FILE), 10.0)
    users = ["user%02d" % number for number in range(16)]
    given = {}
    start = threading.Barrier(len(users))

    def ask(user):
        start.wait()
        given[user] = store.token_for(user)

    threads = [threading.Thread(target=ask, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    again = TokenStore(str(tmp_path / TOKENS_FILE), 10.0)  # as a restarted server reads the file
    assert {user: again.user_for(token) for user, token in given.items()} == {user: user for user in users}
