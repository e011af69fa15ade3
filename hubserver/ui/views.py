"""The pages: ``/`` for a browser, ``/ui/<namespace>``, ``/ui/<namespace>/<repo_name>``.

Read-only, server-rendered with Jinja2, one small stylesheet served by
hubserver, no JavaScript, nothing from another host. Templates and the
stylesheet are read as package data, so the pages work from the one-file
build (a zip) too. With accounts on, the pages show public repositories only.
"""

import pkgutil

import jinja2
from flask import Blueprint, Response, render_template, request

from hubserver.names import is_namespace
from hubserver.storage import RepositoryNotFound
from hubserver.v1 import search
from hubserver.web import accounts, caller, json_answer, listed_namespaces, skipped, store, visible_repositories

blueprint = Blueprint("ui", __name__)
blueprint.jinja_loader = jinja2.PackageLoader("hubserver.ui", "templates")  # works inside a zip, unlike a folder
PAGE_LIMIT = 100
STYLESHEET = "/static/hubserver.css"


def init_app(app):
    """Mount the pages."""
    app.register_blueprint(blueprint)


def visible(namespace):
    """Return the repositories of a namespace that the pages show: what an anonymous caller may see."""
    return visible_repositories(namespace, None)


def wants_html():
    """Tell whether the client prefers HTML to JSON (a browser does; curl and */* do not)."""
    accepted = request.accept_mimetypes
    return accepted.best_match(["application/json", "text/html"]) == "text/html" and (
        accepted["text/html"] > accepted["application/json"]
    )


def page(template, status=200, **context):
    return Response(render_template(template, **context), status=status, mimetype="text/html")


def index_page():
    """The list of namespaces that hold a repository the pages show."""
    listed, unreadable = listed_namespaces(None)
    shown = [(namespace, len(repositories)) for namespace, repositories in listed if repositories]
    return skipped(page("index.html", namespaces=shown), unreadable)


def error_page(status, message):
    """Return an HTML error page (everything under /ui/ answers HTML)."""
    titles = {404: "Not found", 405: "Not allowed"}
    return page("error.html", status=status, title=titles.get(status, "Something went wrong"), message=message)


@blueprint.get("/ui/<namespace>")
@blueprint.get("/ui/<namespace>/")
def namespace_page(namespace):
    """A namespace's repositories, with a search box (?name=)."""
    if not is_namespace(namespace):
        return error_page(404, "%s cannot be a namespace." % namespace)
    name = request.args.get("name", "")
    repositories = search.select(visible(namespace), name)
    return page(
        "namespace.html",
        namespace=namespace,
        name=name,
        repositories=repositories[:PAGE_LIMIT],
        total=len(repositories),
        shown=min(len(repositories), PAGE_LIMIT),
    )


@blueprint.get("/ui/<namespace>/<repo_name>")
@blueprint.get("/ui/<namespace>/<repo_name>/")
def repository_page(namespace, repo_name):
    """One repository: its facts, its tags with their image ids, how to pull them."""
    try:
        repository = store().get_repository(namespace, repo_name)
    except RepositoryNotFound:
        repository = None
    if repository is None or not accounts().can_read(None, namespace, repository):
        return error_page(404, "There is no repository %s/%s here." % (namespace, repo_name))
    return page("repository.html", namespace=namespace, repository=repository, host=request.host)


@blueprint.get("/")
def root():
    """A page for a browser; for anyone else the namespaces holding a repository the caller can see."""
    if wants_html():
        return index_page()
    listed, unreadable = listed_namespaces(caller())
    names = [namespace for namespace, repositories in listed if repositories]
    return skipped(json_answer({"namespaces": names}, 200), unreadable)


@blueprint.get(STYLESHEET)
def stylesheet():
    """The pages' one stylesheet."""
    return Response(pkgutil.get_data("hubserver.ui", "static/hubserver.css"), mimetype="text/css")
