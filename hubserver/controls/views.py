"""The test-double controls under ``/_hub/``: health, reset, state, clock, journal, faults.

Admin paths are never journaled and never faulted. The journal and the fault
rules act on every other request, before it reaches storage. With accounts on,
only users marked ``admin`` may use the controls (Token or Basic credentials).
"""

import socket
import struct
import time

from flask import Blueprint, current_app, g, request
from marshmallow import ValidationError
from werkzeug.exceptions import NotFound, RequestEntityTooLarge

from hubserver import limits, routes, web
from hubserver.controls import schemas
from hubserver.controls.faults import FaultRules
from hubserver.controls.journal import BODY_LIMIT, Journal
from hubserver.schemas import load
from hubserver.storage import state
from hubserver.v1.bodies import FORM_TYPES, JSON_TYPE, parse_body

blueprint = Blueprint("admin", __name__, url_prefix="/_hub")
ADMIN_KEY = "hubserver.admin"
SOCKET_KEY = "hubserver.socket"  # the client's socket, where the WSGI server provides it
INJECTED = {"detail": "Injected fault."}
JOURNALED_TYPES = (JSON_TYPE, *FORM_TYPES)


class Admin:
    """What the controls act on: the store and its seed, the clock, the journal, the fault rules.

    ``forget(namespace)`` is called after every reset and state import (with
    None for all namespaces), to drop what belonged to the data it replaced:
    the registry's blobs no repository holds and its upload sessions.
    """

    def __init__(self, store, clock, seed, journal_size, forget):
        self.store = store
        self.clock = clock
        self.seed = seed
        self.journal = Journal(journal_size)
        self.faults = FaultRules()
        self.forget = forget

    def reset(self, namespace=None):
        """Go back to the seed: all of it, or one namespace's data only."""
        state.restore(self.store, self.seed, only=namespace)
        self.forget(namespace)
        if namespace is None:
            self.journal.clear()
            self.faults.clear()
            self.clock.reset()

    def clock_answer(self):
        return {"now": self.clock.now(), "frozen": self.clock.frozen}


def admin():
    """Return the application's Admin."""
    return current_app.extensions[ADMIN_KEY]


def init_app(app, store, clock, seed, journal_size, forget):
    """Turn the controls on for ``app``: the blueprint, the journal and the faults (``forget``: see Admin)."""
    app.extensions[ADMIN_KEY] = Admin(store, clock, seed, journal_size, forget)
    app.register_blueprint(blueprint)
    app.before_request(journal_and_faults)
    app.after_request(note_status)


# Journal and faults, for every request outside /_hub/


def journal_and_faults():
    """Journal the request, then apply the oldest fault rule that matches it.

    This runs on every request: it takes the request and the app once, and
    leaves parsing to whoever reads the journal.
    """
    current = request._get_current_object()
    path = current.path
    if routes.surface_of(path) == routes.CONTROLS:
        return None
    controls = current_app.extensions[ADMIN_KEY]
    namespace = (current.view_args or {}).get("namespace")
    environ = current.environ
    g.hub_entry = controls.journal.record(
        controls.clock.now(),
        current.method,
        path,
        environ.get("QUERY_STRING", ""),
        namespace,
        _small_body(current, environ),
        environ.get("CONTENT_TYPE", ""),
    )
    action = controls.faults.action_for(current.method, path, namespace)
    return None if action is None else _apply(action)


def note_status(response):
    """Give the journal entry its answer's status (none for a dropped connection)."""
    context = g._get_current_object()
    entry = getattr(context, "hub_entry", None)
    if entry is not None and not getattr(context, "hub_dropped", False):
        Journal.answered(entry, response.status_code)
    return response


def _small_body(current, environ):
    """Return the raw JSON or form body if there is one of at most BODY_LIMIT bytes; else None."""
    if not limits.has_body(environ) or current.mimetype not in JOURNALED_TYPES or routes.carries_bytes(current.path):
        return None  # nothing, or not kept anyway; and a blob upload's stream is the view's to read
    length = environ.get("CONTENT_LENGTH")
    chunked = environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked"
    if not chunked and (not length or not length.isdigit() or not 0 < int(length) <= BODY_LIMIT):
        return None  # no body, or too large: reading it anyway would cost a buffer the size of the limit
    try:
        data = current.get_data(cache=True)
    except RequestEntityTooLarge:
        return None  # the request's own handling reports it
    return data if len(data) <= BODY_LIMIT else None


def _apply(action):
    if "delay_ms" in action:
        time.sleep(action["delay_ms"] / 1000)
    if action.get("reset_connection"):
        return _drop_connection()
    if "status" in action:
        return web.json_answer(action.get("body", INJECTED), action["status"])
    return None  # a delay alone: then answer normally


def _drop_connection():
    """Close the client's connection without an answer (a reset, where the system allows)."""
    client = request.environ.get(SOCKET_KEY)
    if client is None:
        return web.json_answer({"detail": "This WSGI server cannot drop a connection; run the hubserver command."}, 500)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.shutdown(socket.SHUT_RDWR)
    g.hub_dropped = True
    return web.no_content()


# The controls


@blueprint.before_request
def require_admin():
    """Let only an admin through, with accounts on: anonymous callers get 401, other users 403."""
    web.accounts().check_admin(web.caller())


@web.route(blueprint, "/health", ["GET"])
def health():
    """Tell that the server is up."""
    return {"status": "ok"}


@web.route(blueprint, "/reset", ["POST"])
def reset():
    """Go back to the seed state; with ?namespace=, that namespace's data only."""
    query = load(schemas.RESET_QUERY, request.args.to_dict())
    admin().reset(query.get("namespace"))
    return web.no_content()


@web.route(blueprint, "/state", ["GET"])
def get_state():
    """Export every namespace, as the namespace files hold them."""
    return state.export_state(admin().store)


@web.route(blueprint, "/state", ["PUT"])
def put_state():
    """Replace all data with a state document; nothing changes if it is invalid."""
    try:
        namespaces = state.parse_state(parse_body(request))
    except state.InvalidState as error:
        raise ValidationError({"non_field_errors": error.problems}) from None
    state.restore(admin().store, namespaces)
    admin().forget(None)
    return web.no_content()


@web.route(blueprint, "/clock", ["GET"])
def get_clock():
    """Show the clock: its time, and whether it stands still."""
    return admin().clock_answer()


@web.route(blueprint, "/clock", ["PUT"])
def put_clock():
    """Freeze the clock at a time, move a frozen clock forward, or return to real time."""
    change = load(schemas.CLOCK_CHANGE, parse_body(request))
    clock = admin().clock
    if "now" in change:
        clock.freeze(change["now"])
    elif "advance_ms" in change:
        try:
            clock.advance(change["advance_ms"])
        except ValueError as error:
            raise ValidationError({"advance_ms": [str(error)]}) from None
    elif change["frozen"]:
        clock.freeze(clock.now())
    else:
        clock.unfreeze()
    return admin().clock_answer()


@web.route(blueprint, "/requests", ["GET"])
def get_requests():
    """List the journaled requests, oldest first, filtered."""
    filters = load(schemas.JOURNAL_QUERY, request.args.to_dict())
    entries = admin().journal.entries(**filters)
    dumps = current_app.json.dumps

    def body():  # streamed: an entry at a time, however large the journal
        yield '{"count":%d,"requests":[' % len(entries)
        for number, entry in enumerate(entries):
            yield ("," if number else "") + dumps(entry)
        yield "]}"

    return current_app.response_class(body(), mimetype="application/json")


@web.route(blueprint, "/requests", ["DELETE"])
def clear_requests():
    """Forget the journaled requests."""
    admin().journal.clear()
    return web.no_content()


@web.route(blueprint, "/faults", ["POST"])
def add_fault():
    """Add a fault rule."""
    rule = load(schemas.FAULT, parse_body(request))
    added = admin().faults.add(rule["match"], rule["action"], rule.get("times"), rule.get("probability"))
    return added, 201


@web.route(blueprint, "/faults", ["GET"])
def list_faults():
    """List the fault rules, oldest first."""
    return {"faults": admin().faults.rules()}


@web.route(blueprint, "/faults", ["DELETE"])
def clear_faults():
    """Remove every fault rule."""
    admin().faults.clear()
    return web.no_content()


@web.route(blueprint, "/faults/<int:rule_id>", ["DELETE"])
def delete_fault(rule_id):
    """Remove one fault rule."""
    if not admin().faults.remove(rule_id):
        raise NotFound()
    return web.no_content()
