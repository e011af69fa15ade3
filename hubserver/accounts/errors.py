"""The errors of authentication and permission, worded as DRF words them."""

import math


class AccessError(Exception):
    """Base of the errors of authentication and permission."""


class NotAuthenticated(AccessError):
    """The request needs credentials and has none."""

    def __init__(self):
        super().__init__("Authentication credentials were not provided.")


class AuthenticationFailed(AccessError):
    """The request carries credentials that are malformed, wrong, or name no current user."""


class PermissionDenied(AccessError):
    """The caller may see the repository but may not act for its namespace."""

    def __init__(self):
        super().__init__("You do not have permission to perform this action.")


class InvalidCredentials(AccessError):
    """A user name and password that do not match the users file."""

    def __init__(self):
        super().__init__("Unable to log in with provided credentials.")


class Throttled(AccessError):
    """Too many failed logins for this user name or from this address; ``wait`` is in whole seconds."""

    def __init__(self, wait):
        self.wait = max(1, math.ceil(wait))
        unit = "second" if self.wait == 1 else "seconds"
        super().__init__("Request was throttled. Expected available in %d %s." % (self.wait, unit))


class AccountsFileError(Exception):
    """The users file or the tokens file cannot be read; the message says why."""
