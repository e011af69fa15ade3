"""The seed endpoints, ``/v1/repositories/...``, and the tag-writing extension.

Thin views: load the body with a schema, call one store method, dump the answer.
Errors travel as exceptions to the application's one error handler.
"""

from urllib.parse import quote

from flask import Blueprint, current_app, request
from werkzeug.exceptions import NotFound

import pagination
import schemas
import web
from bodies import parse_body
from names import is_namespace

blueprint = Blueprint("api", __name__, url_prefix="/v1/repositories")
STORE_KEY = "hubserver.store"


def store():
    """Return the application's store."""
    return current_app.extensions[STORE_KEY]


def shown(namespace, repository):
    """Return a stored repository with its namespace, ready for an answer schema."""
    return {**repository, "namespace": namespace}


def base_url():
    """Return the request's absolute URL without its query, as the client sent host and path.

    Built by hand: werkzeug's ``request.base_url`` costs several times more, on
    every list request.
    """
    return "%s://%s%s" % (request.scheme, request.host, quote(request.root_path + request.path))


@web.route(blueprint, "/<namespace>/", methods=["POST"])
def create_repository(namespace):
    """Create a repository; its namespace comes into being with it."""
    data = schemas.load(schemas.REPOSITORY_CREATE, parse_body(request), {"namespace": namespace})
    del data["namespace"]
    repository = store().create_repository(namespace, **data)
    return schemas.REPOSITORY_CREATED.dump(shown(namespace, repository)), 201


@web.route(blueprint, "/<namespace>/", methods=["GET"])
def list_repositories(namespace):
    """List one page of a namespace's repositories, oldest first."""
    if not is_namespace(namespace):
        raise NotFound()
    repositories = store().list_repositories(namespace)
    try:
        count, next_link, previous_link, page = pagination.paginate(repositories, request.args, base_url())
    except pagination.InvalidPage:
        raise NotFound("Invalid page.") from None
    return schemas.REPOSITORY_PAGE.dump(
        {
            "count": count,
            "next": next_link,
            "previous": previous_link,
            "results": [shown(namespace, repository) for repository in page],
        }
    )


@web.route(blueprint, "/<namespace>/<repo_name>/", methods=["GET"])
def repository_detail(namespace, repo_name):
    """Show one repository."""
    repository = store().get_repository(namespace, repo_name)
    return schemas.REPOSITORY_DETAIL.dump(shown(namespace, repository))


@web.route(blueprint, "/<namespace>/<repo_name>/", methods=["PUT", "PATCH"])
def update_repository(namespace, repo_name):
    """Change a repository's description, full description, visibility or logo."""
    store().get_repository(namespace, repo_name)  # an unknown repository is a 404 before a 400
    data = schemas.load(
        schemas.REPOSITORY_UPDATE,
        parse_body(request),
        {"namespace": namespace, "repo_name": repo_name},
    )
    del data["namespace"], data["repo_name"]
    repository = store().update_repository(namespace, repo_name, **data)
    return schemas.REPOSITORY_UPDATED.dump(shown(namespace, repository))


@web.route(blueprint, "/<namespace>/<repo_name>/", methods=["DELETE"])
def delete_repository(namespace, repo_name):
    """Delete a repository and its tags."""
    store().delete_repository(namespace, repo_name)
    return web.no_content()


@web.route(blueprint, "/<namespace>/<repo_name>/tags/", methods=["GET"])
def list_tags(namespace, repo_name):
    """List a repository's tags in the order they were first written."""
    return schemas.TAG.dump_many(store().list_tags(namespace, repo_name))


@web.route(blueprint, "/<namespace>/<repo_name>/tags/<tag>/", methods=["GET"])
def tag_detail(namespace, repo_name, tag):
    """Show one tag."""
    return schemas.TAG.dump(store().get_tag(namespace, repo_name, tag))


@web.route(blueprint, "/<namespace>/<repo_name>/tags/<tag>/", methods=["PUT"])
def put_tag(namespace, repo_name, tag):
    """Point a tag at an image: 201 for a new tag, 200 for a moved one; counts a push."""
    store().get_repository(namespace, repo_name)  # an unknown repository is a 404 before a 400
    data = schemas.load(schemas.TAG_WRITE, parse_body(request), {"tag": tag})
    entry, created = store().put_tag(namespace, repo_name, tag, data["image_id"])
    return schemas.TAG.dump(entry), 201 if created else 200


@web.route(blueprint, "/<namespace>/<repo_name>/tags/<tag>/", methods=["DELETE"])
def delete_tag(namespace, repo_name, tag):
    """Delete one tag."""
    store().delete_tag(namespace, repo_name, tag)
    return web.no_content()
