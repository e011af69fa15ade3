"""The pull-through mirror (``--upstream URL``): a real registry's images, fetched as pulls ask and kept.

``upstream`` speaks to the upstream registry as a client; ``puller`` fills
the store from it as the registry's views ask; ``command`` is ``hubserver
mirror``, which fetches images ahead of time for an offline run.
"""

from hubserver.mirror.puller import Mirror
from hubserver.mirror.upstream import Unreachable, Upstream

__all__ = ["Mirror", "Unreachable", "Upstream"]


class UpstreamSettingError(ValueError):
    """The upstream settings cannot be used (a bad URL, an unreadable credentials file); the message says why."""


def open_mirror(values, storage):
    """Return the Mirror the settings ask for (``UPSTREAM``), filling ``storage``; None without an upstream."""
    if not values["UPSTREAM"]:
        return None
    username, password = credentials(values)
    try:
        upstream = Upstream(values["UPSTREAM"], username, password, values["UPSTREAM_TIMEOUT"])
    except ValueError as error:
        raise UpstreamSettingError("the upstream is %s (--upstream)" % error) from None
    return Mirror(upstream, storage.store, storage.blobs, values["UPSTREAM_TTL"])


def credentials(values):
    """Return (username, password) for the upstream: from the credentials file, or the variables; (None, None)."""
    path = values["UPSTREAM_CREDENTIALS"]
    if not path:
        return values["UPSTREAM_USERNAME"], values["UPSTREAM_PASSWORD"]
    try:
        with open(path, encoding="utf-8") as stream:
            line = stream.readline().strip()
    except (OSError, UnicodeDecodeError) as error:
        raise UpstreamSettingError(
            "cannot read the upstream credentials file %s: %s" % (path, getattr(error, "strerror", None) or error)
        ) from None
    username, colon, password = line.partition(":")
    if not colon or not username:
        raise UpstreamSettingError("the upstream credentials file %s does not hold USERNAME:PASSWORD" % path)
    return username, password
