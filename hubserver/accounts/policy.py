"""Accounts: the users file, API tokens, and the one permission policy.

Off by default: everyone may do everything, and any user name gets a token.
With a users file, a request authenticates with ``Authorization: Token <token>``,
a user may act for the namespace named after it and for its organisations',
and private repositories are visible only to those who may act for them.
"""

import hashlib
import hmac
import json
import os
import secrets

from werkzeug.security import check_password_hash

from hubserver.names import is_namespace
from hubserver.storage.files import (
    FileLocks,
    LockTimeout,
    ParsedFileCache,
    atomic_write,
)

TOKENS_FILE = "_tokens.json"  # a name that cannot be a namespace's
TOKENS_FORMAT = 1
USERNAME_MAX_LENGTH = 150


class AccessError(Exception):
    """Base of the errors of authentication and permission."""


class NotAuthenticated(AccessError):
    """The request needs credentials and has none."""

    def __init__(self):
        super().__init__("Authentication credentials were not provided.")


class InvalidToken(AccessError):
    """The request carries a token header that is malformed or names no current user."""


class PermissionDenied(AccessError):
    """The caller may see the repository but may not act for its namespace."""

    def __init__(self):
        super().__init__("You do not have permission to perform this action.")


class InvalidCredentials(AccessError):
    """A user name and password that do not match the users file."""

    def __init__(self):
        super().__init__("Unable to log in with provided credentials.")


class AccountsFileError(Exception):
    """The users file or the tokens file cannot be read; the message says why."""


class User:
    """A signed-in user: its name, and the namespaces it may act for."""

    __slots__ = ("name", "namespaces")

    def __init__(self, name, orgs=()):
        self.name = name
        self.namespaces = frozenset([name, *orgs])


def _check_users(data, path):
    """Return {name: (password or None, password_hash or None, orgs)} from a parsed users file."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as error:
        raise AccountsFileError("%s is not valid JSON: %s" % (path, error)) from None
    if not isinstance(document, dict) or list(document) != ["users"] or not isinstance(document["users"], dict):
        raise AccountsFileError('%s must be {"users": {"<name>": {...}, ...}}' % path)
    users = {}
    for name, entry in document["users"].items():
        where = "%s: user %r" % (path, name)
        if not is_namespace(name):
            raise AccountsFileError("%s: a user name follows the namespace rules" % where)
        if not isinstance(entry, dict) or not set(entry) <= {"password", "password_hash", "orgs"}:
            raise AccountsFileError("%s takes only password or password_hash, and orgs" % where)
        if ("password" in entry) == ("password_hash" in entry):
            raise AccountsFileError("%s needs exactly one of password and password_hash" % where)
        secret = entry.get("password", entry.get("password_hash"))
        orgs = entry.get("orgs", [])
        if not isinstance(secret, str) or not isinstance(orgs, list) or not all(is_namespace(org) for org in orgs):
            raise AccountsFileError("%s: password is a string, orgs a list of namespace names" % where)
        users[name] = (entry.get("password"), entry.get("password_hash"), tuple(orgs))
    return users


class _TokenTable:
    """Tokens by user, and users by the hash of their token (for a constant-time check)."""

    def __init__(self, by_user):
        self.by_user = by_user
        self.by_digest = {_digest(token): (user, token) for user, token in by_user.items()}


def _digest(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_tokens(data, path):
    try:
        document = json.loads(data.decode("utf-8"))
        if document["format"] != TOKENS_FORMAT or not all(
            isinstance(user, str) and isinstance(token, str) and len(token) == 40
            for user, token in document["tokens"].items()
        ):
            raise ValueError("unexpected contents")
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as error:
        raise AccountsFileError(
            "the tokens file %s cannot be read (%s); it was left unchanged" % (path, error)
        ) from None
    return _TokenTable(document["tokens"])


class TokenStore:
    """One stable token a user, kept in ``<data-dir>/_tokens.json`` across restarts."""

    def __init__(self, data_dir, lock_timeout):
        self.path = os.path.join(data_dir, TOKENS_FILE)
        self._files = ParsedFileCache()
        self._locks = FileLocks(lock_timeout)

    def _table(self):
        return self._files.read(self.path, lambda data: _check_tokens(data, self.path), _TokenTable({}))

    def token_for(self, username):
        """Return the user's token, making one the first time."""
        token = self._table().by_user.get(username)
        if token is not None:
            return token
        try:
            with self._locks.hold(self.path + ".lock"):
                by_user = dict(self._table().by_user)
                token = by_user.setdefault(username, secrets.token_hex(20))
                document = {"format": TOKENS_FORMAT, "tokens": by_user}
                identity = atomic_write(self.path, (json.dumps(document, indent=2) + "\n").encode("utf-8"))
                self._files.remember(self.path, identity, _TokenTable(by_user))
                return token
        except LockTimeout:
            raise AccountsFileError("the tokens file is busy") from None

    def user_for(self, token):
        """Return the user name a token belongs to, or None; compared in constant time."""
        entry = self._table().by_digest.get(_digest(token))
        if entry is None or not hmac.compare_digest(entry[1], token):
            return None
        return entry[0]


class Accounts:
    """Who the caller is, and what it may do. ``users_path`` None: accounts are off."""

    def __init__(self, users_path, tokens):
        self.users_path = users_path
        self.tokens = tokens
        self._files = ParsedFileCache()

    @property
    def enabled(self):
        return self.users_path is not None

    def users(self):
        """Return the users file's users, read again whenever the file changes."""
        return self._files.read(self.users_path, lambda data: _check_users(data, self.users_path), None) or {}

    def check_users_file(self):
        """Read the users file now; AccountsFileError if it is missing or broken."""
        if not os.path.exists(self.users_path):
            raise AccountsFileError("%s does not exist" % self.users_path)
        self.users()

    # Authentication

    def issue_token(self, username, password):
        """Return the token of a user whose credentials are right (any, with accounts off)."""
        if self.enabled and not self._password_matches(username, password):
            raise InvalidCredentials()
        return self.tokens.token_for(username)

    def _password_matches(self, username, password):
        entry = self.users().get(username)
        if entry is None:
            return False
        plain, hashed, _ = entry
        if hashed is not None:
            return check_password_hash(hashed, password)
        return hmac.compare_digest(plain.encode("utf-8"), password.encode("utf-8"))

    def authenticate_password(self, username, password):
        """Return the User of a user name and password (HTTP Basic); None with accounts off.

        Raises InvalidCredentials for credentials that do not match.
        """
        if not self.enabled:
            return None
        if not self._password_matches(username, password):
            raise InvalidCredentials()
        return User(username, self.users()[username][2])

    def authenticate(self, authorization):
        """Return the User an ``Authorization`` header names, or None for none.

        Raises InvalidToken for a malformed or unknown token. Only ``Token``
        credentials count here; with accounts off, nothing does.
        """
        if not self.enabled:
            return None
        parts = (authorization or "").split()
        if not parts or parts[0].lower() != "token":
            return None
        if len(parts) == 1:
            raise InvalidToken("Invalid token header. No credentials provided.")
        if len(parts) > 2:
            raise InvalidToken("Invalid token header. Token string should not contain spaces.")
        username = self.tokens.user_for(parts[1])
        entry = None if username is None else self.users().get(username)
        if entry is None:
            raise InvalidToken("Invalid token.")
        return User(username, entry[2])

    # The permission policy: the only place that decides who may read and write what

    def can_read(self, user, namespace, repository):
        """Tell whether ``user`` (None: anonymous) may see ``repository`` of ``namespace``."""
        return not self.enabled or repository["is_public"] or self.may_act_for(user, namespace)

    def may_act_for(self, user, namespace):
        """Tell whether ``user`` may write in ``namespace``."""
        return not self.enabled or (user is not None and namespace in user.namespaces)

    def check_signed_in(self, user):
        """Raise NotAuthenticated for an anonymous writer, with accounts on."""
        if self.enabled and user is None:
            raise NotAuthenticated()

    def check_write(self, user, namespace):
        """Raise PermissionDenied unless ``user`` may write in ``namespace``."""
        if not self.may_act_for(user, namespace):
            raise PermissionDenied()

    def check_star(self, user):
        """Raise NotAuthenticated unless ``user`` is signed in: a star needs a user, accounts on or off."""
        if user is None:
            raise NotAuthenticated()
