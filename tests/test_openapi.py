"""The OpenAPI document: valid, generated from the schemas, and covering every route."""

import pytest
from openapi_spec_validator import validate

from hubserver import openapi

from helpers import DETAIL_KEYS


@pytest.fixture
def document(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def test_the_document_is_valid_openapi_3(document):
    validate(document)
    assert document["openapi"].startswith("3.")


def test_every_route_is_described(app, document):
    described = {(path, method.upper()) for path, operations in document["paths"].items() for method in operations}
    routes = {(path, method) for path, method, _, _ in openapi.documented_rules(app)}
    assert routes and routes == described


def test_every_route_of_the_hub_api_and_the_controls_is_documented(app):
    undocumented = {rule.endpoint for rule in app.url_map.iter_rules() if openapi.DOCUMENTED.match(rule.rule)} - set(
        openapi.OPERATIONS
    )
    assert undocumented == set()


def test_answers_come_from_the_marshmallow_schemas(document):
    detail = document["paths"]["/v1/repositories/{namespace}/{repo_name}"]["get"]["responses"]["200"]
    schema = document["components"]["schemas"][
        detail["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    ]
    assert list(schema["properties"]) == DETAIL_KEYS


def test_no_default_responses(document):
    for operations in document["paths"].values():
        for operation in operations.values():
            assert "default" not in operation["responses"]


def test_the_seed_examples_are_in_the_document(document):
    detail = document["paths"]["/v1/repositories/{namespace}/{repo_name}"]["get"]["responses"]["200"]
    assert detail["content"]["application/json"]["example"]["full_description"] == "test contain 2 tags"
    tags = document["paths"]["/v1/repositories/{namespace}/{repo_name}/tags"]["get"]["responses"]["200"]
    assert [entry["tag"] for entry in tags["content"]["application/json"]["example"]] == ["test", "latest"]


def test_every_operation_lists_the_400_of_a_query_or_header_that_is_not_text(document, client):
    assert client.get("/v1/repositories/madams/repo/?x=%ff").status_code == 400
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert "400" in operation["responses"], (method, path)
