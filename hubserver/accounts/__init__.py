"""Accounts: the users file, the hub API's tokens, registry tokens, login throttling, and the one permission policy."""

from hubserver.accounts.api_tokens import TokenStore
from hubserver.accounts.bearer import BadBearer, BearerTokens
from hubserver.accounts.errors import (
    AccessError,
    AccountsFileError,
    AuthenticationFailed,
    BadRegistryToken,
    InvalidCredentials,
    NotAuthenticated,
    PermissionDenied,
    Throttled,
)
from hubserver.accounts.policy import (
    ANONYMOUS,
    CONTROLS,
    DELETE,
    HUB_API,
    PULL,
    PUSH,
    REGISTRY,
    Accounts,
    Caller,
    parse_basic,
)
from hubserver.accounts.throttle import LoginThrottle
from hubserver.accounts.users import User

__all__ = [
    "ANONYMOUS",
    "CONTROLS",
    "DELETE",
    "HUB_API",
    "REGISTRY",
    "BadRegistryToken",
    "Caller",
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
