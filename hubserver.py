"""hubserver: a local stand-in for a hosted Docker image repository hub.

``create_app`` builds the Flask application; ``main`` is the command line, which
serves it with waitress. Run ``python hubserver.py --help``.
"""

import argparse
import logging
import os
import shutil
import signal
import sys
import tempfile

from flask import Flask, jsonify, request
from marshmallow import ValidationError
from waitress.channel import HTTPChannel
from waitress.server import create_server
from waitress.task import WSGITask
from werkzeug.exceptions import HTTPException, MethodNotAllowed

import admin
import api
import openapi
import ui
from accounts import (
    AccessError,
    Accounts,
    AccountsFileError,
    InvalidCredentials,
    InvalidToken,
    NotAuthenticated,
    PermissionDenied,
    TokenStore,
)
from bodies import FORM_TYPES, JSON_TYPE
from clock import Clock, parse_timestamp
from registry import gc
from registry import views as registry
from registry.blobs import BlobStore
from registry.errors import RegistryError
from storage import (
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
import web
from web import json_answer

log = logging.getLogger("hubserver")

DEFAULTS = {
    "DATA_DIR": "data",
    "MAX_BODY_SIZE": 1024 * 1024,
    "LOCK_TIMEOUT": 10.0,
    "ADMIN": True,
    "SEED": None,
    "FROZEN_TIME": None,
    "JOURNAL_SIZE": 1000,
    "USERS": None,
    "MAX_BLOB_SIZE": 10 * 1024**3,
}

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
    InvalidToken: (401, "Token"),
    PermissionDenied: (403, None),
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
    app = HubFlask(__name__, static_folder=None)  # the one stylesheet is served by the ui blueprint
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("HUB")
    if config:
        app.config.update(config)
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_FORM_MEMORY_SIZE"] = int(app.config["MAX_BODY_SIZE"])
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.json.compact = True
    clock = Clock(app.config["FROZEN_TIME"])
    store = NamespaceStore(str(app.config["DATA_DIR"]), clock, float(app.config["LOCK_TIMEOUT"]))
    seed = state.read_seed(app.config["SEED"]) if app.config["SEED"] else {}
    for namespace, repositories in seed.items():  # the seed's namespaces replace theirs; others stay
        store.replace_namespace(namespace, repositories)
    users = app.config["USERS"]
    app.extensions[web.STORE_KEY] = store
    app.extensions[web.ACCOUNTS_KEY] = accounts = Accounts(users and str(users), TokenStore(store.data_dir, store.lock_timeout))
    if accounts.enabled:
        accounts.check_users_file()
    app.extensions[api.LIST_ITEMS_KEY] = api.ListItems(app.json.dumps)
    app.extensions[registry.BLOBS_KEY] = BlobStore(store.data_dir, int(app.config["MAX_BLOB_SIZE"]))
    app.url_map.merge_slashes = False  # "a//b" is a 404, never an HTML redirect
    app.url_map.redirect_defaults = False  # /v2/library/x is as good as /v2/x: no redirect
    app.register_blueprint(api.blueprint)
    app.register_blueprint(registry.blueprint)
    app.register_blueprint(ui.blueprint)
    if app.config["ADMIN"]:
        admin.install(app, store, clock, seed, int(app.config["JOURNAL_SIZE"]))
    if accounts.enabled:
        app.before_request(api.identify_caller)
    app.add_url_rule("/openapi.json", "openapi", openapi.serve)
    app.register_error_handler(Exception, error_response)
    return app


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
    if isinstance(error, AccessError):
        return RegistryError("DENIED" if isinstance(error, PermissionDenied) else "UNAUTHORIZED")
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
    if error.status == 401:
        response.headers["WWW-Authenticate"] = registry.CHALLENGE
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


# The command line


def _port(text):
    port = int(text)
    if not 0 <= port <= 65535:
        raise ValueError(text)
    return port


def _positive_int(text):
    value = int(text)
    if value <= 0:
        raise ValueError(text)
    return value


def _stamp(text):
    parse_timestamp(text)
    return text


_port.__name__ = "port number (0 to 65535)"
_positive_int.__name__ = "positive whole number"
_stamp.__name__ = "time stamp like 2015-06-07T10:41:31.882Z"


def build_parser():
    """Return the command-line parser; defaults come from ``HUB_*`` variables."""
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="hubserver.py",
        description="A local stand-in for a hosted Docker image repository hub (the /v1/repositories API),"
        " and an image registry (/v2/). 'hubserver.py gc --data-dir D' removes unreferenced blobs.",
        epilog="Each option's default can also be set with the environment variable shown.",
    )
    parser.add_argument(
        "--host",
        default=env("HUB_HOST", "127.0.0.1"),
        help="address to listen on (HUB_HOST; default 127.0.0.1, this machine only)",
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=env("HUB_PORT", "5000"),
        help="port to listen on; 0 takes a free one (HUB_PORT; default 5000)",
    )
    parser.add_argument(
        "--data-dir",
        default=env("HUB_DATA_DIR", DEFAULTS["DATA_DIR"]),
        help="folder of the namespace files, created if missing (HUB_DATA_DIR; default ./data)",
    )
    parser.add_argument(
        "--max-body-size",
        type=_positive_int,
        metavar="BYTES",
        default=env("HUB_MAX_BODY_SIZE", str(DEFAULTS["MAX_BODY_SIZE"])),
        help="largest request body accepted, in bytes (HUB_MAX_BODY_SIZE; default 1048576)",
    )
    parser.add_argument(
        "--threads",
        type=_positive_int,
        default=env("HUB_THREADS", "8"),
        help="requests served at once (HUB_THREADS; default 8)",
    )
    parser.add_argument(
        "--max-blob-size",
        type=_positive_int,
        metavar="BYTES",
        default=env("HUB_MAX_BLOB_SIZE", str(DEFAULTS["MAX_BLOB_SIZE"])),
        help="largest blob a /v2/ push may upload, in bytes (HUB_MAX_BLOB_SIZE; default 10 GiB)",
    )
    parser.add_argument(
        "--users",
        metavar="FILE",
        default=env("HUB_USERS"),
        help='turn accounts on: {"users": {"madams": {"password": "...", "orgs": ["acme"]}}} (HUB_USERS)',
    )
    controls = parser.add_argument_group("test-double controls")
    controls.add_argument(
        "--seed",
        metavar="PATH",
        default=env("HUB_SEED"),
        help="namespace file, folder of them, or /_hub/state export to start from and reset to;"
        " only ever read (HUB_SEED)",
    )
    controls.add_argument(
        "--ephemeral",
        action="store_true",
        default=env("HUB_EPHEMERAL", "") == "true",
        help="use a fresh temporary data directory, removed at exit (HUB_EPHEMERAL=true)",
    )
    controls.add_argument(
        "--frozen-time",
        type=_stamp,
        metavar="STAMP",
        default=env("HUB_FROZEN_TIME"),
        help="start the clock frozen at STAMP, e.g. 2015-06-07T10:41:31.882Z (HUB_FROZEN_TIME)",
    )
    controls.add_argument(
        "--journal-size",
        type=_positive_int,
        metavar="N",
        default=env("HUB_JOURNAL_SIZE", str(DEFAULTS["JOURNAL_SIZE"])),
        help="requests kept in the journal (HUB_JOURNAL_SIZE; default 1000)",
    )
    controls.add_argument(
        "--no-admin",
        action="store_true",
        default=env("HUB_ADMIN", "") == "false",
        help="turn the /_hub/ controls off: every /_hub/ path is a 404 (HUB_ADMIN=false)",
    )
    return parser


def _stop(signum, frame):
    raise KeyboardInterrupt  # waitress's loop ends cleanly on it


class _SocketTask(WSGITask):
    """A waitress task that lets the application reach the client's socket (to drop it)."""

    def get_environment(self):
        environ = super().get_environment()
        environ[admin.SOCKET_KEY] = self.channel.socket
        return environ


class _SocketChannel(HTTPChannel):
    """A waitress channel that hangs up at once on a TLS handshake.

    hubserver speaks plain HTTP. Registry clients told a registry is insecure
    try HTTPS first and fall back to HTTP when that fails: waiting for the end
    of an HTTP header that never comes would cost them their whole handshake
    timeout (10 s for skopeo) on every connection.
    """

    task_class = _SocketTask
    _first_bytes = True

    def received(self, data):
        if self._first_bytes and data[:1] == b"\x16":  # a TLS record of type handshake
            self.will_close = True
            return False
        self._first_bytes = False
        return super().received(data)


def serve(args, data_dir):
    """Build the app on ``data_dir`` and serve it until SIGINT or SIGTERM; return the exit status."""
    config = {
        "DATA_DIR": data_dir,
        "MAX_BODY_SIZE": args.max_body_size,
        "ADMIN": not args.no_admin,
        "SEED": args.seed,
        "FROZEN_TIME": args.frozen_time,
        "JOURNAL_SIZE": args.journal_size,
        "USERS": args.users,
        "MAX_BLOB_SIZE": args.max_blob_size,
    }
    try:
        app = create_app(config)
        server = create_server(
            app, host=args.host, port=args.port, threads=args.threads, max_request_body_size=args.max_blob_size
        )
    except (OSError, state.InvalidState, StorageError, AccountsFileError) as error:
        print("hubserver: cannot start: %s" % error, file=sys.stderr)
        return 1
    server.channel_class = _SocketChannel
    signal.signal(signal.SIGTERM, _stop)
    print("hubserver listening on http://%s:%s" % (args.host, server.effective_port), flush=True)
    server.run()
    return 0


def collect_garbage(argv):
    """``hubserver.py gc --data-dir D``: remove blobs no manifest references; report what was freed."""
    parser = argparse.ArgumentParser(prog="hubserver.py gc", description=collect_garbage.__doc__.split(": ", 1)[1])
    parser.add_argument("--data-dir", default=os.environ.get("HUB_DATA_DIR", DEFAULTS["DATA_DIR"]), help="the data directory (HUB_DATA_DIR; default ./data)")
    args = parser.parse_args(argv)
    store = NamespaceStore(args.data_dir, Clock())
    count, freed = gc.collect(store, BlobStore(store.data_dir, DEFAULTS["MAX_BLOB_SIZE"]))
    print("removed %d unreferenced blob(s), %d bytes" % (count, freed))
    return 0


def main(argv=None):
    """Run the server until SIGINT or SIGTERM (or the gc command); return the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["gc"]:
        return collect_garbage(argv[1:])
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if not args.ephemeral:
        return serve(args, args.data_dir)
    data_dir = tempfile.mkdtemp(prefix="hubserver-")
    try:
        return serve(args, data_dir)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
