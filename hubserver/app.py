"""The application factory: settings, blueprints, and the one error handler.

``create_app(config)`` builds the Flask application of hubserver; the command
line (``hubserver.cli``) serves it with waitress.
"""

import logging
import os
from functools import partial

from flask import Flask, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from hubserver import guard, limits, openapi, routes, settings, web
from hubserver.accounts import Accounts, BadRegistryToken, BearerTokens, LoginThrottle, TokenStore
from hubserver.accounts.api_tokens import TOKENS_FILE
from hubserver.accounts.bearer import SECRET_FILE
from hubserver.clock import Clock
from hubserver.controls import views as controls
from hubserver.errors import AnswerError, ServerError
from hubserver.mirror import open_mirror
from hubserver.registry import auth as registry_auth
from hubserver.registry import (
    gc,
    realm,  # the token endpoint: its views are on the registry's blueprint
)
from hubserver.registry import views as registry
from hubserver.registry.errors import RegistryError
from hubserver.storage import disk_trouble, open_storage, state
from hubserver.ui import views as ui
from hubserver.v1 import views as v1
from hubserver.v1.bodies import FORM_TYPES, JSON_TYPE
from hubserver.web import json_answer

log = logging.getLogger("hubserver")

# DRF's wording for the HTTP errors werkzeug raises with its own default text.
HTTP_DETAILS = {
    404: "Not found.",
    413: "Request body too large.",
    500: "A server error occurred.",
}
# What werkzeug's HTTP errors are in the registry protocol.
REGISTRY_CODES = {401: "UNAUTHORIZED", 403: "DENIED", 404: "NAME_UNKNOWN", 405: "UNSUPPORTED", 413: "SIZE_INVALID"}
# The registry codes whose answer carries the error's own words as its detail.
REGISTRY_WORDED = ("UNKNOWN", "TOOMANYREQUESTS")


class HubFlask(Flask):
    """Flask, answering OPTIONS with JSON as DRF does, instead of an empty HTML answer.

    It also asks once a function, not on every call, whether a view or a hook
    is a coroutine function (Flask's ``ensure_sync``): about 2 % of a read.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._synchronous = {}  # view or hook -> what Flask's ensure_sync made of it

    def ensure_sync(self, func):
        known = self._synchronous.get(func)
        if known is None:
            known = self._synchronous[func] = super().ensure_sync(func)
        return known

    def make_default_options_response(self):
        """Describe the path: its name, what it does, and the media types it speaks."""
        allowed = super().make_default_options_response().allow
        view = self.view_functions[request.url_rule.endpoint]
        response = jsonify(
            {
                "name": view.__name__.replace("_", " ").title(),
                "description": (view.__doc__ or "").strip(),
                "renders": [JSON_TYPE],
                "parses": [JSON_TYPE, *FORM_TYPES],
            }
        )
        response.headers["Allow"] = allow_header(allowed)
        return response


def create_app(config=None):
    """Build the application: defaults, then ``HUB_*`` environment variables, then ``config``, each typed once."""
    app = HubFlask("hubserver", static_folder=None)  # the one stylesheet is served by the ui blueprint
    app.config.from_mapping(settings.app_settings(os.environ, config))
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_FORM_MEMORY_SIZE"] = app.config["MAX_BODY_SIZE"]
    app.json = web.DRFJSONProvider(app)
    app.url_map.merge_slashes = False  # "a//b" is a 404, never an HTML redirect
    app.url_map.redirect_defaults = False  # /v2/library/x is as good as /v2/x: no redirect
    values = app.config
    clock = Clock(values["FROZEN_TIME"])
    storage = open_storage(
        values["STORAGE"],
        values["DATA_DIR"],
        clock,
        values["LOCK_TIMEOUT"],
        values["SYNC"],
        values["MAX_BLOB_SIZE"],
    )
    seed = state.read_seed(values["SEED"]) if values["SEED"] else {}
    storage.store.replace_namespaces(seed)  # the seed's namespaces replace theirs, all or none; others stay
    accounts = open_accounts(values, storage, clock)
    limits.init_app(app, storage.blobs.max_size, accounts.enabled)  # first: before the journal, the faults, the views
    guard.init_app(app)
    v1.init_app(app)
    registry.init_app(app, storage.blobs, open_mirror(values, storage))
    ui.init_app(app)
    if values["ADMIN"]:
        controls.init_app(app, storage.store, clock, seed, values["JOURNAL_SIZE"], partial(gc.forget, storage))
    web.init_app(app, storage.store, accounts)
    openapi.init_app(app)
    app.register_error_handler(Exception, error_response)
    return app


def open_accounts(values, storage, clock):
    """Return the Accounts the settings ask for, their files placed by the storage (in memory: none)."""
    users = values["USERS"]
    accounts = Accounts(
        users,
        TokenStore(storage.place(TOKENS_FILE), values["LOCK_TIMEOUT"]),
        BearerTokens(storage.place(SECRET_FILE), clock, values["TOKEN_TTL"]),
        LoginThrottle(values["LOGIN_RATE"]),
    )
    if accounts.enabled:
        accounts.check_users_file()
    return accounts


def close(app):
    """Finish ``app``'s work at a clean stop: on disk, every log is compacted into its namespace file."""
    app.extensions[web.STORE_KEY].close()


def error_response(error):
    """Turn any exception into its answer, in the shape of the surface asked: the one error handler."""
    answer = as_answer(error)
    surface = routes.surface_of(request.path)
    if surface == routes.REGISTRY:
        return registry_answer(answer)
    if surface == routes.PAGES:
        return ui.error_page(answer.status, answer.shown())
    response = json_answer(answer.body(), answer.status)
    response.headers.update(answer.headers())
    return response


class FieldErrors(AnswerError):
    """A body that failed its schema: DRF's 400 with each field's messages."""

    status = 400

    def __init__(self, messages):
        super().__init__("invalid fields")
        self.messages = messages

    def body(self):
        return self.messages


class HttpAnswer(AnswerError):
    """One of werkzeug's HTTP errors (a 404 of no route, a 405, a 413, ...), worded as DRF words it."""

    def __init__(self, error):
        super().__init__(_http_detail(error))
        self.status = error.code
        self.registry_code = REGISTRY_CODES.get(error.code, "UNKNOWN")
        self.allowed = error.valid_methods if isinstance(error, MethodNotAllowed) else None

    def headers(self):
        return {"Allow": allow_header(self.allowed)} if self.allowed else {}


def as_answer(error):
    """Return the AnswerError an exception stands for; an unexpected one is logged, and a 500."""
    if isinstance(error, AnswerError):
        if error.status >= 500:
            log.error("%s", error)
        return error
    if isinstance(error, ValidationError):
        return FieldErrors(error.messages)
    if isinstance(error, HTTPException):
        return HttpAnswer(error)
    trouble = disk_trouble(error)
    if trouble is not None:  # a blob write the disk refused
        return trouble(None, error)
    log.exception("unexpected error on %s %s", request.method, request.path)
    return ServerError()


def registry_answer(answer):
    """Render an answer in the registry protocol's shape (a 401 with its Bearer challenge)."""
    if isinstance(answer, RegistryError):
        error = answer
    elif answer.status == 401 and routes.route_of(request.path).kind == routes.TOKEN:
        error = realm.refused()  # the token endpoint itself asks for Basic credentials
    elif answer.status == 401:
        error = registry_auth.challenge(error="invalid_token" if isinstance(answer, BadRegistryToken) else None)
    else:
        detail = answer.registry_detail()
        if detail is None and answer.registry_code in REGISTRY_WORDED:
            detail = answer.shown()
        error = RegistryError(answer.registry_code, detail, status=answer.status, headers=answer.headers())
    response = json_answer(error.body(), error.status)
    response.headers.update(error.headers())
    return response


def allow_header(methods):
    """Return the value of an ``Allow`` header: the methods, sorted."""
    return ", ".join(sorted(methods))


def _http_detail(error):
    if isinstance(error, MethodNotAllowed):
        return 'Method "%s" not allowed.' % request.method
    if error.description != type(error).description:
        return error.description  # raised with a message of our own
    return HTTP_DETAILS.get(error.code, error.name + ".")
