"""The naming rules of namespaces, repositories, tags, image ids and digests, and the limits of text fields.

One place for them, shared by the request schemas, the storage reader and the
registry, so a name or a text is judged the same way whether it arrives in a
URL, a body, a manifest or a file.
"""

import hashlib
import re

# A new name under the hub API (the seed's rule); and any name a namespace or a repository may have,
# the OCI spec's grammar of a name's component (what /v2/ pushes make, and the files hold).
NAME_PATTERN = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*", re.ASCII)
COMPONENT_PATTERN = re.compile(r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*", re.ASCII)
TAG_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}", re.ASCII)
IMAGE_ID_PATTERN = re.compile(r"[a-f0-9]{64}", re.ASCII)
# A digest, as the OCI spec writes its grammar (algorithm:encoded); and the algorithms hubserver stores,
# each with the length of its hex digits. A manifest's image id is its digest's hex digits.
DIGEST_GRAMMAR = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+", re.ASCII)
ALGORITHMS = {"sha256": 64, "sha512": 128}
DEFAULT_ALGORITHM = "sha256"
DIGEST_PATTERN = re.compile(
    "|".join(r"%s:[a-f0-9]{%d}" % (algorithm, length) for algorithm, length in ALGORITHMS.items()), re.ASCII
)
MANIFEST_IMAGE_ID_PATTERN = re.compile("|".join(r"[a-f0-9]{%d}" % length for length in ALGORITHMS.values()))

NAMESPACE_LENGTH = (2, 200)  # of a new name under the hub API
REPO_NAME_LENGTH = (2, 255)
STORED_NAMESPACE_LENGTH = (1, NAMESPACE_LENGTH[1])  # of any name
STORED_REPO_NAME_LENGTH = (1, REPO_NAME_LENGTH[1])
REPO_PATH_MAX_LENGTH = 255
USERNAME_MAX_LENGTH = 150
# The longest text each repository field takes.
TEXT_LIMITS = {"description": 1000, "full_description": 100_000, "logo": 255}
# Names Windows keeps for devices, with any extension: a namespace's file must never be one.
DEVICE_NAMES = frozenset(
    ["con", "prn", "aux", "nul", *("com%d" % n for n in range(1, 10)), *("lpt%d" % n for n in range(1, 10))]
)


def _fits(pattern, length, value):
    low, high = length
    return isinstance(value, str) and low <= len(value) <= high and bool(pattern.fullmatch(value))


def is_namespace(value):
    """Tell whether ``value`` may name a namespace (and so a file, on any system): the OCI grammar."""
    return _fits(COMPONENT_PATTERN, STORED_NAMESPACE_LENGTH, value) and value.split(".", 1)[0] not in DEVICE_NAMES


def is_repo_name(value):
    """Tell whether ``value`` may name a repository, on its own: the OCI grammar."""
    return _fits(COMPONENT_PATTERN, STORED_REPO_NAME_LENGTH, value)


def is_new_namespace(value):
    """Tell whether the hub API may create a repository in the namespace ``value`` (the seed's rule)."""
    return is_namespace(value) and _fits(NAME_PATTERN, NAMESPACE_LENGTH, value)


def is_new_repo_name(value):
    """Tell whether the hub API may create a repository of the name ``value`` (the seed's rule)."""
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
    """Tell whether ``value`` is an image id as the hub API takes one (64 lowercase hex digits)."""
    return isinstance(value, str) and bool(IMAGE_ID_PATTERN.fullmatch(value))


def is_stored_image_id(value):
    """Tell whether ``value`` may be a stored tag's image id: the hex digits of a digest of any ALGORITHMS."""
    return isinstance(value, str) and bool(MANIFEST_IMAGE_ID_PATTERN.fullmatch(value))


def is_digest(value):
    """Tell whether ``value`` is a content digest hubserver stores: ``sha256:`` and 64 hex digits, or sha512's."""
    return isinstance(value, str) and bool(DIGEST_PATTERN.fullmatch(value))


def algorithm_of(digest):
    """Return the algorithm a digest names (the part before its colon)."""
    return digest.split(":", 1)[0]


def hasher(algorithm=DEFAULT_ALGORITHM, data=b""):
    """Return a new hash of ``algorithm``, one of ALGORITHMS, of ``data`` so far."""
    return hashlib.new(algorithm, data)


def is_digest_reference(value):
    """Tell whether a manifest reference is meant as a digest (the spec's grammar), not as a tag."""
    return isinstance(value, str) and bool(DIGEST_GRAMMAR.fullmatch(value))


def digest_of(data, algorithm=DEFAULT_ALGORITHM):
    """Return the content digest of bytes: ``sha256:`` and 64 hex digits, or another of ALGORITHMS."""
    return digest_of_hash(hasher(algorithm), data)


def digest_of_hash(hash_, data=b""):
    """Return the digest a hash (of ALGORITHMS) makes, once ``data`` is added to it."""
    hash_.update(data)
    return "%s:%s" % (hash_.name, hash_.hexdigest())


def image_id_of(digest):
    """Return the image id of a manifest digest: its hex digits."""
    return digest.split(":", 1)[1]


def digest_of_image(image_id):
    """Return the digest an image id names (the inverse of ``image_id_of``): its algorithm by its length."""
    algorithm = next((name for name, length in ALGORITHMS.items() if length == len(image_id)), DEFAULT_ALGORITHM)
    return "%s:%s" % (algorithm, image_id)
