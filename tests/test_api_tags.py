"""Tags: the seed's list and delete, and the extension that writes and reads one tag."""

import pytest

from helpers import STAMP, assert_error, assert_field_errors

IMAGE_A = "a4002247cb22e78c8d9ffeccdf7ea23d7763f53493d4d763cb4dbe58bf3566b5"
IMAGE_B = "e72ac664f4f0c6a061ac4ef332557a70d69b0c62fb6add35f1c181ff7fff2287"
TAGS = "/v1/repositories/madams/repo/tags"
NOT_FOUND = {"detail": "Not found."}


@pytest.fixture
def repository(make_repository):
    return make_repository()


def put_tag(client, tag, image_id):
    return client.put("%s/%s" % (TAGS, tag), json={"image_id": image_id})


def test_a_new_tag_is_201_with_image_id_and_tag(client, repository):
    response = put_tag(client, "latest", IMAGE_A)
    assert response.status_code == 201
    assert list(response.get_json()) == ["image_id", "tag"]
    assert response.get_json() == {"image_id": IMAGE_A, "tag": "latest"}


def test_rewriting_or_moving_a_tag_is_200(client, repository):
    put_tag(client, "latest", IMAGE_A)
    assert put_tag(client, "latest", IMAGE_A).status_code == 200
    moved = put_tag(client, "latest", IMAGE_B)
    assert (moved.status_code, moved.get_json()) == (200, {"image_id": IMAGE_B, "tag": "latest"})


def test_tag_list_is_in_first_written_order_and_a_moved_tag_keeps_its_place(client, repository):
    put_tag(client, "test", IMAGE_A)
    put_tag(client, "latest", IMAGE_B)
    put_tag(client, "test", IMAGE_B)
    response = client.get(TAGS)
    assert response.status_code == 200
    assert response.get_json() == [
        {"image_id": IMAGE_B, "tag": "test"},
        {"image_id": IMAGE_B, "tag": "latest"},
    ]
    assert all(list(entry) == ["image_id", "tag"] for entry in response.get_json())


def test_an_empty_repository_has_an_empty_tag_list(client, repository):
    assert client.get(TAGS + "/").get_json() == []


def test_every_tag_write_counts_as_a_push(client, repository):
    put_tag(client, "latest", IMAGE_A)
    put_tag(client, "latest", IMAGE_A)
    put_tag(client, "v1", IMAGE_B)
    detail = client.get("/v1/repositories/madams/repo").get_json()
    assert detail["upload"] == 3
    assert STAMP.fullmatch(detail["pushed_at"])
    assert detail["pushed_at"] == detail["updated_at"] > detail["created_at"]
    assert (detail["download"], detail["pulled_at"]) == (0, None)


def test_get_one_tag(client, repository):
    put_tag(client, "v1.0", IMAGE_A)
    response = client.get(TAGS + "/v1.0")
    assert (response.status_code, response.get_json()) == (200, {"image_id": IMAGE_A, "tag": "v1.0"})
    assert_error(client.get(TAGS + "/v2.0"), 404, NOT_FOUND)


def test_delete_a_tag(client, repository):
    put_tag(client, "latest", IMAGE_A)
    put_tag(client, "old", IMAGE_B)
    before = client.get("/v1/repositories/madams/repo").get_json()["updated_at"]
    response = client.delete(TAGS + "/old")
    assert (response.status_code, response.data) == (204, b"")
    assert "Content-Type" not in response.headers
    assert client.get(TAGS).get_json() == [{"image_id": IMAGE_A, "tag": "latest"}]
    assert client.get("/v1/repositories/madams/repo").get_json()["updated_at"] > before
    assert_error(client.delete(TAGS + "/old"), 404, NOT_FOUND)


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/v1/repositories/madams/nothing/tags"),
        ("get", "/v1/repositories/nobody/repo/tags/latest"),
        ("put", "/v1/repositories/madams/nothing/tags/latest"),
        ("put", "/v1/repositories/Bad/repo/tags/latest"),
        ("delete", "/v1/repositories/madams/nothing/tags/latest"),
        ("delete", "/v1/repositories/madams/repo/tags/.bad"),
    ],
)
def test_unknown_repositories_and_tags_are_not_found(client, repository, method, path):
    assert_error(getattr(client, method)(path, json={"image_id": IMAGE_A}), 404, NOT_FOUND)


@pytest.mark.parametrize("tag", [".hidden", "-dash", "x" * 129, "tag%20space", "caf%C3%A9", "a%00b"])
def test_a_bad_tag_name_is_rejected_on_write(client, repository, tag):
    assert_field_errors(put_tag(client, tag, IMAGE_A), "tag")


def test_the_longest_tag_is_accepted(client, repository):
    assert put_tag(client, "_" + "x" * 127, IMAGE_A).status_code == 201


@pytest.mark.parametrize(
    "body", [{}, {"image_id": "abc"}, {"image_id": IMAGE_A.upper()}, {"image_id": None}, {"image_id": 7}]
)
def test_a_bad_image_id_is_rejected(client, repository, body):
    assert_field_errors(client.put(TAGS + "/latest", json=body), "image_id")
    assert client.get(TAGS).get_json() == []


def test_unknown_keys_in_a_tag_body_are_rejected(client, repository):
    assert_field_errors(client.put(TAGS + "/latest", json={"image_id": IMAGE_A, "size": 3}), "size")


def test_a_tag_body_may_repeat_the_url_tag_but_not_change_it(client, repository):
    assert client.put(TAGS + "/latest", json={"image_id": IMAGE_A, "tag": "latest"}).status_code == 201
    assert_field_errors(client.put(TAGS + "/latest", json={"image_id": IMAGE_A, "tag": "other"}), "tag")


def test_a_tag_write_takes_a_form_body(client, repository):
    response = client.put(TAGS + "/latest", data={"image_id": IMAGE_A})
    assert response.status_code == 201
