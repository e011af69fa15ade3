"""hubserver's settings: their names and defaults, and what a value of each may be.

The application reads them as Flask config keys (``DATA_DIR``, ...), from these
defaults, then ``HUB_*`` environment variables, then the caller's mapping. The
command line offers most of them as options; ``cli`` declares those.
"""

from hubserver.clock import parse_timestamp

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
    "TOKEN_TTL": 300,
    "LOGIN_RATE": 10,
    "SYNC": True,
}


def port(text):
    """Return a port number, 0 to 65535; ValueError otherwise."""
    number = int(text)
    if not 0 <= number <= 65535:
        raise ValueError(text)
    return number


def positive_int(text):
    """Return a whole number above 0; ValueError otherwise."""
    value = int(text)
    if value <= 0:
        raise ValueError(text)
    return value


def stamp(text):
    """Return a time stamp unchanged if it is one; ValueError otherwise."""
    parse_timestamp(text)
    return text


# argparse names a value's type by its function's name in its error messages.
port.__name__ = "port number (0 to 65535)"
positive_int.__name__ = "positive whole number"
stamp.__name__ = "time stamp like 2015-06-07T10:41:31.882Z"
