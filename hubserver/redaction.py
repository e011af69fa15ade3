"""What never leaves hubserver in the clear: the values of secret keys and query parameters.

The request journal and the access log show requests; neither may show a
password or a token. A value is masked as ``***``.
"""

from urllib.parse import parse_qsl, urlencode

MASK = "***"
SECRET_KEYS = frozenset(["password", "token", "access_token", "refresh_token"])
SECRET_MARKS = (b"password", b"token")  # what every secret key's name holds


def masked(value):
    """Return ``value`` with the value of every secret key (a password, a token) replaced by ``***``."""
    if isinstance(value, dict):
        return {key: MASK if key in SECRET_KEYS else masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value


def may_hold_secret(data):
    """Tell whether raw bytes may hold a secret key, cheaply: most requests do not."""
    return any(mark in data for mark in SECRET_MARKS)


def masked_query(query):
    """Return a query string with the value of every secret parameter replaced by ``***``."""
    if not may_hold_secret(query.encode("latin-1", "replace")):
        return query
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(key, MASK if key in SECRET_KEYS else value) for key, value in pairs])
