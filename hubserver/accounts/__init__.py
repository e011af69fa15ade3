"""Accounts: the users file, the hub API's tokens, registry tokens, login throttling, and the one permission policy."""

from hubserver.accounts.api_tokens import TokenStore
from hubserver.accounts.bearer import BadBearer, BearerTokens
from hubserver.accounts.errors import (
    AccessError,
    AccountsFileError,
    AuthenticationFailed,
    InvalidCredentials,
    NotAuthenticated,
    PermissionDenied,
    Throttled,
)
from hubserver.accounts.policy import DELETE, PULL, PUSH, Accounts, parse_basic
from hubserver.accounts.throttle import LoginThrottle
from hubserver.accounts.users import User

__all__ = [
    "DELETE",
    "PULL",
    "PUSH",
    "AccessError",
    "Accounts",
    "AccountsFileError",
    "BadBearer",
    "BearerTokens",
    "InvalidCredentials",
    "AuthenticationFailed",
    "LoginThrottle",
    "NotAuthenticated",
    "PermissionDenied",
    "Throttled",
    "TokenStore",
    "User",
    "parse_basic",
]
