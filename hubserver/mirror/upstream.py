"""The upstream registry, spoken to as a client does: manifests, blobs and tag lists, by name.

Anonymous unless credentials are given. A 401 is answered as its challenge
asks: ``Basic``, or Docker's token flow (``Bearer realm=, service=,
scope=``), where a token is fetched from the realm for the repository's pull
scope (with the credentials, if any) and reused until it expires. A
redirect (Docker Hub sends blobs from another host) is followed, without the
credentials when it leaves the upstream's host. Every connection and every
read of an answer waits at most ``timeout`` seconds; anything that keeps a
question from being answered is Unreachable, saying why.
"""

import base64
import http.client
import json
import re
import ssl
import threading
import time
from urllib.parse import urlencode, urljoin, urlsplit

from hubserver.registry.manifests import DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST

MANIFEST_ACCEPT = ", ".join([OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST])
TOKEN_LIFETIME = 60  # seconds a token lives when its answer does not say (the token spec's default)
TOKEN_MARGIN = 5  # seconds before its end that a token is fetched again
REDIRECTS = 5
CHALLENGE_PARAMETER = re.compile(r'(\w+)="([^"]*)"')
TAG_PAGES = 100  # pages of a tag list followed, at most


class Unreachable(Exception):
    """The upstream did not answer the question (no connection, a timeout, a refusal, an error); says why."""


class Answer:
    """An upstream's answer: ``status``, ``headers``, and its body, to ``read`` or ``stream``, then ``close``."""

    def __init__(self, connection, response):
        self._connection = connection
        self._response = response
        self.status = response.status
        self.headers = response.headers

    def read(self, limit=None):
        """Return the body (at most ``limit`` bytes of it), and close."""
        try:
            return self._response.read(limit)
        except (OSError, http.client.HTTPException) as error:
            raise Unreachable("the answer broke off: %s" % _words(error)) from None
        finally:
            self.close()

    def stream(self, size):
        """Yield the body in chunks of ``size`` bytes; Unreachable if it breaks off."""
        try:
            yield from iter(lambda: self._response.read(size), b"")
        except (OSError, http.client.HTTPException) as error:
            raise Unreachable("the answer broke off: %s" % _words(error)) from None
        finally:
            self.close()

    def close(self):
        self._connection.close()


class Upstream:
    """The registry at ``url`` (``http://`` or ``https://``), asked as ``username`` (None: anonymously)."""

    def __init__(self, url, username=None, password=None, timeout=10.0):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("not an http:// or https:// URL: %r" % url)
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._credentials = (username, password or "") if username else None
        self._tokens = {}  # scope -> (token, monotonic time it is fetched again)
        self._lock = threading.Lock()

    def __str__(self):
        return self.url

    # Questions

    def manifest(self, name, reference, method="GET"):
        """Return the Answer of a manifest (by tag or digest), or None if the upstream has none."""
        return self._found("%s/manifests/%s" % (name, reference), name, method, {"Accept": MANIFEST_ACCEPT})

    def blob(self, name, digest, method="GET"):
        """Return the Answer of a blob, its body still to be streamed, or None if the upstream has none."""
        return self._found("%s/blobs/%s" % (name, digest), name, method)

    def tags(self, name):
        """Return the repository's tags (every page), or None if the upstream has no such repository."""
        tags, path = [], "/v2/%s/tags/list" % name
        for _ in range(TAG_PAGES):
            answer = self._ask("GET", path, name)
            if answer.status == 404:
                answer.close()
                return None
            _require_success(answer)
            try:
                tags += json.loads(answer.read()).get("tags") or []
            except (ValueError, AttributeError):
                raise Unreachable("its tag list of %s is not JSON" % name) from None
            following = re.search(r"<([^>]+)>", answer.headers.get("Link", ""))
            if following is None:
                break
            path = following.group(1)
        return tags

    def _found(self, tail, name, method, headers=None):
        answer = self._ask(method, "/v2/" + tail, name, headers)
        if answer.status == 404:
            answer.close()
            return None
        _require_success(answer)
        return answer

    # Requests, with the challenge answered

    def _ask(self, method, path, name, headers=None):
        """Send one request for the repository ``name``, answering a 401's challenge once; return its Answer."""
        headers = dict(headers or {})
        scope = "repository:%s:pull" % name
        authorization = self._authorization(scope)
        answer = self._send(method, path, {**headers, **authorization})
        if answer.status != 401:
            return answer
        challenge = answer.headers.get("WWW-Authenticate", "")
        answer.close()
        authorization = self._answer(challenge, scope)
        if authorization is None:
            raise Unreachable("it asks for credentials (%s), and none were given" % (challenge or "401"))
        answer = self._send(method, path, {**headers, **authorization})
        if answer.status == 401:
            answer.close()
            raise Unreachable("it refused the credentials given for %s (401)" % name)
        return answer

    def _authorization(self, scope):
        with self._lock:
            known = self._tokens.get(scope)
        if known is not None and time.monotonic() < known[1]:
            return {"Authorization": "Bearer " + known[0]}
        return {}

    def _answer(self, challenge, scope):
        """Return the Authorization that answers ``challenge``, or None if it cannot be answered."""
        scheme = challenge.split(" ", 1)[0].lower()
        if scheme == "basic":
            return self._basic()
        if scheme != "bearer":
            return None
        parameters = dict(CHALLENGE_PARAMETER.findall(challenge))
        if "realm" not in parameters:
            raise Unreachable("its challenge names no realm: %s" % challenge)
        token, lifetime = self._fetch_token(parameters["realm"], parameters.get("service"), scope)
        with self._lock:
            self._tokens[scope] = (token, time.monotonic() + max(lifetime - TOKEN_MARGIN, 1))
        return {"Authorization": "Bearer " + token}

    def _basic(self):
        if self._credentials is None:
            return None
        pair = "%s:%s" % self._credentials
        return {"Authorization": "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")}

    def _fetch_token(self, realm, service, scope):
        """Return (token, seconds it lives) from the token realm, for ``scope``."""
        query = {"scope": scope, **({"service": service} if service else {})}
        answer = self._send("GET", realm + ("&" if "?" in realm else "?") + urlencode(query), self._basic() or {})
        if answer.status != 200:
            answer.close()
            raise Unreachable("its token realm %s refused a token for %s (%d)" % (realm, scope, answer.status))
        try:
            granted = json.loads(answer.read())
            token = granted.get("token") or granted["access_token"]
        except (ValueError, KeyError, AttributeError):
            raise Unreachable("its token realm %s answered no token" % realm) from None
        lifetime = granted.get("expires_in")
        return token, lifetime if type(lifetime) is int and lifetime > 0 else TOKEN_LIFETIME

    def _send(self, method, target, headers):
        """Send a request to ``target`` (a path of the upstream, or a URL), following redirects; return its Answer."""
        url = urljoin(self.url + "/", target)
        for _ in range(REDIRECTS + 1):
            answer = self._send_once(method, url, headers)
            if answer.status not in (301, 302, 303, 307, 308) or "Location" not in answer.headers:
                return answer
            answer.close()
            following = urljoin(url, answer.headers["Location"])
            if urlsplit(following).netloc != urlsplit(url).netloc:
                headers = {key: value for key, value in headers.items() if key != "Authorization"}
            url = following
        raise Unreachable("it redirected %s more than %d times" % (target, REDIRECTS))

    def _send_once(self, method, url, headers):
        parts = urlsplit(url)
        if parts.scheme == "https":
            connection = http.client.HTTPSConnection(
                parts.hostname, parts.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        elif parts.scheme == "http":
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=self.timeout)
        else:
            raise Unreachable("it sent to a URL that is not http:// or https://: %s" % url)
        target = parts.path + ("?" + parts.query if parts.query else "")
        try:
            connection.request(method, target, headers={"User-Agent": "hubserver-mirror", **headers})
            return Answer(connection, connection.getresponse())
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            raise Unreachable("%s %s: %s" % (method, url, _words(error))) from None


def _require_success(answer):
    if not 200 <= answer.status < 300:
        answer.close()
        raise Unreachable("it answered %d %s" % (answer.status, answer.headers.get("Content-Type", "")))


def _words(error):
    if isinstance(error, TimeoutError) or "timed out" in str(error):
        return "no answer within the timeout"
    return getattr(error, "strerror", None) or str(error) or type(error).__name__
