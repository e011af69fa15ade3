"""The users file, and checking a password against it in the same time whether or not the user exists."""

import hmac
import json
from collections import namedtuple

from werkzeug.security import check_password_hash

from hubserver.accounts.errors import AccountsFileError
from hubserver.names import is_namespace
from hubserver.text import holds_lone_surrogate

ENTRY_KEYS = {"password", "password_hash", "orgs", "admin"}
Entry = namedtuple("Entry", "password password_hash orgs admin")


class User:
    """A signed-in user: its name, the namespaces it may act for, and whether it may use the controls."""

    __slots__ = ("admin", "name", "namespaces")

    def __init__(self, name, orgs=(), admin=False):
        self.name = name
        self.namespaces = frozenset([name, *orgs])
        self.admin = admin


def parse_users(data, path):
    """Return {name: Entry} from the bytes of a users file; AccountsFileError naming what is wrong."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as error:
        raise AccountsFileError("%s is not valid JSON: %s" % (path, error)) from None
    if not isinstance(document, dict) or list(document) != ["users"] or not isinstance(document["users"], dict):
        raise AccountsFileError('%s must be {"users": {"<name>": {...}, ...}}' % path)
    if holds_lone_surrogate(document):
        raise AccountsFileError("%s holds a lone surrogate, which is not text" % path)
    return {name: _entry(name, entry, "%s: user %r" % (path, name)) for name, entry in document["users"].items()}


def _entry(name, entry, where):
    if not is_namespace(name):
        raise AccountsFileError("%s: a user name follows the namespace rules" % where)
    if not isinstance(entry, dict) or not set(entry) <= ENTRY_KEYS:
        raise AccountsFileError("%s takes only password or password_hash, orgs and admin" % where)
    if ("password" in entry) == ("password_hash" in entry):
        raise AccountsFileError("%s needs exactly one of password and password_hash" % where)
    secret = entry.get("password", entry.get("password_hash"))
    orgs = entry.get("orgs", [])
    if not isinstance(secret, str) or not isinstance(orgs, list) or not all(is_namespace(org) for org in orgs):
        raise AccountsFileError("%s: password is a string, orgs a list of namespace names" % where)
    if type(entry.get("admin", False)) is not bool:
        raise AccountsFileError("%s: admin is true or false" % where)
    return Entry(entry.get("password"), entry.get("password_hash"), tuple(orgs), entry.get("admin", False))


def password_matches(users, username, password):
    """Tell whether ``password`` is the password of ``username`` in ``users``.

    A name that is not in the file costs what a hashed password costs to
    check, so that the time of an answer does not tell which names exist.
    """
    entry = users.get(username)
    if entry is None:
        decoy = next((known.password_hash for known in users.values() if known.password_hash), None)
        if decoy is not None:
            check_password_hash(decoy, password)  # the same work, its answer unused
        return False
    if entry.password_hash is not None:
        return check_password_hash(entry.password_hash, password)
    return hmac.compare_digest(entry.password.encode("utf-8"), password.encode("utf-8"))


def user_of(users, username):
    """Return the User of a name in ``users``, or None."""
    entry = users.get(username)
    return None if entry is None else User(username, entry.orgs, entry.admin)
