"""What every blueprint shares: the store, the accounts and the caller; routes in
both slash forms; answers."""

from flask import Response, current_app, g, jsonify

STORE_KEY = "hubserver.store"
ACCOUNTS_KEY = "hubserver.accounts"


def store():
    """Return the application's store."""
    return current_app.extensions[STORE_KEY]


def accounts():
    """Return the application's accounts: who the caller is, and what it may do."""
    return current_app.extensions[ACCOUNTS_KEY]


def caller():
    """Return the signed-in User, or None."""
    return g.get("hub_user")


def visible_repositories(namespace, user):
    """Return the repositories of ``namespace`` that ``user`` (None: anonymous) may see, oldest first."""
    return store().list_repositories(namespace, public_only=not accounts().may_act_for(user, namespace))


def route(blueprint, rule, methods):
    """Register a view on ``rule`` both with and without its trailing slash.

    Two strict rules rather than one lenient one, so that a wrong method is a
    405 on either form (werkzeug reports 405 only for exact matches).
    """

    def register(view):
        for form in (rule.rstrip("/"), rule.rstrip("/") + "/"):
            blueprint.add_url_rule(form, view_func=view, methods=methods, strict_slashes=True)
        return view

    return register


def no_content(status=204):
    """Return an answer without a body, and so without a Content-Type."""
    response = Response(status=status)
    del response.headers["Content-Type"]
    return response


def json_answer(body, status):
    """Return ``body`` as a JSON answer with ``status``; a 204 or 304 has no body."""
    if status in (204, 304):
        return no_content(status)
    response = jsonify(body)
    response.status_code = status
    return response
