"""The errors of authentication and permission, worded as DRF words them, each knowing its answer."""

import math

from hubserver.errors import AnswerError


class AccessError(AnswerError):
    """Base of the errors of authentication and permission."""


class NotAuthenticated(AccessError):
    """The request needs credentials and has none."""

    status = 401
    registry_code = "UNAUTHORIZED"
    challenge = "Token"

    def __init__(self):
        super().__init__("Authentication credentials were not provided.")


class AuthenticationFailed(AccessError):
    """The request carries credentials that are malformed, wrong, or name no current user."""

    status = 401
    registry_code = "UNAUTHORIZED"
    challenge = "Token"


class BadRegistryToken(AuthenticationFailed):
    """A registry token that is malformed, signed elsewhere, expired, or of a user who has left."""

    def __init__(self):
        super().__init__("Invalid token.")


class PermissionDenied(AccessError):
    """The caller may see the repository but may not act for its namespace."""

    status = 403
    registry_code = "DENIED"

    def __init__(self):
        super().__init__("You do not have permission to perform this action.")


class InvalidCredentials(AccessError):
    """A user name and password that do not match the users file (a 400 of the token endpoint, as DRF's)."""

    status = 400

    def __init__(self):
        super().__init__("Unable to log in with provided credentials.")

    def body(self):
        return {"non_field_errors": [str(self)]}


class Throttled(AccessError):
    """Too many failed logins for this user name or from this address; ``wait`` is in whole seconds."""

    status = 429
    registry_code = "TOOMANYREQUESTS"

    def __init__(self, wait):
        self.wait = max(1, math.ceil(wait))
        unit = "second" if self.wait == 1 else "seconds"
        super().__init__("Request was throttled. Expected available in %d %s." % (self.wait, unit))

    def headers(self):
        return {"Retry-After": str(self.wait)}


class AccountsFileError(AnswerError):
    """The users file or the tokens file cannot be read; the message says why (a 500)."""
