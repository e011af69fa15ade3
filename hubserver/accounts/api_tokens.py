"""The hub API's tokens (``Authorization: Token <40 hex>``): one stable token a user.

With accounts on, tokens are random and kept in ``<data-dir>/_tokens.json``
(readable by its owner only) across restarts; with the memory storage, in
memory. With accounts off, any user name
gets a token derived from the name itself, so that clients that always log in
work, and nothing is written.
"""

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import threading

from hubserver.accounts.errors import AccountsFileError
from hubserver.storage.files.durable import PRIVATE_MODE, ParsedFileCache, atomic_write
from hubserver.storage.files.locks import FileLocks, LockTimeout

TOKENS_FILE = "_tokens.json"  # a name that cannot be a namespace's
TOKENS_FORMAT = 1


def derived_token(username):
    """Return the token of ``username`` with accounts off: the same every time, stored nowhere."""
    return hashlib.sha256(("hubserver token of " + username).encode("utf-8")).hexdigest()[:40]


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
    """One stable token a user, kept in the file ``path`` across restarts (None: in memory, for this process)."""

    def __init__(self, path, lock_timeout):
        self.path = path
        self._files = ParsedFileCache()
        self._locks = FileLocks(lock_timeout)
        self._in_memory = _TokenTable({})
        self._memory_lock = threading.Lock()
        if path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.chmod(path, PRIVATE_MODE)  # one written by an earlier version may be readable by others

    def _table(self):
        if self.path is None:
            return self._in_memory
        return self._files.read(self.path, lambda data: _check_tokens(data, self.path), _TokenTable({}))

    def token_for(self, username):
        """Return the user's token, making one the first time."""
        token = self._table().by_user.get(username)
        if token is not None:
            return token
        if self.path is None:
            with self._memory_lock:
                by_user = dict(self._in_memory.by_user)
                token = by_user.setdefault(username, secrets.token_hex(20))
                self._in_memory = _TokenTable(by_user)
                return token
        try:
            with self._locks.hold(self.path + ".lock"):
                by_user = dict(self._table().by_user)
                token = by_user.setdefault(username, secrets.token_hex(20))
                document = {"format": TOKENS_FORMAT, "tokens": by_user}
                data = (json.dumps(document, indent=2) + "\n").encode("utf-8")
                identity = atomic_write(self.path, data, private=True)
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
