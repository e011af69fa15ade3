"""What every blueprint shares: routes in both slash forms, and answers."""

from flask import Response, jsonify


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
