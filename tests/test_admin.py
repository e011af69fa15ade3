"""The test-double controls under /_hub/: health, reset, state, clock, journal, faults."""

import json

import pytest

import hubserver

from helpers import assert_error, assert_field_errors, digest_of, file_repository, oci_manifest

IMAGE = "a" * 64
STAMP = "2015-06-07T10:41:31.882Z"


def namespace_document(namespace, *names, file_format=4, **fields):
    repositories = [file_repository(name, STAMP, file_format, **fields) for name in names]
    return {"format": file_format, "namespace": namespace, "repositories": repositories}


def names_in(client, namespace):
    return [
        item["repo_name"] for item in client.get("/v1/repositories/%s/?page_size=100" % namespace).get_json()["results"]
    ]


@pytest.fixture
def seed_file(tmp_path):
    path = tmp_path / "seed.json"
    state = {"format": 1, "namespaces": [namespace_document("acme", "base"), namespace_document("madams", "seeded")]}
    path.write_text(json.dumps(state))
    return path


@pytest.fixture
def seeded(data_dir, seed_file):
    return hubserver.create_app({"DATA_DIR": str(data_dir), "SEED": str(seed_file)}).test_client()


def test_health(client):
    response = client.get("/_hub/health")
    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})


def test_no_admin_turns_every_control_off(data_dir):
    client = hubserver.create_app({"DATA_DIR": str(data_dir), "ADMIN": False}).test_client()
    for method, path in [
        ("get", "/_hub/health"),
        ("post", "/_hub/reset"),
        ("get", "/_hub/state"),
        ("get", "/_hub/requests"),
    ]:
        assert_error(getattr(client, method)(path), 404, {"detail": "Not found."})
    assert client.post("/v1/repositories/madams/", json={"repo_name": "repo"}).status_code == 201


# Seed and reset


def test_seed_is_loaded_at_start_and_never_written(seeded, seed_file):
    before = seed_file.read_bytes()
    assert names_in(seeded, "madams") == ["seeded"]
    seeded.post("/v1/repositories/madams/", json={"repo_name": "added"})
    seeded.post("/_hub/reset")
    assert seed_file.read_bytes() == before


def test_reset_goes_back_to_the_seed_and_removes_other_namespaces(seeded):
    seeded.post("/v1/repositories/madams/", json={"repo_name": "added"})
    seeded.delete("/v1/repositories/acme/base")
    seeded.post("/v1/repositories/other/", json={"repo_name": "gone"})
    response = seeded.post("/_hub/reset")
    assert (response.status_code, response.data) == (204, b"")
    assert names_in(seeded, "madams") == ["seeded"]
    assert names_in(seeded, "acme") == ["base"]
    assert [doc["namespace"] for doc in seeded.get("/_hub/state").get_json()["namespaces"]] == ["acme", "madams"]


def test_reset_of_one_namespace_leaves_the_others(seeded):
    seeded.post("/v1/repositories/madams/", json={"repo_name": "added"})
    seeded.post("/v1/repositories/acme/", json={"repo_name": "kept"})
    seeded.post("/v1/repositories/other/", json={"repo_name": "gone"})
    assert seeded.post("/_hub/reset?namespace=madams").status_code == 204
    assert seeded.post("/_hub/reset?namespace=other").status_code == 204
    assert names_in(seeded, "madams") == ["seeded"]
    assert names_in(seeded, "acme") == ["base", "kept"]
    assert names_in(seeded, "other") == []


def test_reset_of_a_bad_namespace_name_is_a_400(client):
    assert_field_errors(client.post("/_hub/reset?namespace=..%2Fx"), "namespace")


def test_reset_without_a_seed_empties_everything_and_clears_journal_faults_and_clock(data_dir):
    client = hubserver.create_app({"DATA_DIR": str(data_dir), "FROZEN_TIME": STAMP}).test_client()
    client.post("/v1/repositories/madams/", json={"repo_name": "repo"})
    client.post("/_hub/faults", json={"action": {"status": 503}, "match": {"path": "/nothing"}})
    client.put("/_hub/clock", json={"advance_ms": 1000})
    client.post("/_hub/reset")
    assert client.get("/_hub/state").get_json() == {"format": 1, "namespaces": []}
    assert client.get("/_hub/requests").get_json() == {"count": 0, "requests": []}
    assert client.get("/_hub/faults").get_json() == {"faults": []}
    assert client.get("/_hub/clock").get_json() == {"now": STAMP, "frozen": True}


def test_reset_replaces_a_corrupt_namespace_file(seeded, data_dir):
    (data_dir / "madams.json").write_text("{broken")
    assert seeded.get("/v1/repositories/madams/").status_code == 500
    seeded.post("/_hub/reset")
    assert names_in(seeded, "madams") == ["seeded"]


@pytest.mark.parametrize("layout", ["namespace file", "folder", "state export"])
def test_a_seed_can_be_a_namespace_file_a_folder_or_a_state_export(tmp_path, data_dir, layout):
    documents = [namespace_document("acme", "one"), namespace_document("madams", "two", "three")]
    if layout == "namespace file":
        seed = tmp_path / "madams.json"
        seed.write_text(json.dumps(documents[1]))
    elif layout == "folder":
        seed = tmp_path / "seed"
        seed.mkdir()
        for document in documents:
            (seed / (document["namespace"] + ".json")).write_text(json.dumps(document))
    else:
        seed = tmp_path / "state.json"
        seed.write_text(json.dumps({"format": 1, "namespaces": documents}))
    client = hubserver.create_app({"DATA_DIR": str(data_dir), "SEED": str(seed)}).test_client()
    assert names_in(client, "madams") == ["two", "three"]
    assert names_in(client, "acme") == (["one"] if layout != "namespace file" else [])


def test_a_seed_replaces_its_namespaces_and_leaves_others_at_start(tmp_path, data_dir, seed_file):
    first = hubserver.create_app({"DATA_DIR": str(data_dir)}).test_client()
    first.post("/v1/repositories/madams/", json={"repo_name": "old"})
    first.post("/v1/repositories/zeta/", json={"repo_name": "kept"})
    client = hubserver.create_app({"DATA_DIR": str(data_dir), "SEED": str(seed_file)}).test_client()
    assert names_in(client, "madams") == ["seeded"]
    assert names_in(client, "zeta") == ["kept"]


# State


def test_state_export_is_sorted_namespace_documents(client):
    for namespace in ["zeta", "acme"]:
        client.post("/v1/repositories/%s/" % namespace, json={"repo_name": "repo"})
    client.put("/v1/repositories/acme/repo/tags/latest", json={"image_id": IMAGE})
    body = client.get("/_hub/state").get_json()
    assert list(body) == ["format", "namespaces"]
    assert [document["namespace"] for document in body["namespaces"]] == ["acme", "zeta"]
    assert body["namespaces"][0]["repositories"][0]["tags"] == [{"tag": "latest", "image_id": IMAGE}]


def test_state_import_replaces_all_data(client):
    client.post("/v1/repositories/gone/", json={"repo_name": "repo"})
    state = {"format": 1, "namespaces": [namespace_document("madams", "aa", "bb", download=7)]}
    assert client.put("/_hub/state", json=state).status_code == 204
    assert client.get("/_hub/state").get_json() == state
    assert client.get("/v1/repositories/madams/bb").get_json()["download"] == 7
    assert names_in(client, "gone") == []


def test_a_format_1_state_is_read_and_exported_as_format_2(client):
    client.put("/_hub/state", json={"format": 1, "namespaces": [namespace_document("madams", "aa", file_format=1)]})
    assert client.get("/_hub/state").get_json() == {"format": 1, "namespaces": [namespace_document("madams", "aa")]}


@pytest.mark.parametrize(
    "state",
    [
        [],
        {"format": 2, "namespaces": []},
        {"format": 1},
        {"format": 1, "namespaces": [namespace_document("madams", "aa"), namespace_document("madams", "bb")]},
        {"format": 1, "namespaces": [namespace_document("Bad", "aa")]},
        {"format": 1, "namespaces": [namespace_document("madams", "aa", logo=5)]},
        {"format": 1, "namespaces": [{"namespace": "madams"}]},
    ],
)
def test_an_invalid_state_is_a_400_and_changes_nothing(client, state):
    client.post("/v1/repositories/madams/", json={"repo_name": "kept"})
    before = client.get("/_hub/state").get_json()
    response = client.put("/_hub/state", json=state)
    assert_field_errors(response, "non_field_errors")
    assert client.get("/_hub/state").get_json() == before


def test_a_state_may_be_larger_than_the_body_limit(data_dir):
    client = hubserver.create_app({"DATA_DIR": str(data_dir), "MAX_BODY_SIZE": 1000}).test_client()
    names = ["repo%04d" % index for index in range(50)]
    state = {"format": 1, "namespaces": [namespace_document("madams", *names)]}
    assert len(json.dumps(state)) > 1000
    assert client.put("/_hub/state", json=state).status_code == 204
    assert len(names_in(client, "madams")) == 50
    assert client.post("/v1/repositories/madams/", json={"repo_name": "x" * 2000}).status_code == 413


# Clock


def test_a_frozen_clock_stamps_everything_with_its_time(data_dir):
    client = hubserver.create_app({"DATA_DIR": str(data_dir), "FROZEN_TIME": STAMP}).test_client()
    assert client.get("/_hub/clock").get_json() == {"now": STAMP, "frozen": True}
    created = client.post("/v1/repositories/madams/", json={"repo_name": "repo"}).get_json()
    assert created["creation_time"] == created["updated_time"] == STAMP
    client.put("/v1/repositories/madams/repo/tags/latest", json={"image_id": IMAGE})
    detail = client.get("/v1/repositories/madams/repo").get_json()
    assert detail["updated_at"] == detail["pushed_at"] == STAMP


def test_the_clock_freezes_advances_and_returns_to_real_time(client):
    assert client.put("/_hub/clock", json={"now": STAMP}).get_json() == {"now": STAMP, "frozen": True}
    moved = client.put("/_hub/clock", json={"advance_ms": 1500}).get_json()
    assert moved == {"now": "2015-06-07T10:41:33.382Z", "frozen": True}
    client.post("/v1/repositories/madams/", json={"repo_name": "repo"})
    assert client.get("/v1/repositories/madams/repo").get_json()["created_at"] == "2015-06-07T10:41:33.382Z"
    running = client.put("/_hub/clock", json={"frozen": False}).get_json()
    assert running["frozen"] is False and running["now"] > "2026"


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "non_field_errors"),
        ({"now": STAMP, "advance_ms": 5}, "non_field_errors"),
        ({"now": "yesterday"}, "now"),
        ({"advance_ms": -1}, "advance_ms"),
        ({"advance_ms": 1.5}, "advance_ms"),
        ({"advance_ms": 10}, "advance_ms"),
        ({"speed": 2}, "speed"),
    ],
)
def test_bad_clock_changes_are_400(client, body, field):
    assert_field_errors(client.put("/_hub/clock", json=body), field)


# Journal


def test_the_journal_records_requests_oldest_first(data_dir):
    client = hubserver.create_app({"DATA_DIR": str(data_dir), "FROZEN_TIME": STAMP}).test_client()
    client.post("/v1/repositories/madams/?x=1", json={"repo_name": "repo"})
    client.get("/v1/repositories/madams/repo")
    client.get("/_hub/health")  # admin paths are not journaled
    body = client.get("/_hub/requests").get_json()
    assert body == {
        "count": 2,
        "requests": [
            {
                "time": STAMP,
                "method": "POST",
                "path": "/v1/repositories/madams/",
                "query": "x=1",
                "status": 201,
                "namespace": "madams",
                "body": {"repo_name": "repo"},
            },
            {
                "time": STAMP,
                "method": "GET",
                "path": "/v1/repositories/madams/repo",
                "query": "",
                "status": 200,
                "namespace": "madams",
                "body": None,
            },
        ],
    }


def test_the_journal_filters_and_limits(client):
    client.post("/v1/repositories/madams/", json={"repo_name": "one"})
    client.post("/v1/repositories/acme/", json={"repo_name": "two"})
    client.get("/v1/repositories/acme/two")
    client.get("/nowhere")

    def paths(query):
        body = client.get("/_hub/requests" + query).get_json()
        assert body["count"] == len(body["requests"])
        return [(entry["method"], entry["path"]) for entry in body["requests"]]

    assert paths("?method=post") == [("POST", "/v1/repositories/madams/"), ("POST", "/v1/repositories/acme/")]
    assert paths("?namespace=acme") == [("POST", "/v1/repositories/acme/"), ("GET", "/v1/repositories/acme/two")]
    assert paths("?path_prefix=/now") == [("GET", "/nowhere")]
    assert paths("?limit=2") == [("GET", "/v1/repositories/acme/two"), ("GET", "/nowhere")]
    assert_field_errors(client.get("/_hub/requests?limit=-1"), "limit")
    assert_field_errors(client.get("/_hub/requests?colour=red"), "colour")


def test_the_journal_masks_passwords_keeps_forms_and_skips_big_bodies(client):
    client.post("/v1/generate-api-token/", json={"username": "madams", "password": "secret"})
    client.post("/v1/repositories/madams/", data={"repo_name": "repo", "password": "x"})
    client.post("/v1/repositories/madams/", json={"repo_name": "big", "full_description": "x" * 70_000})
    bodies = [entry["body"] for entry in client.get("/_hub/requests").get_json()["requests"]]
    assert bodies == [{"username": "madams", "password": "***"}, {"repo_name": "repo", "password": "***"}, None]


def test_the_journal_is_a_ring_and_can_be_cleared(data_dir):
    client = hubserver.create_app({"DATA_DIR": str(data_dir), "JOURNAL_SIZE": 3}).test_client()
    for index in range(5):
        client.get("/v1/repositories/ns%d/" % index)
    body = client.get("/_hub/requests").get_json()
    assert [entry["namespace"] for entry in body["requests"]] == ["ns2", "ns3", "ns4"]
    assert client.delete("/_hub/requests").status_code == 204
    assert client.get("/_hub/requests").get_json()["count"] == 0


# Faults


def test_a_fault_answers_instead_a_number_of_times_then_stops(client):
    response = client.post(
        "/_hub/faults",
        json={"match": {"method": "POST", "path": "/v1/repositories/*"}, "action": {"status": 503}, "times": 2},
    )
    assert response.status_code == 201
    rule = response.get_json()
    assert rule == {
        "id": rule["id"],
        "match": {"method": "POST", "path": "/v1/repositories/*"},
        "action": {"status": 503},
        "times": 2,
        "probability": None,
        "times_left": 2,
    }
    statuses = [client.post("/v1/repositories/madams/", json={"repo_name": "repo"}).status_code for _ in range(3)]
    assert statuses == [503, 503, 201]
    assert client.get("/_hub/faults").get_json() == {"faults": []}


def test_a_faulted_request_never_touches_storage_and_is_journaled(client, data_dir):
    client.post("/_hub/faults", json={"action": {"status": 500, "body": {"detail": "Disk on fire."}}})
    response = client.post("/v1/repositories/madams/", json={"repo_name": "repo"})
    assert_error(response, 500, {"detail": "Disk on fire."})
    assert not (data_dir / "madams.json").exists()
    assert client.get("/_hub/requests").get_json()["requests"][0]["status"] == 500
    assert client.get("/_hub/health").status_code == 200  # admin paths are never faulted


def test_the_default_fault_body_and_match_by_namespace(client):
    client.post("/_hub/faults", json={"match": {"namespace": "acme"}, "action": {"status": 429}})
    assert_error(client.get("/v1/repositories/acme/"), 429, {"detail": "Injected fault."})
    assert client.get("/v1/repositories/madams/").status_code == 200


def test_the_oldest_matching_rule_acts_and_rules_can_be_removed(client):
    first = client.post("/_hub/faults", json={"match": {"path": "/v1/*"}, "action": {"status": 502}}).get_json()
    client.post("/_hub/faults", json={"action": {"status": 504}})
    assert client.get("/v1/repositories/madams/").status_code == 502
    assert client.delete("/_hub/faults/%d" % first["id"]).status_code == 204
    assert client.get("/v1/repositories/madams/").status_code == 504
    assert [rule["times_left"] for rule in client.get("/_hub/faults").get_json()["faults"]] == [None]
    assert_error(client.delete("/_hub/faults/%d" % first["id"]), 404, {"detail": "Not found."})
    assert client.delete("/_hub/faults").status_code == 204
    assert client.get("/v1/repositories/madams/").status_code == 200


def test_a_delay_then_a_normal_answer(client):
    import time

    client.post("/_hub/faults", json={"action": {"delay_ms": 200}, "times": 1})
    started = time.monotonic()
    assert client.get("/v1/repositories/madams/").status_code == 200
    assert time.monotonic() - started >= 0.2


def test_a_probability_acts_on_about_that_share(client):
    client.post("/_hub/faults", json={"action": {"status": 503}, "probability": 0.5})
    statuses = [client.get("/v1/repositories/madams/").status_code for _ in range(400)]
    assert 120 < statuses.count(503) < 280
    assert set(statuses) == {200, 503}


@pytest.mark.parametrize(
    "rule, field",
    [
        ({}, "action"),
        ({"action": {}}, "action"),
        ({"action": {"status": 99}}, "action"),
        ({"action": {"body": {}}}, "action"),
        ({"action": {"status": 503}, "times": 0}, "times"),
        ({"action": {"status": 503}, "probability": 1.5}, "probability"),
        ({"action": {"status": 503}, "times": 1, "probability": 0.5}, "non_field_errors"),
        ({"action": {"reset_connection": True, "status": 500}}, "action"),
        ({"action": {"status": 503}, "match": {"verb": "GET"}}, "match"),
    ],
)
def test_bad_fault_rules_are_400(client, rule, field):
    assert_field_errors(client.post("/_hub/faults", json=rule), field)


def test_admin_paths_answer_with_and_without_a_trailing_slash(client):
    assert client.get("/_hub/health/").status_code == 200
    assert client.post("/_hub/reset/").status_code == 204
    assert_error(client.patch("/_hub/clock"), 405, {"detail": 'Method "PATCH" not allowed.'})


# Reset resets /v2/ too


def pushed_blob(client, name, data):
    location = client.post("/v2/%s/blobs/uploads/" % name).headers["Location"].replace("http://localhost", "")
    digest = digest_of(data)
    assert client.put(location + "?digest=" + digest, data=data).status_code == 201
    return digest


@pytest.mark.parametrize("query", ["", "?namespace=madams"], ids=["everything", "one namespace"])
def test_a_blob_pushed_before_a_reset_is_gone_after_it(client, data_dir, query):
    digest = pushed_blob(client, "madams/app", b"pushed before the reset")
    assert client.head("/v2/madams/app/blobs/" + digest).status_code == 200
    assert client.post("/_hub/reset" + query).status_code == 204
    assert client.head("/v2/madams/app/blobs/" + digest).status_code == 404
    assert not list((data_dir / "_blobs" / "sha256").rglob(digest[7:]))  # the bytes, too
    assert client.get("/v2/_catalog").get_json() == {"repositories": []}


@pytest.mark.parametrize("query", ["", "?namespace=madams"], ids=["everything", "one namespace"])
def test_an_upload_opened_before_a_reset_is_unknown_after_it(client, query):
    location = client.post("/v2/madams/app/blobs/uploads/").headers["Location"].replace("http://localhost", "")
    assert client.get(location).status_code == 204
    client.post("/_hub/reset" + query)
    response = client.get(location)
    assert (response.status_code, response.get_json()["errors"][0]["code"]) == (404, "BLOB_UPLOAD_UNKNOWN")


def test_a_reset_of_one_namespace_keeps_the_others_blobs_and_uploads(client):
    kept = pushed_blob(client, "acme/app", b"acme's layer")
    location = client.post("/v2/acme/app/blobs/uploads/").headers["Location"].replace("http://localhost", "")
    client.post("/_hub/reset?namespace=madams")
    assert client.head("/v2/acme/app/blobs/" + kept).status_code == 200
    assert client.get(location).status_code == 204


def test_state_export_and_import_carry_manifests_tags_and_blobs_but_no_bytes(client, tmp_path):
    layer, config = pushed_blob(client, "madams/app", b"layer"), pushed_blob(client, "madams/app", b"{}")
    manifest = oci_manifest(b"{}", b"layer")
    client.put("/v2/madams/app/manifests/v1", data=manifest, content_type="application/vnd.oci.image.manifest.v1+json")
    exported = client.get("/_hub/state").get_json()
    repository = exported["namespaces"][0]["repositories"][0]
    assert [entry["tag"] for entry in repository["tags"]] == ["v1"]
    assert [entry["media_type"] for entry in repository["manifests"]] == ["application/vnd.oci.image.manifest.v1+json"]
    assert sorted(repository["blobs"]) == sorted([layer, config])
    elsewhere = hubserver.create_app({"DATA_DIR": str(tmp_path / "elsewhere")}).test_client()
    assert elsewhere.put("/_hub/state", json=exported).status_code == 204
    assert elsewhere.get("/v2/madams/app/tags/list").get_json()["tags"] == ["v1"]
    missing = elsewhere.get("/v2/madams/app/manifests/v1")  # the record came; its bytes did not
    assert (missing.status_code, missing.get_json()["errors"][0]["code"]) == (404, "MANIFEST_UNKNOWN")
