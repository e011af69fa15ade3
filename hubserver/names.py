"""The naming rules of namespaces, repositories, tags, image ids and digests, and the limits of text fields.

One place for them, shared by the request schemas, the storage reader and the
registry, so a name or a text is judged the same way whether it arrives in a
URL, a body, a manifest or a file.
"""

import hashlib
import re

NAME_PATTERN = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*", re.ASCII)
TAG_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}", re.ASCII)
IMAGE_ID_PATTERN = re.compile(r"[a-f0-9]{64}", re.ASCII)
# A digest, as the OCI spec writes its grammar (algorithm:encoded); and the one algorithm hubserver stores.
DIGEST_GRAMMAR = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+", re.ASCII)
DIGEST_PATTERN = re.compile(r"sha256:[a-f0-9]{64}", re.ASCII)

NAMESPACE_LENGTH = (2, 200)
REPO_NAME_LENGTH = (2, 255)
REPO_PATH_MAX_LENGTH = 255
USERNAME_MAX_LENGTH = 150
# The longest text each repository field takes.
TEXT_LIMITS = {"description": 1000, "full_description": 100_000, "logo": 255}
DIGEST_PREFIX = "sha256:"
# Names Windows keeps for devices, with any extension: a namespace's file must never be one.
DEVICE_NAMES = frozenset(
    ["con", "prn", "aux", "nul", *("com%d" % n for n in range(1, 10)), *("lpt%d" % n for n in range(1, 10))]
)


def _fits(pattern, length, value):
    low, high = length
    return isinstance(value, str) and low <= len(value) <= high and bool(pattern.fullmatch(value))


def is_namespace(value):
    """Tell whether ``value`` may name a namespace (and so a file, on any system)."""
    return _fits(NAME_PATTERN, NAMESPACE_LENGTH, value) and value.split(".", 1)[0] not in DEVICE_NAMES


def is_repo_name(value):
    """Tell whether ``value`` may name a repository, on its own."""
    return _fits(NAME_PATTERN, REPO_NAME_LENGTH, value)


def is_repo_path(namespace, repo_name):
    """Tell whether ``namespace/repo_name`` is a valid repository path."""
    return (
        is_namespace(namespace)
        and is_repo_name(repo_name)
        and len(namespace) + 1 + len(repo_name) <= REPO_PATH_MAX_LENGTH
    )


def is_tag(value):
    """Tell whether ``value`` may name a tag."""
    return isinstance(value, str) and bool(TAG_PATTERN.fullmatch(value))


def is_image_id(value):
    """Tell whether ``value`` is an image id (64 lowercase hex digits)."""
    return isinstance(value, str) and bool(IMAGE_ID_PATTERN.fullmatch(value))


def is_digest(value):
    """Tell whether ``value`` is a sha256 content digest, ``sha256:`` and 64 hex digits."""
    return isinstance(value, str) and bool(DIGEST_PATTERN.fullmatch(value))


def is_digest_reference(value):
    """Tell whether a manifest reference is meant as a digest (the spec's grammar), not as a tag."""
    return isinstance(value, str) and bool(DIGEST_GRAMMAR.fullmatch(value))


def digest_of(data):
    """Return the content digest of bytes: ``sha256:`` and 64 hex digits."""
    return DIGEST_PREFIX + hashlib.sha256(data).hexdigest()


def image_id_of(digest):
    """Return the hub API's image id of a manifest digest: its 64 hex digits."""
    return digest[len(DIGEST_PREFIX) :]


def digest_of_image(image_id):
    """Return the digest an image id names (the inverse of ``image_id_of``)."""
    return DIGEST_PREFIX + image_id
