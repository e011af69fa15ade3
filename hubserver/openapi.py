"""The OpenAPI 3 document of the hub API and the controls, generated with apispec.

Request and answer bodies come from the marshmallow schemas
(``hubserver.schemas``, ``hubserver.controls.schemas``); this module only says
which schema each operation takes and answers, and with which status codes.
The routes come from the application itself, so a route without an entry here
is an error, not a gap in the document. ``/``, ``/ui/``, ``/v2/`` and the
stylesheet are left out, as the contract allows.
"""

import re

from flask import current_app

from hubserver import schemas
from hubserver.controls import schemas as control_schemas

DOCUMENTED = re.compile(r"^/(v1|_hub)/")
DOCUMENT_KEY = "hubserver.openapi"
TITLE = "hubserver"
VERSION = "1.0"
# Every operation can answer these (a query or header that is not text,
# credentials, a name that cannot exist, body size and type, server-side
# trouble: a corrupt file, a busy lock, a full disk).
COMMON = {
    400: "DetailSchema",
    401: "DetailSchema",
    404: "DetailSchema",
    413: "DetailSchema",
    415: "DetailSchema",
    500: "DetailSchema",
    503: "DetailSchema",
    507: "DetailSchema",
}
# With accounts on, every control can also answer these (not an admin; too many failed logins).
CONTROLS_COMMON = {403: "DetailSchema", 429: "DetailSchema"}
FIELD_ERRORS = "FieldErrors"
FIELD_ERRORS_SCHEMA = {
    "description": "A 400: DRF's field errors (each field, or non_field_errors, with its messages;"
    ' a nested field with its own), or a body that did not parse ({"detail": ...})',
    "anyOf": [
        {"$ref": "#/components/schemas/DetailSchema"},
        {
            "type": "object",
            "additionalProperties": {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object"}]},
        },
    ],
}
# After a repository is created, these operations can use its names (schemathesis follows them).
CREATED_LINKS = {
    name: {
        "operationId": operation,
        "parameters": {"namespace": "$response.body#/namespace", "repo_name": "$response.body#/repo_name"},
    }
    for name, operation in [
        ("GetRepository", "api_repository_detail_get"),
        ("UpdateRepository", "api_update_repository_put"),
        ("ListTags", "api_list_tags_get"),
        ("PutTag", "api_put_tag_put"),
        ("DeleteRepository", "api_delete_repository_delete"),
    ]
}
REPOSITORY_UPDATED = schemas.REPOSITORY_UPDATED.schema
TAG = schemas.TAG.schema

# endpoint -> (request body schema, query schema, {status: answer}); an answer
# is a schema, "array:<schema>", FIELD_ERRORS, or None for no body.
OPERATIONS = {
    "api.generate_api_token": (
        schemas.TokenRequestSchema,
        None,
        {200: schemas.TokenSchema, 400: FIELD_ERRORS, 429: "DetailSchema"},
    ),
    "api.create_repository": (
        schemas.RepositoryCreateSchema,
        None,
        {201: schemas.REPOSITORY_CREATED.schema, 400: FIELD_ERRORS, 403: "DetailSchema", 409: "DetailSchema"},
    ),
    "api.list_repositories": (None, "ListQuery", {200: schemas.REPOSITORY_PAGE.schema, 400: FIELD_ERRORS}),
    "api.repository_detail": (None, None, {200: schemas.REPOSITORY_DETAIL.schema}),
    "api.update_repository": (
        schemas.RepositoryUpdateSchema,
        None,
        {200: REPOSITORY_UPDATED, 400: FIELD_ERRORS, 403: "DetailSchema"},
    ),
    "api.delete_repository": (None, None, {204: None, 403: "DetailSchema"}),
    "api.star": (None, None, {204: None}),
    "api.list_tags": (None, None, {200: "array:Tag"}),
    "api.tag_detail": (None, None, {200: TAG}),
    "api.put_tag": (schemas.TagWriteSchema, None, {200: TAG, 201: TAG, 400: FIELD_ERRORS, 403: "DetailSchema"}),
    "api.delete_tag": (None, None, {204: None, 403: "DetailSchema"}),
    "admin.health": (None, None, {200: control_schemas.HealthSchema}),
    "admin.reset": (None, control_schemas.ResetQuerySchema, {204: None, 400: FIELD_ERRORS}),
    "admin.get_state": (None, None, {200: control_schemas.StateSchema}),
    "admin.put_state": (control_schemas.StateSchema, None, {204: None, 400: FIELD_ERRORS}),
    "admin.get_clock": (None, None, {200: control_schemas.ClockSchema}),
    "admin.put_clock": (control_schemas.ClockChangeSchema, None, {200: control_schemas.ClockSchema, 400: FIELD_ERRORS}),
    "admin.get_requests": (
        None,
        control_schemas.JournalQuerySchema,
        {200: control_schemas.JournalSchema, 400: FIELD_ERRORS},
    ),
    "admin.clear_requests": (None, None, {204: None}),
    "admin.add_fault": (control_schemas.FaultSchema, None, {201: control_schemas.FaultRuleSchema, 400: FIELD_ERRORS}),
    "admin.list_faults": (None, None, {200: control_schemas.FaultListSchema}),
    "admin.clear_faults": (None, None, {204: None}),
    "admin.delete_fault": (None, None, {204: None}),
}
# The seed document's own examples, shown with the answers they belong to.
SEED_REPOSITORY = {
    "repo_name": "repo",
    "namespace": "madams",
    "repo_path": "madams/repo",
    "is_automated": False,
    "description": "A repo docker image repository",
    "creation_time": "2014-11-19T05:54:22.741Z",
    "updated_time": "2014-11-19T05:54:22.741Z",
    "is_public": True,
    "logo": "default-icon.jpg",
}
EXAMPLES = {
    ("api.create_repository", 201): SEED_REPOSITORY,
    ("api.update_repository", 200): {
        key: SEED_REPOSITORY[key] for key in ("repo_name", "namespace", "repo_path", "description", "is_public", "logo")
    },
    ("api.repository_detail", 200): {
        "namespace": "madams",
        "repo_name": "test",
        "repo_path": "madams/test",
        "logo_file": "/static/images/user/default-logo.png",
        "description": "test",
        "full_description": "test contain 2 tags",
        "repo_starred_count": 0,
        "created_at": "2015-05-13T01:04:48.246Z",
        "updated_at": "2015-06-07T10:41:31.882Z",
        "is_public": False,
        "logo": "default-icon.jpg",
        "is_automated": False,
        "download": 103,
        "upload": 4,
        "pulled_at": "2015-06-07T10:41:31.881Z",
        "pushed_at": "2015-05-24T00:54:26.452Z",
        "is_repo_starred": False,
    },
    ("api.list_repositories", 200): {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [
            {
                "repo_name": "repo1",
                "namespace": "madams",
                "repo_path": "madams/repo1",
                "is_automated": False,
                "description": "repo1",
                "creation_at": "2014-11-19T05:54:22.741Z",
                "updated_at": "2014-11-19T05:54:22.741Z",
                "is_public": True,
                "logo": "default-icon.jpg",
                "repo_starred_count": 0,
                "full_description": "",
                "download": 0,
                "upload": 9,
                "pulled_at": None,
                "pushed_at": "2015-06-04T16:30:27.532Z",
            }
        ],
    },
    ("api.list_tags", 200): [
        {"image_id": "a4002247cb22e78c8d9ffeccdf7ea23d7763f53493d4d763cb4dbe58bf3566b5", "tag": "test"},
        {"image_id": "e72ac664f4f0c6a061ac4ef332557a70d69b0c62fb6add35f1c181ff7fff2287", "tag": "latest"},
    ],
}
LIST_QUERY = [
    {"name": "page", "in": "query", "schema": {"type": "string"}, "description": "1-based page number, or last"},
    {
        "name": "page_size",
        "in": "query",
        "schema": {"type": "string"},
        "description": "at most 100; invalid values fall back to 10",
    },
    {
        "name": "name",
        "in": "query",
        "schema": {"type": "string"},
        "description": "case-insensitive substring of repo_name",
    },
    {
        "name": "ordering",
        "in": "query",
        "schema": {"type": "string"},
        "description": "name, last_updated or pull_count, each with an optional -",
    },
]


def documented_rules(app):
    """Yield (path in OpenAPI form, method, endpoint, view) of every documented route."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        if not DOCUMENTED.match(rule.rule) or rule.rule.endswith("/"):
            continue  # one form a path: the one without its trailing slash
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield path, method, rule.endpoint, rule.arguments


def _answer(answer):
    if answer is None:
        return {}
    if answer == FIELD_ERRORS:
        return {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/" + FIELD_ERRORS}}}}
    if isinstance(answer, str) and answer.startswith("array:"):
        schema = {"type": "array", "items": {"$ref": "#/components/schemas/" + answer.split(":", 1)[1]}}
    else:
        schema = answer if not isinstance(answer, str) else {"$ref": "#/components/schemas/" + answer}
    return {"content": {"application/json": {"schema": schema}}}


def controls_common(endpoint):
    """Return the answers every control can give besides the common ones."""
    return CONTROLS_COMMON if endpoint.startswith("admin.") else {}


def _operation(app, endpoint, method, arguments):
    body, query, answers = OPERATIONS[endpoint]
    view = app.view_functions[endpoint]
    operation = {
        "operationId": "%s_%s" % (endpoint.replace(".", "_"), method.lower()),
        "summary": (view.__doc__ or "").strip().splitlines()[0] if view.__doc__ else endpoint,
        "parameters": [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "integer" if name == "rule_id" else "string"},
            }
            for name in sorted(arguments)
        ],
        "responses": {
            str(status): {"description": "HTTP %d" % status, **_answer(answer)}
            for status, answer in sorted({**COMMON, **controls_common(endpoint), **answers}.items())
        },
    }
    if endpoint == "api.create_repository":
        operation["responses"]["201"]["links"] = CREATED_LINKS
    for (example_endpoint, status), example in EXAMPLES.items():
        if example_endpoint == endpoint:
            operation["responses"][str(status)]["content"]["application/json"]["example"] = example
    if query == "ListQuery":
        operation["parameters"] += LIST_QUERY
    elif query is not None:
        operation["parameters"].append({"in": "query", "schema": query})
    if body is not None:
        operation["requestBody"] = {
            "required": False,
            "content": {
                "application/json": {"schema": body},
                "application/x-www-form-urlencoded": {"schema": body},
            },
        }
    return operation


def build(app):
    """Return the OpenAPI document (a dict) of ``app``'s hub API and controls."""
    # Imported here, at the first request for the document: apispec takes a
    # third of hubserver's own start-up time, which a test suite pays every run.
    from apispec import APISpec
    from apispec.ext.marshmallow import MarshmallowPlugin

    spec = APISpec(title=TITLE, version=VERSION, openapi_version="3.0.3", plugins=[MarshmallowPlugin()])
    spec.components.schema(FIELD_ERRORS, FIELD_ERRORS_SCHEMA)
    spec.components.schema("DetailSchema", schema=schemas.DetailSchema)
    spec.components.schema("Tag", schema=TAG)
    operations = {}
    for path, method, endpoint, arguments in documented_rules(app):
        operations.setdefault(path, {})[method.lower()] = _operation(app, endpoint, method, arguments)
    for path, methods in operations.items():
        spec.path(path=path, operations=methods)
    return spec.to_dict()


def init_app(app):
    """Serve the document at ``/openapi.json``."""
    app.add_url_rule("/openapi.json", "openapi", serve)


def serve():
    """Answer GET /openapi.json: the document, built at its first request."""
    document = current_app.extensions.get(DOCUMENT_KEY)
    if document is None:
        document = current_app.extensions[DOCUMENT_KEY] = build(current_app)
    return document
