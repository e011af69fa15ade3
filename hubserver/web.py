"""What every blueprint shares: the store, the accounts and the caller; routes in
both slash forms; answers."""

import json
import logging

from flask import Response, current_app, g, jsonify, request
from flask.json.provider import DefaultJSONProvider

from hubserver import routes
from hubserver.accounts import ANONYMOUS, CONTROLS, HUB_API, REGISTRY
from hubserver.storage import CorruptNamespace

STORE_KEY = "hubserver.store"
ACCOUNTS_KEY = "hubserver.accounts"
NAMESPACE_KEY = "hubserver.namespace"  # the WSGI environ's key for the URL's namespace, for the access log
SKIPPED_HEADER = "X-Hub-Unreadable-Namespaces"
CREDENTIALS = {routes.REGISTRY: REGISTRY, routes.CONTROLS: CONTROLS}  # the schemes each surface takes; else HUB_API
log = logging.getLogger("hubserver")


def init_app(app, store, accounts):
    """Give ``app`` its store and its accounts; identify callers when accounts are on; note each URL's namespace."""
    app.extensions[STORE_KEY] = store
    app.extensions[ACCOUNTS_KEY] = accounts
    if accounts.enabled:
        app.before_request(identify_caller)
    app.after_request(note_namespace)


def note_namespace(response):
    """Leave the URL's namespace in the WSGI environ, for the access log (an after-request hook)."""
    request.environ[NAMESPACE_KEY] = (request.view_args or {}).get("namespace")
    return response


def store():
    """Return the application's store."""
    return current_app.extensions[STORE_KEY]


def accounts():
    """Return the application's accounts: who the caller is, and what it may do."""
    return current_app.extensions[ACCOUNTS_KEY]


def identify_caller():
    """Find who the request comes from, once, with the credentials its surface takes (a before-request hook)."""
    schemes = CREDENTIALS.get(routes.surface_of(request.path), HUB_API)
    g.hub_caller = accounts().identify(request.headers.get("Authorization"), request.remote_addr, schemes)


def request_caller():
    """Return the Caller of this request."""
    return g.get("hub_caller", ANONYMOUS)


def caller():
    """Return the signed-in User, or None."""
    return request_caller().user


def listed_namespaces(user):
    """Return [(namespace, the repositories ``user`` may see there)] of every namespace, and the unreadable ones.

    A namespace whose files cannot be read is left out, and logged: one bad
    file must not break a listing of all the others.
    """
    listed, unreadable = [], []
    for namespace in store().namespace_names():
        try:
            listed.append((namespace, visible_repositories(namespace, user)))
        except CorruptNamespace as error:
            log.warning("%s", error)
            unreadable.append(namespace)
    return listed, unreadable


def skipped(response, unreadable):
    """Say on a listing's answer which namespaces it left out because their files cannot be read."""
    if unreadable:
        response.headers[SKIPPED_HEADER] = ", ".join(unreadable)
    return response


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


class DRFJSONProvider(DefaultJSONProvider):
    """JSON as DRF's JSONRenderer writes it: compact, UTF-8, keys in their order, no newline at the end.

    Like DRF, U+2028 and U+2029 are written escaped, so that a body is also
    valid JavaScript.
    """

    sort_keys = False
    ensure_ascii = False

    def __init__(self, app):
        super().__init__(app)
        # One encoder for every answer: json.dumps with options builds a new one each call.
        self._encoder = json.JSONEncoder(default=self.default, ensure_ascii=False, separators=(",", ":"))

    def dumps(self, obj, **kwargs):
        text = super().dumps(obj, **{"separators": (",", ":"), **kwargs}) if kwargs else self._encoder.encode(obj)
        return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")

    def response(self, *args, **kwargs):
        return self._app.response_class(self.dumps(self._prepare_response_obj(args, kwargs)), mimetype=self.mimetype)
