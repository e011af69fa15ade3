"""Docker's token protocol on /v2/, blobs that belong to repositories, and upload sessions that belong to callers."""

import base64
import json
import os

import pytest

import hubserver
from hubserver.controls.views import ADMIN_KEY
from hubserver.web import STORE_KEY

from helpers import OCI_MANIFEST, digest_of, oci_manifest

STAMP = "2015-06-07T10:41:31.882Z"
USERS = {
    "users": {
        "acme": {"password": "acme-pw"},
        "carol": {"password": "carol-pw", "orgs": ["acme"]},
        "bob": {"password": "bob-pw"},
    }
}


def basic(name):
    password = USERS["users"][name]["password"]
    return {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (name, password)).encode()).decode()}


def bearer(token):
    return {"Authorization": "Bearer " + token}


def codes(response):
    return [error["code"] for error in response.get_json()["errors"]]


def claims(token):
    """Return the claims of a token, read as anyone can read a JWT (without checking it)."""
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


@pytest.fixture
def guarded_app(tmp_path, data_dir):
    users = tmp_path / "users.json"
    users.write_text(json.dumps(USERS))
    config = {"DATA_DIR": str(data_dir), "USERS": str(users), "FROZEN_TIME": STAMP, "TOKEN_TTL": 10}
    return hubserver.create_app(config)


@pytest.fixture
def hub(guarded_app):
    return guarded_app.test_client()


def api_token(hub, name):
    """Return the hub API token header of ``name`` (the hub API takes no Basic credentials)."""
    password = USERS["users"][name]["password"]
    token = hub.post("/v1/generate-api-token/", json={"username": name, "password": password}).get_json()["token"]
    return {"Authorization": "Token " + token}


def token_for(hub, name=None, *scopes, **query):
    response = hub.get(
        "/v2/token",
        query_string={"service": "hubserver", "scope": list(scopes), **query},
        headers=basic(name) if name else {},
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def upload(hub, name, data, headers):
    location = hub.post("/v2/%s/blobs/uploads/" % name, headers=headers).headers["Location"]
    path = location.replace("http://localhost", "")
    response = hub.put(path + "?digest=" + digest_of(data), data=data, headers=headers)
    assert response.status_code == 201, response.get_json()
    return digest_of(data)


def image_manifest(hub, name, headers, words="layer"):
    config, layer = b'{"os": "linux"}', words.encode()
    upload(hub, name, config, headers)
    upload(hub, name, layer, headers)
    return oci_manifest(config, layer)


@pytest.mark.parametrize(
    "method, path, scope",
    [
        ("GET", "/v2/acme/app/tags/list", "repository:acme/app:pull"),
        ("HEAD", "/v2/acme/app/manifests/v1", "repository:acme/app:pull"),
        ("POST", "/v2/acme/app/blobs/uploads/", "repository:acme/app:pull,push"),
        ("DELETE", "/v2/acme/app/manifests/v1", "repository:acme/app:delete"),
        ("GET", "/v2/alpine/tags/list", "repository:library/alpine:pull"),
        ("GET", "/v2/_catalog", "registry:catalog:*"),
    ],
)
def test_a_request_without_credentials_is_challenged_for_the_scope_it_needs(hub, method, path, scope):
    response = hub.open(path, method=method)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="http://localhost/v2/token",service="hubserver",scope="%s"' % scope
    )


def test_a_token_answer_has_its_four_keys_and_a_refresh_token_when_asked(hub):
    answer = token_for(hub, "acme", "repository:acme/app:pull")
    assert sorted(answer) == ["access_token", "expires_in", "issued_at", "token"]
    assert (answer["token"] == answer["access_token"], answer["expires_in"], answer["issued_at"]) == (True, 10, STAMP)
    assert sorted(token_for(hub, "acme", offline_token="true")) == [
        "access_token",
        "expires_in",
        "issued_at",
        "refresh_token",
        "token",
    ]
    assert "refresh_token" not in token_for(hub, None, offline_token="true")  # anonymous: nothing to refresh


def test_a_token_grants_only_what_the_policy_allows(hub):
    owner = api_token(hub, "acme")
    assert (
        hub.post("/v1/repositories/acme/", json={"repo_name": "secret", "is_public": False}, headers=owner).status_code
        == 201
    )
    assert hub.post("/v1/repositories/acme/", json={"repo_name": "pub"}, headers=owner).status_code == 201
    asked = [
        "repository:acme/secret:pull,push",
        "repository:acme/pub:*",
        "repository:alpine:pull",
        "registry:catalog:*",
        "repository:not//valid:pull",
    ]

    def granted(name):
        return [(grant["name"], grant["actions"]) for grant in claims(token_for(hub, name, *asked)["token"])["access"]]

    assert granted("acme") == [
        ("acme/secret", ["pull", "push"]),
        ("acme/pub", ["delete", "pull", "push"]),
        ("library/alpine", []),
        ("catalog", ["*"]),
    ]
    assert granted("carol") == granted("acme")  # a member of the organisation
    assert granted("bob") == [("acme/secret", []), ("acme/pub", ["pull"]), ("library/alpine", []), ("catalog", ["*"])]
    assert granted(None) == granted("bob")  # anonymous: pull of public repositories
    assert claims(token_for(hub, "bob")["token"])["sub"] == "bob"


def test_a_token_works_within_its_scope_and_no_further(hub):
    manifest = image_manifest(hub, "acme/app", basic("acme"))
    assert (
        hub.put(
            "/v2/acme/app/manifests/v1", data=manifest, content_type=OCI_MANIFEST, headers=basic("acme")
        ).status_code
        == 201
    )
    pull = token_for(hub, "carol", "repository:acme/app:pull")["token"]
    assert hub.get("/v2/acme/app/manifests/v1", headers=bearer(pull)).data == manifest
    pushed = hub.post("/v2/acme/app/blobs/uploads/", headers=bearer(pull))
    assert pushed.status_code == 403 and codes(pushed) == ["DENIED"]  # RFC 6750: too narrow a token
    assert pushed.headers["WWW-Authenticate"].endswith(
        ',scope="repository:acme/app:pull,push",error="insufficient_scope"'
    )
    elsewhere = hub.get("/v2/acme/other/tags/list", headers=bearer(pull))
    assert elsewhere.status_code == 403  # carol could have a token for it: she is told to get one
    assert 'scope="repository:acme/other:pull"' in elsewhere.headers["WWW-Authenticate"]
    narrow_anonymous = hub.post("/v2/acme/app/blobs/uploads/", headers=bearer(token_for(hub, None)["token"]))
    assert narrow_anonymous.status_code == 401  # an anonymous token: credentials are what is missing
    outsider = token_for(hub, "bob", "repository:acme/app:pull,push")["token"]
    assert hub.get("/v2/acme/app/manifests/v1", headers=bearer(outsider)).status_code == 200  # public: pull only
    assert codes(hub.post("/v2/acme/app/blobs/uploads/", headers=bearer(outsider))) == ["DENIED"]
    anonymous = token_for(hub, None, "repository:acme/app:pull")["token"]
    assert hub.get("/v2/acme/app/manifests/v1", headers=bearer(anonymous)).status_code == 200
    assert hub.get("/v2/", headers=bearer(anonymous)).status_code == 200


@pytest.mark.parametrize("part", [0, 1, 2])
def test_a_token_with_one_byte_changed_is_refused(hub, part):
    token = token_for(hub, "acme", "repository:acme/app:pull,push")["token"]
    parts = token.split(".")
    changed = parts[part][:-2] + ("A" if parts[part][-2] != "A" else "B") + parts[part][-1]
    tampered = ".".join(parts[:part] + [changed] + parts[part + 1 :])
    response = hub.get("/v2/acme/app/tags/list", headers=bearer(tampered))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].endswith('error="invalid_token"')


def test_a_token_with_more_actions_written_in_is_refused(hub):
    token = token_for(hub, "bob", "repository:acme/app:push")["token"]
    head, payload, signature = token.split(".")
    escalated = claims(token)
    escalated["access"] = [{"type": "repository", "name": "acme/app", "actions": ["pull", "push"]}]
    forged = base64.urlsafe_b64encode(json.dumps(escalated).encode()).rstrip(b"=").decode()
    response = hub.post("/v2/acme/app/blobs/uploads/", headers=bearer("%s.%s.%s" % (head, forged, signature)))
    assert response.status_code == 401 and codes(response) == ["UNAUTHORIZED"]


def test_a_token_signed_by_another_hubserver_is_refused(hub, tmp_path):
    users = tmp_path / "users.json"
    other = hubserver.create_app({"DATA_DIR": str(tmp_path / "other"), "USERS": str(users), "FROZEN_TIME": STAMP})
    foreign = token_for(other.test_client(), "acme", "repository:acme/app:pull")["token"]
    assert hub.get("/v2/acme/app/tags/list", headers=bearer(foreign)).status_code == 401


def test_a_token_expires_on_the_frozen_clock(guarded_app, hub):
    token = token_for(hub, "acme", "repository:acme/app:pull,push")["token"]
    clock = guarded_app.extensions[ADMIN_KEY].clock
    clock.advance(9_999)
    assert hub.post("/v2/acme/app/blobs/uploads/", headers=bearer(token)).status_code == 202
    clock.advance(1)
    expired = hub.post("/v2/acme/app/blobs/uploads/", headers=bearer(token))
    assert expired.status_code == 401 and expired.headers["WWW-Authenticate"].endswith('error="invalid_token"')


def test_the_oauth2_form_gives_tokens_for_a_password_and_for_a_refresh_token(hub):
    form = {
        "grant_type": "password",
        "username": "acme",
        "password": "acme-pw",
        "service": "hubserver",
        "scope": "repository:acme/app:pull,push registry:catalog:*",
        "client_id": "tests",
        "access_type": "offline",
    }
    answer = hub.post("/v2/token", data=form).get_json()
    assert sorted(answer) == ["access_token", "expires_in", "issued_at", "refresh_token", "token"]
    assert hub.post("/v2/acme/app/blobs/uploads/", headers=bearer(answer["access_token"])).status_code == 202
    assert hub.get("/v2/_catalog", headers=bearer(answer["access_token"])).status_code == 200
    refreshed = hub.post(
        "/v2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": answer["refresh_token"],
            "service": "hubserver",
            "scope": "repository:acme/app:pull",
        },
    ).get_json()
    assert claims(refreshed["access_token"])["access"] == [
        {"type": "repository", "name": "acme/app", "actions": ["pull"]}
    ]
    wrong = hub.post("/v2/token", data={**form, "password": "nope"})
    assert (wrong.status_code, codes(wrong)) == (401, ["UNAUTHORIZED"])
    assert wrong.headers["WWW-Authenticate"] == 'Basic realm="hubserver"'
    unknown = hub.post("/v2/token", data={"grant_type": "client_credentials"})
    assert (unknown.status_code, codes(unknown)) == (400, ["UNSUPPORTED"])
    forged = hub.post("/v2/token", data={"grant_type": "refresh_token", "refresh_token": answer["access_token"]})
    assert forged.status_code == 401  # an access token is no refresh token


def test_wrong_basic_credentials_at_the_realm_are_refused(hub):
    response = hub.get("/v2/token", headers={"Authorization": "Basic " + base64.b64encode(b"acme:nope").decode()})
    assert (response.status_code, codes(response)) == (401, ["UNAUTHORIZED"])


def test_a_refresh_token_stops_working_when_its_user_leaves_the_users_file(hub, tmp_path):
    refresh = token_for(hub, "bob", offline_token="true")["refresh_token"]
    (tmp_path / "users.json").write_text(json.dumps({"users": {"acme": {"password": "acme-pw"}}}))
    response = hub.post("/v2/token", data={"grant_type": "refresh_token", "refresh_token": refresh})
    assert response.status_code == 401


def test_the_signing_secret_is_private_and_made_once(hub, data_dir):
    token_for(hub, "acme")
    secret = data_dir / "_token_secret"
    assert secret.stat().st_mode & 0o777 == 0o600
    first = secret.read_bytes()
    token_for(hub, "bob")
    assert secret.read_bytes() == first and len(first.strip()) == 64


# Blobs belong to repositories


def test_a_blob_is_read_only_through_a_repository_that_holds_it(client):
    digest = upload(client, "madams/app", b"app layer", {})
    assert client.get("/v2/madams/app/blobs/" + digest, buffered=True).status_code == 200
    for name in ("madams/other", "zz/nothing"):
        response = client.get("/v2/%s/blobs/%s" % (name, digest))
        assert (response.status_code, codes(response)) == (404, ["BLOB_UNKNOWN"])


def test_a_manifest_cannot_claim_another_repositorys_blob(client):
    manifest = image_manifest(client, "madams/app", {})
    response = client.put("/v2/madams/thief/manifests/v1", data=manifest, content_type=OCI_MANIFEST)
    assert (response.status_code, codes(response)) == (400, ["MANIFEST_BLOB_UNKNOWN", "MANIFEST_BLOB_UNKNOWN"])


def test_deleting_a_blob_lets_go_of_it_in_that_repository_only(client, data_dir):
    digest = upload(client, "madams/app", b"shared", {})
    assert client.post("/v2/madams/copy/blobs/uploads/?mount=%s&from=madams/app" % digest).status_code == 201
    assert client.delete("/v2/madams/copy/blobs/" + digest).status_code == 202
    assert codes(client.get("/v2/madams/copy/blobs/" + digest)) == ["BLOB_UNKNOWN"]
    assert client.get("/v2/madams/app/blobs/" + digest, buffered=True).status_code == 200
    assert codes(client.delete("/v2/madams/copy/blobs/" + digest)) == ["BLOB_UNKNOWN"]


def test_a_blob_a_manifest_names_cannot_be_deleted(client):
    manifest = image_manifest(client, "madams/app", {}, "named layer")
    client.put("/v2/madams/app/manifests/v1", data=manifest, content_type=OCI_MANIFEST)
    layer = json.loads(manifest)["layers"][0]["digest"]
    response = client.delete("/v2/madams/app/blobs/" + layer)
    assert (response.status_code, codes(response)) == (405, ["UNSUPPORTED"])
    assert response.get_json()["errors"][0]["detail"] == {"digest": layer, "named_by": digest_of(manifest)}
    assert client.get("/v2/madams/app/manifests/v1").data == manifest


def test_uploads_and_mounts_are_recorded_in_the_namespace_file(client, data_dir):
    digest = upload(client, "madams/app", b"recorded", {})
    stored = json.loads((data_dir / "madams.json").read_text())["repositories"][0]
    assert (stored["repo_name"], stored["blobs"], stored["is_public"]) == ("app", [digest], True)
    assert client.get("/v2/_catalog").get_json() == {"repositories": ["madams/app"]}


def test_a_data_directory_of_format_2_keeps_its_blobs_through_its_manifests(client, data_dir):
    manifest = image_manifest(client, "madams/app", {}, "older layer")
    client.put("/v2/madams/app/manifests/v1", data=manifest, content_type=OCI_MANIFEST)
    client.application.extensions[STORE_KEY].close()  # the log into the namespace file, which is then edited
    path = data_dir / "madams.json"
    document = json.loads(path.read_text())
    for repository in document["repositories"]:
        del repository["blobs"], repository["fetched_tags"]  # as hubserver wrote it before blobs were linked
    path.write_text(json.dumps({**document, "format": 2}))
    layer = json.loads(manifest)["layers"][0]["digest"]
    assert client.get("/v2/madams/app/blobs/" + layer, buffered=True).data == b"older layer"


# Upload sessions belong to the repository and the caller that opened them


def test_an_upload_answers_only_its_repository_and_its_caller(hub):
    location = hub.post("/v2/acme/app/blobs/uploads/", headers=basic("acme")).headers["Location"]
    path = location.replace("http://localhost", "")
    for headers, used in [(basic("carol"), path), (basic("acme"), path.replace("acme/app", "acme/other"))]:
        for method in ("GET", "PATCH", "PUT", "DELETE"):
            response = hub.open(
                used + ("?digest=" + digest_of(b"") if method == "PUT" else ""),
                method=method,
                data=b"x" if method == "PATCH" else None,
                headers=headers,
            )
            assert (response.status_code, codes(response)) == (404, ["BLOB_UPLOAD_UNKNOWN"]), (method, used)
    assert hub.get(path, headers=basic("acme")).status_code == 204  # still there, untouched
    assert hub.get(path, headers=basic("acme")).headers["Range"] == "0-0"


def test_without_accounts_an_upload_still_answers_only_its_repository(client):
    path = client.post("/v2/madams/app/blobs/uploads/").headers["Location"].replace("http://localhost", "")
    assert codes(client.get(path.replace("madams/app", "madams/other"))) == ["BLOB_UPLOAD_UNKNOWN"]
    assert client.get(path).status_code == 204


def test_without_accounts_v2_is_open_and_no_token_file_grows(client, data_dir):
    assert client.get("/v2/").status_code == 200
    for number in range(20):
        assert (
            client.post("/v1/generate-api-token/", json={"username": "u%d" % number, "password": "x"}).status_code
            == 200
        )
    assert not (data_dir / "_tokens.json").exists()
    assert not os.path.exists(data_dir / "_token_secret")
