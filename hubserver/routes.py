"""The route table: which surface a path belongs to, and which of its routes need a rule of their own.

One place for it, asked by the error handler (the shape of an error), the
caller's identification (the credentials a surface takes), the controls'
guard (never journaled, never faulted) and the body limits (how large a body
may be, from the request line alone, before the application is reached).
"""

import re
from functools import lru_cache
from typing import NamedTuple

REGISTRY = "registry"  # /v2/: the OCI distribution API
CONTROLS = "controls"  # /_hub/: the test-double controls
PAGES = "pages"  # /ui/: the pages
HUB_API = "hub api"  # everything else: /v1/, /openapi.json, unknown paths


class Route(NamedTuple):
    """Where a path goes: its ``surface``, and its ``kind`` when its route has a rule of its own (else None)."""

    surface: str
    kind: object


BLOB_UPLOAD = "blob upload"
MANIFEST = "manifest"
TOKEN = "token"
STATE = "state"

# The first pattern that matches the whole path wins.
TABLE = [
    (re.compile(r"/v2/.+/blobs/uploads/.*", re.DOTALL), Route(REGISTRY, BLOB_UPLOAD)),
    (re.compile(r"/v2/.+/manifests/[^/]+", re.DOTALL), Route(REGISTRY, MANIFEST)),
    (re.compile(r"/v2/token/?", re.DOTALL), Route(REGISTRY, TOKEN)),
    (re.compile(r"/v2(?:/.*)?", re.DOTALL), Route(REGISTRY, None)),
    (re.compile(r"/_hub/state/?", re.DOTALL), Route(CONTROLS, STATE)),
    (re.compile(r"/_hub(?:/.*)?", re.DOTALL), Route(CONTROLS, None)),
    (re.compile(r"/ui/.*", re.DOTALL), Route(PAGES, None)),
]
ELSEWHERE = Route(HUB_API, None)


@lru_cache(maxsize=4096)
def route_of(path):
    """Return the Route of a URL path (without its query)."""
    for pattern, route in TABLE:
        if pattern.fullmatch(path):
            return route
    return ELSEWHERE


def carries_bytes(path):
    """Tell whether a path's body is a blob's bytes, whatever its Content-Type says: never parsed or kept as text."""
    return route_of(path).kind == BLOB_UPLOAD


def surface_of(path):
    """Return the surface a URL path belongs to: REGISTRY, CONTROLS, PAGES or HUB_API."""
    return route_of(path).surface
