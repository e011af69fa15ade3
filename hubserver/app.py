"""The application factory: settings, blueprints, and the one error handler.

``create_app(config)`` builds the Flask application of hubserver; the command
line (``hubserver.cli``) serves it with waitress.
"""

import logging

from flask import Flask, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from hubserver import openapi, web
from hubserver.accounts import (
    AccessError,
    Accounts,
    AccountsFileError,
    AuthenticationFailed,
    BearerTokens,
    InvalidCredentials,
    LoginThrottle,
    NotAuthenticated,
    PermissionDenied,
    Throttled,
    TokenStore,
)
from hubserver.clock import Clock
from hubserver.controls import views as controls
from hubserver.registry import auth as registry_auth
from hubserver.registry import realm  # noqa: F401  (the token endpoint's views, on the registry's blueprint)
from hubserver.registry import views as registry
from hubserver.registry.blobs import BlobStore
from hubserver.registry.errors import RegistryError
from hubserver.registry.links import Links
from hubserver.settings import DEFAULTS
from hubserver.storage import (
    CorruptNamespace,
    DiskFull,
    DiskUnwritable,
    ManifestNotFound,
    NamespaceBusy,
    NamespaceStore,
    RepositoryExists,
    RepositoryNotFound,
    StorageError,
    TagNotFound,
    disk_trouble,
    state,
)
from hubserver.ui import views as ui
from hubserver.v1 import views as v1
from hubserver.v1.bodies import FORM_TYPES, JSON_TYPE
from hubserver.web import json_answer

log = logging.getLogger("hubserver")

# The answer to each domain error: its status, and the detail shown (None: the error's own message).
STORAGE_ANSWERS = {
    RepositoryNotFound: (404, "Not found."),
    ManifestNotFound: (404, "Not found."),
    TagNotFound: (404, "Not found."),
    RepositoryExists: (409, None),
    CorruptNamespace: (500, None),
    NamespaceBusy: (503, None),
    DiskFull: (507, None),
    DiskUnwritable: (503, None),
}

# The answer to each access error: its status, and the challenge a 401 carries.
ACCESS_ANSWERS = {
    NotAuthenticated: (401, "Token"),
    AuthenticationFailed: (401, "Token"),
    PermissionDenied: (403, None),
    Throttled: (429, None),
}

# DRF's wording for the HTTP errors werkzeug raises with its own default text.
HTTP_DETAILS = {
    404: "Not found.",
    413: "Request body too large.",
    500: "A server error occurred.",
}


class HubFlask(Flask):
    """Flask, answering OPTIONS with JSON as DRF does, instead of an empty HTML answer."""

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
    """Build the application: defaults, then ``HUB_*`` environment variables, then ``config``."""
    app = HubFlask("hubserver", static_folder=None)  # the one stylesheet is served by the ui blueprint
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("HUB")
    if config:
        app.config.update(config)
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_FORM_MEMORY_SIZE"] = int(app.config["MAX_BODY_SIZE"])
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.json.compact = True
    clock = Clock(app.config["FROZEN_TIME"])
    store = NamespaceStore(
        str(app.config["DATA_DIR"]), clock, float(app.config["LOCK_TIMEOUT"]), sync=bool(app.config["SYNC"])
    )
    seed = state.read_seed(app.config["SEED"]) if app.config["SEED"] else {}
    for namespace, repositories in seed.items():  # the seed's namespaces replace theirs; others stay
        store.replace_namespace(namespace, repositories)
    users = app.config["USERS"]
    app.extensions[web.STORE_KEY] = store
    app.extensions[web.ACCOUNTS_KEY] = accounts = Accounts(
        users and str(users),
        TokenStore(store.data_dir, store.lock_timeout),
        BearerTokens(store.data_dir, clock, int(app.config["TOKEN_TTL"])),
        LoginThrottle(int(app.config["LOGIN_RATE"])),
    )
    if accounts.enabled:
        accounts.check_users_file()
    app.extensions[v1.LIST_ITEMS_KEY] = v1.ListItems(app.json.dumps)
    app.extensions[registry.BLOBS_KEY] = blobs = BlobStore(store.data_dir, int(app.config["MAX_BLOB_SIZE"]))
    app.extensions[registry.LINKS_KEY] = Links(blobs)
    app.url_map.merge_slashes = False  # "a//b" is a 404, never an HTML redirect
    app.url_map.redirect_defaults = False  # /v2/library/x is as good as /v2/x: no redirect
    app.register_blueprint(v1.blueprint)
    app.register_blueprint(registry.blueprint)
    app.register_blueprint(ui.blueprint)
    if app.config["ADMIN"]:
        controls.install(app, store, clock, seed, int(app.config["JOURNAL_SIZE"]))
    if accounts.enabled:
        app.before_request(v1.identify_caller)
    app.add_url_rule("/openapi.json", "openapi", openapi.serve)
    app.register_error_handler(Exception, error_response)
    return app


def close(app):
    """Finish ``app``'s work at a clean stop: every log is compacted into its namespace file."""
    app.extensions[web.STORE_KEY].close()


def error_response(error):
    """Turn any exception into the contract's JSON error answer (the registry's shape under /v2/)."""
    if request.path == "/v2" or request.path.startswith("/v2/"):
        return _registry_error_response(_as_registry_error(error))
    if request.path.startswith("/ui/"):
        if isinstance(error, StorageError):
            return ui.error_page(STORAGE_ANSWERS[type(error)][0], str(error))
        if not isinstance(error, HTTPException):
            log.exception("unexpected error on %s %s", request.method, request.path)
        return ui.error_page(getattr(error, "code", 500), "")
    headers = {}
    if isinstance(error, ValidationError):
        status, body = 400, error.messages
    elif isinstance(error, InvalidCredentials):
        status, body = 400, {"non_field_errors": [str(error)]}
    elif isinstance(error, AccessError):
        status, challenge = ACCESS_ANSWERS[type(error)]
        body = {"detail": str(error)}
        if challenge:
            headers["WWW-Authenticate"] = challenge
        if isinstance(error, Throttled):
            headers["Retry-After"] = str(error.wait)
    elif isinstance(error, AccountsFileError):
        log.error("%s", error)
        status, body = 500, {"detail": str(error)}
    elif isinstance(error, StorageError):
        status, detail = STORAGE_ANSWERS[type(error)]
        body = {"detail": detail or str(error)}
        if status >= 500:
            log.error("%s", error)
    elif isinstance(error, HTTPException):
        status, body = error.code, {"detail": _http_detail(error)}
        if isinstance(error, MethodNotAllowed):
            headers["Allow"] = allow_header(error.valid_methods)
    else:
        log.exception("unexpected error on %s %s", request.method, request.path)
        status, body = 500, {"detail": HTTP_DETAILS[500]}
    response = json_answer(body, status)
    response.headers.update(headers)
    return response


# What the errors raised outside the registry views mean in the registry protocol.
REGISTRY_CODES = {401: "UNAUTHORIZED", 403: "DENIED", 404: "NAME_UNKNOWN", 405: "UNSUPPORTED", 413: "SIZE_INVALID"}


def _as_registry_error(error):
    if isinstance(error, RegistryError):
        return error
    if isinstance(error, Throttled):
        return RegistryError("TOOMANYREQUESTS", str(error), headers={"Retry-After": str(error.wait)})
    if isinstance(error, PermissionDenied):
        return RegistryError("DENIED")
    if isinstance(error, AccessError):
        return registry_auth.challenge()
    if isinstance(error, HTTPException) and error.code in REGISTRY_CODES:
        return RegistryError(REGISTRY_CODES[error.code], status=error.code)
    if isinstance(error, StorageError):
        status, _ = STORAGE_ANSWERS[type(error)]
        return RegistryError("UNKNOWN", str(error), status=status)
    if disk_trouble(error) is not None:  # a blob write the disk refused
        status, _ = STORAGE_ANSWERS[disk_trouble(error)]
        return RegistryError("UNKNOWN", "Not stored: %s." % error.strerror, status=status)
    if not isinstance(error, HTTPException):
        log.exception("unexpected error on %s %s", request.method, request.path)
    return RegistryError("UNKNOWN", status=getattr(error, "code", 500))


def _registry_error_response(error):
    response = json_answer(error.body(), error.status)
    response.headers.update(error.headers)
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
