"""Accounts: who the caller is, and the one permission policy that says what it may do.

Off by default: everyone may do everything, and any user name gets a token.
With a users file, a request authenticates with ``Authorization: Token <token>``
(or HTTP Basic, on ``/v2/`` and ``/_hub/``; or a registry token, on ``/v2/``),
a user may act for the namespace named after it and for its organisations',
private repositories are visible only to those who may act for them, and the
controls only to users marked ``admin``.
"""

import base64
import binascii
import os

from hubserver.accounts.api_tokens import derived_token
from hubserver.accounts.bearer import BadBearer
from hubserver.accounts.errors import (
    AccountsFileError,
    AuthenticationFailed,
    BadRegistryToken,
    InvalidCredentials,
    NotAuthenticated,
    PermissionDenied,
)
from hubserver.accounts.users import parse_users, password_matches, user_of
from hubserver.storage.files.durable import ParsedFileCache

# What a registry token may grant on a repository.
PULL, PUSH, DELETE = "pull", "push", "delete"
# The credentials each surface takes: the hub API and the pages a hub API token; the controls Basic
# credentials too; the registry its own tokens too.
HUB_API, CONTROLS, REGISTRY = ("token",), ("token", "basic"), ("token", "basic", "bearer")


class Caller:
    """Who sent a request: ``user`` (None: anonymous), what its registry token grants (None: no token),
    and whether it carried credentials at all."""

    __slots__ = ("grants", "presented", "user")

    def __init__(self, user, grants=None, presented=False):
        self.user = user
        self.grants = grants  # {(type, name): set of actions}
        self.presented = presented


ANONYMOUS = Caller(None)


class Accounts:
    """Who the caller is, and what it may do. ``users_path`` None: accounts are off.

    ``api_tokens`` keeps the hub API's tokens, ``bearer`` issues and checks
    registry tokens, ``throttle`` limits failed logins.
    """

    def __init__(self, users_path, api_tokens, bearer, throttle):
        self.users_path = users_path
        self.api_tokens = api_tokens
        self.bearer = bearer
        self.throttle = throttle
        self._files = ParsedFileCache()

    @property
    def enabled(self):
        return self.users_path is not None

    def users(self):
        """Return the users file's entries, read again whenever the file changes."""
        return self._files.read(self.users_path, lambda data: parse_users(data, self.users_path), None) or {}

    def check_users_file(self):
        """Read the users file now; AccountsFileError if it is missing or broken."""
        if not os.path.exists(self.users_path):
            raise AccountsFileError("%s does not exist" % self.users_path)
        self.users()

    def user(self, username):
        """Return the User of a name in the users file, or None."""
        return user_of(self.users(), username)

    # Authentication

    def check_password(self, username, password, client):
        """Return the User whose password this is; InvalidCredentials if it is not, Throttled after too many tries.

        ``client`` is the caller's address. Every password check goes through
        here, so every login is throttled the same way.
        """
        self.throttle.check(username, client)
        if not password_matches(self.users(), username, password):
            self.throttle.failed(username, client)
            raise InvalidCredentials()
        return self.user(username)

    def issue_token(self, username, password, client):
        """Return the hub API token of a user whose credentials are right (any, with accounts off)."""
        if not self.enabled:
            return derived_token(username)
        self.check_password(username, password, client)
        return self.api_tokens.token_for(username)

    def identify(self, authorization, client, schemes=HUB_API):
        """Return the Caller an ``Authorization`` header names (ANONYMOUS with accounts off, or none).

        ``schemes`` are the kinds of credentials that count; others are
        anonymous. Raises AuthenticationFailed (BadRegistryToken for a
        registry token) for credentials that are malformed, unknown, expired
        or wrong, and Throttled after too many failed logins.
        """
        if not self.enabled or not authorization:
            return ANONYMOUS
        scheme, _, credentials = authorization.strip().partition(" ")
        scheme = scheme.lower()
        if scheme not in schemes:
            return ANONYMOUS
        if scheme == "bearer":
            return self._bearer(credentials.strip())
        return Caller(self._basic(credentials, client) if scheme == "basic" else self._token(credentials), None, True)

    def _basic(self, credentials, client):
        username, password = parse_basic(credentials)
        try:
            return self.check_password(username, password, client)
        except InvalidCredentials:
            raise AuthenticationFailed("Invalid username/password.") from None

    def _bearer(self, token):
        try:
            subject, grants = self.bearer.verify(token)
        except BadBearer:
            raise BadRegistryToken() from None
        user = None if subject is None else self.user(subject)
        if subject is not None and user is None:  # its user has left the users file
            raise BadRegistryToken()
        return Caller(user, grants, True)

    def _token(self, credentials):
        parts = credentials.split()
        if not parts:
            raise AuthenticationFailed("Invalid token header. No credentials provided.")
        if len(parts) > 1:
            raise AuthenticationFailed("Invalid token header. Token string should not contain spaces.")
        username = self.api_tokens.user_for(parts[0])
        user = None if username is None else self.user(username)
        if user is None:
            raise AuthenticationFailed("Invalid token.")
        return user

    # The permission policy: the only place that decides who may read and write what

    def can_read(self, user, namespace, repository):
        """Tell whether ``user`` (None: anonymous) may see ``repository`` of ``namespace``."""
        return not self.enabled or repository["is_public"] or self.may_act_for(user, namespace)

    def may_act_for(self, user, namespace):
        """Tell whether ``user`` may write in ``namespace``."""
        return not self.enabled or (user is not None and namespace in user.namespaces)

    def registry_actions(self, user, namespace, repository):
        """Return what ``user`` may do to a repository through ``/v2/`` (``repository`` None: it does not exist).

        Pull what it may read; push and delete where it may act for the
        namespace. A repository that does not exist can be pulled (and found
        missing) only by those who could create it, so that it looks the same
        to everyone else as a private one.
        """
        if self.may_act_for(user, namespace):
            return frozenset([PULL, PUSH, DELETE])
        if repository is not None and self.can_read(user, namespace, repository):
            return frozenset([PULL])
        return frozenset()

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

    def check_admin(self, user):
        """Raise NotAuthenticated or PermissionDenied unless ``user`` may use the controls (anyone, accounts off)."""
        self.check_signed_in(user)
        if self.enabled and not user.admin:
            raise PermissionDenied()


def parse_basic(credentials):
    """Return (user name, password) of HTTP Basic credentials; AuthenticationFailed if they do not decode."""
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise AuthenticationFailed("Invalid basic header. Credentials not correctly base64 encoded.") from None
    username, separator, password = decoded.partition(":")
    if not separator:
        raise AuthenticationFailed("Invalid basic header. Credentials not correctly base64 encoded.")
    return username, password
