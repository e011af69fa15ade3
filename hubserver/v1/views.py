"""The seed endpoints under ``/v1/``, the tag-writing extension, tokens and stars.

Thin views: ask the permission policy, load the body with a schema, call one
store method, dump the answer. Errors travel as exceptions to the application's
one error handler.
"""

from urllib.parse import quote

from flask import Blueprint, current_app, request
from marshmallow import ValidationError
from werkzeug.exceptions import NotFound

from hubserver import schemas, web
from hubserver.names import is_namespace
from hubserver.storage import RepositoryNotFound
from hubserver.v1 import pagination, search
from hubserver.v1.bodies import parse_body
from hubserver.web import accounts, caller, store, visible_repositories

blueprint = Blueprint("api", __name__, url_prefix="/v1")
LIST_ITEMS_KEY = "hubserver.list_items"
REPOSITORY = "/repositories/<namespace>/<repo_name>/"


def init_app(app):
    """Mount the hub API, with the JSON of list items kept between requests."""
    app.extensions[LIST_ITEMS_KEY] = ListItems(app.json.dumps)
    app.register_blueprint(blueprint)


def shown(namespace, repository, user):
    """Return a stored repository with what its answers add: namespace, the caller's star."""
    starred = user is not None and user.name in repository["starred_by"]
    return {**repository, "namespace": namespace, "is_repo_starred": starred}


def readable(namespace, repo_name, user):
    """Return a repository ``user`` may see; 404 for one it may not, as for a missing one."""
    repository = store().get_repository(namespace, repo_name)
    if not accounts().can_read(user, namespace, repository):
        raise RepositoryNotFound(namespace, repo_name)
    return repository


def writable(namespace, repo_name=None):
    """Check the caller may write in the namespace (and see the repository); return the caller.

    In this order: anonymous 401, unseen or missing 404, not allowed 403.
    """
    policy, user = accounts(), caller()
    policy.check_signed_in(user)
    if repo_name is not None:
        readable(namespace, repo_name, user)
    policy.check_write(user, namespace)
    return user


def base_url():
    """Return the request's absolute URL without its query, as the client sent host and path.

    Built by hand: werkzeug's ``request.base_url`` costs several times more, on
    every list request.
    """
    return "%s://%s%s" % (request.scheme, request.host, quote(request.root_path + request.path))


@web.route(blueprint, "/generate-api-token/", methods=["POST"])
def generate_api_token():
    """Give a user its API token, the same every time."""
    credentials = schemas.load(schemas.TOKEN_REQUEST, parse_body(request))
    token = accounts().issue_token(credentials["username"], credentials["password"], request.remote_addr)
    return {"token": token, "username": credentials["username"]}


@web.route(blueprint, "/repositories/<namespace>/", methods=["POST"])
def create_repository(namespace):
    """Create a repository; its namespace comes into being with it."""
    user = writable(namespace)
    data = schemas.load(schemas.REPOSITORY_CREATE, parse_body(request), {"namespace": namespace})
    del data["namespace"]
    repository = store().create_repository(namespace, **data)
    return schemas.REPOSITORY_CREATED.dump(shown(namespace, repository, user)), 201


@web.route(blueprint, "/repositories/<namespace>/", methods=["GET"])
def list_repositories(namespace):
    """List one page of the repositories the caller may see, oldest first unless ordered."""
    if not is_namespace(namespace):
        raise NotFound()
    try:
        ordering = search.parse_ordering(request.args.get("ordering"))
    except search.InvalidOrdering as error:
        raise ValidationError({"ordering": [str(error)]}) from None
    repositories = search.select(visible_repositories(namespace, caller()), request.args.get("name"), ordering)
    try:
        count, next_link, previous_link, page = pagination.paginate(repositories, request.args, base_url())
    except pagination.InvalidPage:
        raise NotFound("Invalid page.") from None
    items = current_app.extensions[LIST_ITEMS_KEY]
    dumps = current_app.json.dumps
    # The page as RepositoryPageSchema declares it, assembled from each item's kept JSON text.
    body = '{"count":%d,"next":%s,"previous":%s,"results":[%s]}' % (
        count,
        dumps(next_link),
        dumps(previous_link),
        ",".join(items.text(namespace, repository) for repository in page),
    )
    links = ['<%s>; rel="%s"' % (link, rel) for link, rel in ((next_link, "next"), (previous_link, "prev")) if link]
    headers = {"X-Total-Count": str(count), **({"Link": ", ".join(links)} if links else {})}
    return current_app.response_class(body, status=200, headers=headers, mimetype="application/json")


class ListItems:
    """The JSON text of each repository's list item, kept while the stored repository lives.

    A list page is ten items; dumping and encoding them is most of what a
    list request costs. A stored repository is a snapshot that never changes,
    so its item's text is computed once; the snapshot is held with it, so its
    id cannot be reused while the entry exists. At most LIMIT entries are kept.
    """

    LIMIT = 20_000

    def __init__(self, dumps):
        self._dumps = dumps
        self._texts = {}

    def text(self, namespace, repository):
        """Return the JSON text of the list item of ``repository`` in ``namespace``."""
        entry = self._texts.get(id(repository))
        if entry is None or entry[0] is not repository or entry[1] != namespace:
            # A list item holds nothing of the caller's: no user in it.
            entry = (
                repository,
                namespace,
                self._dumps(schemas.REPOSITORY_LIST_ITEM.dump(shown(namespace, repository, None))),
            )
            if len(self._texts) >= self.LIMIT:
                self._texts.clear()
            self._texts[id(repository)] = entry
        return entry[2]


@web.route(blueprint, REPOSITORY, methods=["GET"])
def repository_detail(namespace, repo_name):
    """Show one repository."""
    user = caller()
    return schemas.REPOSITORY_DETAIL.dump(shown(namespace, readable(namespace, repo_name, user), user))


@web.route(blueprint, REPOSITORY, methods=["PUT", "PATCH"])
def update_repository(namespace, repo_name):
    """Change a repository's description, full description, visibility or logo."""
    user = writable(namespace, repo_name)
    data = schemas.load(
        schemas.REPOSITORY_UPDATE,
        parse_body(request),
        {"namespace": namespace, "repo_name": repo_name},
    )
    del data["namespace"], data["repo_name"]
    repository = store().update_repository(namespace, repo_name, **data)
    return schemas.REPOSITORY_UPDATED.dump(shown(namespace, repository, user))


@web.route(blueprint, REPOSITORY, methods=["DELETE"])
def delete_repository(namespace, repo_name):
    """Delete a repository and its tags."""
    writable(namespace, repo_name)
    store().delete_repository(namespace, repo_name)
    return web.no_content()


@web.route(blueprint, REPOSITORY + "star/", methods=["PUT", "DELETE"])
def star(namespace, repo_name):
    """Star a repository (PUT) or take the star back (DELETE), as the signed-in caller."""
    user = caller()
    accounts().check_star(user)
    readable(namespace, repo_name, user)
    store().star_repository(namespace, repo_name, user.name, request.method == "PUT")
    return web.no_content()


@web.route(blueprint, REPOSITORY + "tags/", methods=["GET"])
def list_tags(namespace, repo_name):
    """List a repository's tags in the order they were first written."""
    return schemas.TAG.dump_many(readable(namespace, repo_name, caller())["tags"])


@web.route(blueprint, REPOSITORY + "tags/<tag>/", methods=["GET"])
def tag_detail(namespace, repo_name, tag):
    """Show one tag."""
    readable(namespace, repo_name, caller())
    return schemas.TAG.dump(store().get_tag(namespace, repo_name, tag))


@web.route(blueprint, REPOSITORY + "tags/<tag>/", methods=["PUT"])
def put_tag(namespace, repo_name, tag):
    """Point a tag at an image: 201 for a new tag, 200 for a moved one; counts a push."""
    writable(namespace, repo_name)
    data = schemas.load(schemas.TAG_WRITE, parse_body(request), {"tag": tag})
    entry, created = store().put_tag(namespace, repo_name, tag, data["image_id"])
    return schemas.TAG.dump(entry), 201 if created else 200


@web.route(blueprint, REPOSITORY + "tags/<tag>/", methods=["DELETE"])
def delete_tag(namespace, repo_name, tag):
    """Delete one tag."""
    writable(namespace, repo_name)
    store().delete_tag(namespace, repo_name, tag)
    return web.no_content()
