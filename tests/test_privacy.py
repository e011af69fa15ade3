"""Private images stay private on every route, tried through the real server by everyone who might try.

Namespace ``acme`` holds a private image (``acme/secret``) and a public one
(``acme/pub``); ``bob/mine`` is bob's public image. The callers: acme itself
(the owner), carol (a member of the acme organisation), bob (another user),
anonymous, a bad token, an expired token, and a token of carol's for another
repository. Every route is tried by every caller on both images; each answer
is checked against the rule docs/api.md states, and no answer to anyone but
the owner and the member may hold a private byte.
"""

import base64
import json

import pytest

from helpers import OCI_MANIFEST, digest_of, oci_manifest, running_server, send

STAMP = "2015-06-07T10:41:31.882Z"
USERS = {
    "users": {
        "acme": {"password": "acme-pw"},
        "carol": {"password": "carol-pw", "orgs": ["acme"]},
        "bob": {"password": "bob-pw"},
        "root": {"password": "root-pw", "admin": True},
    }
}
# Who may act for which namespaces, and which repositories anyone may read: the policy as a user states it.
ACTS_FOR = {"owner": {"acme"}, "member": {"acme"}, "other": {"bob"}, "scoped": {"acme"}}
PUBLIC = {"acme/pub", "bob/mine"}
BASIC_CALLERS = {"owner": "acme", "member": "carol", "other": "bob"}
CALLERS = ["anonymous", "owner", "member", "other", "bad token", "expired token", "scoped"]
SCOPED_GRANT = {"bob/mine": {"pull"}}  # carol's token, asked for bob/mine only
OK, HIDDEN, DENIED, CHALLENGE, NARROW = "ok", "hidden", "denied", "challenge", "narrow"


def basic(name):
    password = USERS["users"][name]["password"]
    return {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (name, password)).encode()).decode()}


def outcome(caller, name, action):
    """Return what the rule says ``caller`` gets for ``action`` on the repository ``name``."""
    if caller in ("anonymous", "bad token", "expired token"):
        return CHALLENGE
    allowed = name.split("/")[0] in ACTS_FOR[caller] or (action == "pull" and name in PUBLIC)
    if caller == "scoped" and action not in SCOPED_GRANT.get(name, ()):
        if allowed:
            return NARROW  # the policy would grant it: a wider token can be had
    elif allowed:
        return OK
    return HIDDEN if action == "pull" else DENIED


class Image:
    """An image pushed to a repository: its config, one layer, and its manifest."""

    def __init__(self, url, name, words, headers):
        self.name = name
        self.config = ('{"architecture": "amd64", "os": "linux", "note": "%s config"}' % words).encode()
        self.layer = ("%s LAYER BYTES" % words).encode()
        for data in (self.config, self.layer):
            location = send(url, "POST", "/v2/%s/blobs/uploads/" % name, headers=headers).headers["Location"]
            path = location.split("127.0.0.1", 1)[1].split("/", 1)[1]
            sent = send(url, "PUT", "/%s?digest=%s" % (path, digest_of(data)), data, headers)
            assert sent.status == 201, sent.body
        self.manifest = oci_manifest(self.config, self.layer)
        put_headers = {**headers, "Content-Type": OCI_MANIFEST}
        assert send(url, "PUT", "/v2/%s/manifests/v1" % name, self.manifest, put_headers).status == 201

    def secrets(self):
        return [self.config, self.layer, self.manifest]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The running server, its images, and the headers each caller sends."""
    folder = tmp_path_factory.mktemp("privacy")
    (folder / "users.json").write_text(json.dumps(USERS))
    with running_server(folder / "data", "--users", str(folder / "users.json"), "--frozen-time", STAMP) as (_, url):
        token = send(url, "POST", "/v1/generate-api-token/", {"username": "acme", "password": "acme-pw"}).json()
        made = send(
            url,
            "POST",
            "/v1/repositories/acme/",
            {"repo_name": "secret", "is_public": False},
            {"Authorization": "Token " + token["token"]},
        )
        assert made.status == 201
        images = {
            "acme/secret": Image(url, "acme/secret", "PRIVATE", basic("acme")),
            "acme/pub": Image(url, "acme/pub", "public", basic("acme")),
            "bob/mine": Image(url, "bob/mine", "bobs", basic("bob")),
        }
        wide = "scope=repository:acme/secret:pull,push,delete&scope=repository:acme/pub:pull,push,delete"
        expiring = send(url, "GET", "/v2/token?service=hubserver&" + wide, headers=basic("acme")).json()["token"]
        bearer = {"Authorization": "Bearer " + expiring}
        assert send(url, "GET", "/v2/acme/secret/manifests/v1", headers=bearer).status == 200
        moved = send(url, "PUT", "/_hub/clock", {"advance_ms": 301_000}, basic("root"))
        assert moved.status == 200
        expired = send(url, "GET", "/v2/acme/secret/manifests/v1", headers=bearer)
        assert expired.status == 401 and 'error="invalid_token"' in expired.headers["WWW-Authenticate"]
        scoped = send(url, "GET", "/v2/token?scope=repository:bob/mine:pull", headers=basic("carol")).json()["token"]
        headers = {
            "anonymous": {},
            **{caller: basic(name) for caller, name in BASIC_CALLERS.items()},
            "bad token": {"Authorization": "Bearer not.a.token"},
            "expired token": {"Authorization": "Bearer " + expiring},
            "scoped": {"Authorization": "Bearer " + scoped},
        }
        yield url, images, headers


def check(answer, expected, world, caller, body=None):
    """Check an answer's status (and error code, and body), and that it holds no private byte for outsiders."""
    status, code = expected[:2]
    detail = "%s got %d %s" % (caller, answer.status, answer.body[:300])
    assert answer.status == status, detail
    if code is not None:
        assert [error["code"] for error in answer.json()["errors"]] == [code], detail
    if status == 401 and answer.headers.get("Docker-Distribution-API-Version"):
        assert answer.headers["WWW-Authenticate"].startswith('Bearer realm="http://127.0.0.1:'), detail
    if expected is NARROW_ANSWER:
        assert answer.headers["WWW-Authenticate"].endswith('error="insufficient_scope"'), detail
    if body is not None:
        assert answer.body == body
    if caller not in ("owner", "member"):
        for secret in world[1]["acme/secret"].secrets():
            assert secret not in answer.body, detail


NARROW_ANSWER = (403, "DENIED", "with a challenge for the scope needed")


def pull_answer(result, found, unknown_code):
    """The status and code a pull route answers for an outcome: ``found`` when it is allowed."""
    return {OK: found, HIDDEN: (404, unknown_code), CHALLENGE: (401, "UNAUTHORIZED"), NARROW: NARROW_ANSWER}[result]


def write_answer(result, done):
    return {OK: done, DENIED: (403, "DENIED"), CHALLENGE: (401, "UNAUTHORIZED"), NARROW: NARROW_ANSWER}[result]


TARGETS = ["acme/secret", "acme/pub"]
EMPTY_INDEX = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []}


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("caller", CALLERS)
def test_blobs_by_every_name(world, caller, target):
    url, images, headers = world
    image = images[target]
    blob = "/blobs/" + digest_of(image.layer)
    result = outcome(caller, target, "pull")
    got = send(url, "GET", "/v2/%s%s" % (target, blob), headers=headers[caller])
    check(got, pull_answer(result, (200, None), "BLOB_UNKNOWN"), world, caller, image.layer if result == OK else None)
    head = send(url, "HEAD", "/v2/%s%s" % (target, blob), headers=headers[caller])
    assert head.status == got.status  # the same answer, without a body
    other = "bob/mine" if target == "acme/pub" else "acme/pub"  # readable by all who may read, not holding it
    for name in (other, "zz/nothing"):
        answer = send(url, "GET", "/v2/%s%s" % (name, blob), headers=headers[caller])
        check(answer, pull_answer(outcome(caller, name, "pull"), (404, "BLOB_UNKNOWN"), "BLOB_UNKNOWN"), world, caller)
    deleted = send(url, "DELETE", "/v2/%s%s" % (target, blob), headers=headers[caller])
    check(deleted, write_answer(outcome(caller, target, "delete"), (405, "UNSUPPORTED")), world, caller)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("caller", CALLERS)
def test_mounts_need_the_source_readable(world, caller, target):
    url, images, headers = world
    destination = "bob/steal" if caller in ("other", "anonymous") else "acme/copy"
    digest = digest_of(images[target].layer)
    for source in (target, "zz/nothing"):
        answer = send(
            url,
            "POST",
            "/v2/%s/blobs/uploads/?mount=%s&from=%s" % (destination, digest, source),
            headers=headers[caller],
        )
        readable = outcome(caller, source, "pull") == OK
        mounted = (201, None) if readable and source == target else (202, None)
        check(answer, write_answer(outcome(caller, destination, "push"), mounted), world, caller)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("caller", CALLERS)
def test_manifests_tags_and_referrers(world, caller, target):
    url, images, headers = world
    image = images[target]
    result = outcome(caller, target, "pull")
    for reference in ("v1", digest_of(image.manifest)):
        answer = send(url, "GET", "/v2/%s/manifests/%s" % (target, reference), headers=headers[caller])
        check(
            answer,
            pull_answer(result, (200, None), "MANIFEST_UNKNOWN"),
            world,
            caller,
            image.manifest if result == OK else None,
        )
    listed = send(url, "GET", "/v2/%s/tags/list" % target, headers=headers[caller])
    check(listed, pull_answer(result, (200, None), "NAME_UNKNOWN"), world, caller)
    referrers = send(url, "GET", "/v2/%s/referrers/%s" % (target, digest_of(image.manifest)), headers=headers[caller])
    if result == HIDDEN:  # as for a repository not pushed yet: an empty index, nothing of the private one
        assert (referrers.status, referrers.json()) == (200, EMPTY_INDEX), referrers.body
    else:
        check(referrers, pull_answer(result, (200, None), "NAME_UNKNOWN"), world, caller)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("caller", CALLERS)
def test_uploads_and_manifest_deletes_need_the_namespace(world, caller, target):
    url, _, headers = world
    started = send(url, "POST", "/v2/%s/blobs/uploads/" % target, headers=headers[caller])
    check(started, write_answer(outcome(caller, target, "push"), (202, None)), world, caller)
    deleted = send(
        url, "DELETE", "/v2/%s/manifests/%s" % (target, digest_of(b"no such manifest")), headers=headers[caller]
    )
    check(deleted, write_answer(outcome(caller, target, "delete"), (404, "MANIFEST_UNKNOWN")), world, caller)


@pytest.mark.parametrize("caller", CALLERS)
def test_the_catalog_lists_what_the_caller_may_read(world, caller):
    url, _, headers = world
    answer = send(url, "GET", "/v2/_catalog", headers=headers[caller])
    if caller == "scoped":  # a token without the catalog's scope, of a known caller
        check(answer, NARROW_ANSWER, world, caller)
        return
    if caller not in BASIC_CALLERS:  # no credentials, or bad ones
        check(answer, (401, "UNAUTHORIZED"), world, caller)
        return
    check(answer, (200, None), world, caller)
    listed = answer.json()["repositories"]
    assert listed == sorted(listed) and set(listed) <= {"acme/copy", "acme/pub", "acme/secret", "bob/mine", "bob/steal"}
    assert {"acme/pub", "bob/mine"} <= set(listed)
    assert ("acme/secret" in listed) == (caller in ("owner", "member"))


@pytest.mark.parametrize("path", ["/_hub/state", "/_hub/requests", "/_hub/faults", "/_hub/reset"])
@pytest.mark.parametrize("caller", CALLERS)
def test_the_controls_answer_only_an_admin(world, caller, path):
    url, _, headers = world
    method = "POST" if path == "/_hub/reset" else "GET"
    answer = send(url, method, path, headers=headers[caller])
    if caller in BASIC_CALLERS:
        assert (answer.status, answer.json()) == (403, {"detail": "You do not have permission to perform this action."})
    else:
        assert (answer.status, answer.json()) == (401, {"detail": "Authentication credentials were not provided."})
        assert answer.headers["WWW-Authenticate"] == "Token"
    for secret in world[1]["acme/secret"].secrets():
        assert secret not in answer.body


def test_after_everyone_tried_the_private_image_is_whole(world):
    url, images, _ = world
    image = images["acme/secret"]
    got = send(url, "GET", "/v2/acme/secret/manifests/v1", headers=basic("acme"))
    assert (got.status, got.body) == (200, image.manifest)
    layer = send(url, "GET", "/v2/acme/secret/blobs/" + digest_of(image.layer), headers=basic("acme"))
    assert (layer.status, layer.body) == (200, image.layer)
    state = send(url, "GET", "/_hub/state", headers=basic("root"))
    held_by_bob = {
        digest
        for document in state.json()["namespaces"]
        if document["namespace"] == "bob"
        for repository in document["repositories"]
        for digest in repository["blobs"]
    }
    assert digest_of(image.layer) not in held_by_bob and digest_of(image.config) not in held_by_bob
