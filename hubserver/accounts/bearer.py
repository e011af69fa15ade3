"""Docker's registry tokens: signed, short-lived grants of actions on scopes.

An access token is a JSON Web Token signed with HMAC-SHA256 (``HS256``) by a
secret kept in ``<data-dir>/_token_secret`` (readable by its owner only, made
on first use; with the memory storage, in memory). It names its subject (a user name, or ``""`` for an anonymous
caller), what it grants (``[{"type", "name", "actions"}]``, as Docker's token
servers write it), when it was issued and when it expires; times come from the
hub's clock, so a frozen clock freezes them too. A refresh token names a user
and never expires by itself: it stops working when its user leaves the users
file.
"""

import base64
import binascii
import hashlib
import hmac
import json
import secrets

from hubserver.clock import parse_timestamp
from hubserver.storage.files.durable import create_once

SECRET_FILE = "_token_secret"  # a name that cannot be a namespace's
ISSUER = "hubserver"
HEADER = {"alg": "HS256", "typ": "JWT"}


class BadBearer(Exception):
    """A token that is malformed, signed by another secret, of the wrong kind, or expired."""


def _encode_part(value):
    text = json.dumps(value, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return base64.urlsafe_b64encode(text).rstrip(b"=").decode("ascii")


def _decode_part(part):
    try:
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (ValueError, binascii.Error, RecursionError):
        raise BadBearer("malformed") from None


class BearerTokens:
    """Issues and checks access and refresh tokens; ``ttl`` is an access token's life in seconds."""

    def __init__(self, secret_path, clock, ttl):
        self.secret_path = secret_path  # None: a secret of this process alone (the memory storage)
        self.clock = clock
        self.ttl = ttl
        self._key = None

    def _secret(self):
        if self._key is None:
            made = (secrets.token_hex(32) + "\n").encode("ascii")
            if self.secret_path is not None:
                made = create_once(self.secret_path, made, private=True)
            self._key = made.strip()
        return self._key

    def _now(self):
        # Seconds since the epoch, to the millisecond the clock keeps: JSON Web Tokens allow fractions.
        return round(parse_timestamp(self.clock.now()).timestamp(), 3)

    def _sign(self, claims):
        signed = _encode_part(HEADER) + "." + _encode_part(claims)
        signature = hmac.new(self._secret(), signed.encode("ascii"), hashlib.sha256).digest()
        return signed + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode("ascii")

    def _claims(self, token, kind):
        parts = token.split(".")
        if len(parts) != 3 or _decode_part(parts[0]) != HEADER:
            raise BadBearer("malformed")
        expected = hmac.new(self._secret(), (parts[0] + "." + parts[1]).encode("ascii"), hashlib.sha256).digest()
        if not hmac.compare_digest(base64.urlsafe_b64encode(expected).rstrip(b"=").decode("ascii"), parts[2]):
            raise BadBearer("not signed by this hubserver")
        claims = _decode_part(parts[1])
        if not isinstance(claims, dict) or claims.get("iss") != ISSUER or claims.get("kind") != kind:
            raise BadBearer("not a %s token" % kind)
        return claims

    def issue(self, subject, access):
        """Return an access token's answer for ``subject`` granting ``access`` (a list of grants)."""
        now = self._now()
        claims = {
            "iss": ISSUER,
            "aud": ISSUER,
            "kind": "access",
            "sub": subject or "",
            "access": access,
            "iat": now,
            "nbf": now,
            "exp": round(now + self.ttl, 3),
            "jti": secrets.token_hex(8),
        }
        token = self._sign(claims)
        return {"token": token, "access_token": token, "expires_in": self.ttl, "issued_at": self.clock.now()}

    def refresh_token(self, subject):
        """Return a refresh token of the user ``subject``."""
        return self._sign({"iss": ISSUER, "kind": "refresh", "sub": subject, "iat": self._now()})

    def verify(self, token):
        """Return (subject, {(type, name): set of actions}) of a valid access token; BadBearer otherwise."""
        claims = self._claims(token, "access")
        if type(claims.get("exp")) not in (int, float) or self._now() >= claims["exp"]:
            raise BadBearer("expired")
        try:
            grants = {(grant["type"], grant["name"]): set(grant["actions"]) for grant in claims["access"]}
        except (KeyError, TypeError):
            raise BadBearer("malformed") from None
        return claims["sub"] or None, grants

    def verify_refresh(self, token):
        """Return the user name of a valid refresh token; BadBearer otherwise."""
        subject = self._claims(token, "refresh").get("sub")
        if not isinstance(subject, str) or not subject:
            raise BadBearer("malformed")
        return subject
