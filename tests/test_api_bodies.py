"""Request bodies: JSON, forms, empty bodies, media types, parse errors and the size limit."""

import pytest

import hubserver

from helpers import assert_error, assert_field_errors

CREATE = "/v1/repositories/madams/"


@pytest.mark.parametrize(
    "data, reason",
    [
        ("{", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
        ("{'a': 1}", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
        ('{"repo_name": NaN}', "Out of range float values are not JSON compliant: 'NaN'"),
        (b"\xff\xfe", "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"),
    ],
)
def test_json_that_does_not_parse_is_a_400(client, data, reason):
    response = client.post(CREATE, data=data, content_type="application/json")
    assert_error(response, 400, {"detail": "JSON parse error - " + reason})


def test_a_charset_parameter_is_fine(client):
    response = client.post(CREATE, data='{"repo_name": "repo"}', content_type="application/json; charset=utf-8")
    assert response.status_code == 201


@pytest.mark.parametrize(
    "data, type_name", [("[]", "list"), ('"x"', "str"), ("3", "int"), ("1.5", "float"), ("true", "bool")]
)
def test_json_that_is_not_an_object_is_a_non_field_error(client, data, type_name):
    response = client.post(CREATE, data=data, content_type="application/json")
    expected = "Invalid data. Expected a dictionary, but got %s." % type_name
    assert_error(response, 400, {"non_field_errors": [expected]})


def test_json_null_is_a_non_field_error(client):
    response = client.post(CREATE, data="null", content_type="application/json")
    assert_error(response, 400, {"non_field_errors": ["This field may not be null."]})


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/vnd.api+json"])
def test_another_media_type_is_a_415_quoting_the_header(client, content_type):
    response = client.post(CREATE, data='{"repo_name": "repo"}', content_type=content_type)
    assert_error(response, 415, {"detail": 'Unsupported media type "%s" in request.' % content_type})


def test_a_body_without_a_content_type_is_a_415(client):
    response = client.post(CREATE, data=b'{"repo_name": "repo"}')
    assert_error(response, 415, {"detail": 'Unsupported media type "" in request.'})


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/json"])
def test_an_empty_body_counts_as_an_empty_object(client, content_type):
    response = client.post(CREATE, data=b"", content_type=content_type)
    assert_field_errors(response, "repo_name")
    assert response.get_json() == {"repo_name": ["This field is required."]}


def test_a_repeated_form_key_takes_its_last_value(client):
    response = client.post(
        CREATE, data="repo_name=first&repo_name=second", content_type="application/x-www-form-urlencoded"
    )
    assert response.get_json()["repo_name"] == "second"


def test_form_booleans_read_as_drf_reads_them(client):
    for index, (text, value) in enumerate([("true", True), ("0", False), ("on", True), ("False", False)]):
        response = client.post(CREATE, data={"repo_name": "repo%d" % index, "is_public": text})
        assert response.get_json()["is_public"] is value


def test_a_multipart_file_is_not_a_string(client):
    import io

    response = client.post(CREATE, data={"repo_name": "repo", "description": (io.BytesIO(b"x"), "d.txt")})
    assert_field_errors(response, "description")


@pytest.fixture
def small_client(data_dir):
    return hubserver.create_app({"DATA_DIR": str(data_dir), "MAX_BODY_SIZE": 200}).test_client()


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded", "text/plain"])
def test_a_body_over_the_limit_is_413_and_nothing_is_stored(small_client, data_dir, content_type):
    body = '{"repo_name": "repo", "description": "%s"}' % ("x" * 300)
    if content_type.endswith("urlencoded"):
        body = "repo_name=repo&description=" + "x" * 300
    response = small_client.post(CREATE, data=body, content_type=content_type)
    assert_error(response, 413, {"detail": "Request body too large."})
    assert small_client.get("/v1/repositories/madams/").get_json()["count"] == 0


def test_a_body_at_the_limit_is_accepted(small_client):
    body = '{"repo_name": "repo", "description": "%s"}'
    body = body % ("x" * (200 - len(body % "")))
    assert len(body) == 200
    assert small_client.post(CREATE, data=body, content_type="application/json").status_code == 201


def test_the_default_limit_is_one_mebibyte(client):
    big = '{"repo_name": "repo", "full_description": "%s"}' % ("x" * (1024 * 1024))
    assert_error(
        client.post(CREATE, data=big, content_type="application/json"), 413, {"detail": "Request body too large."}
    )


def test_deeply_nested_json_is_a_400_not_a_crash(client):
    response = client.post(CREATE, data="[" * 100_000 + "]" * 100_000, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["detail"].startswith("JSON parse error - ")
