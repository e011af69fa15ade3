"""The namespace file, format 4: how it is written, and how it is read and checked.

A reader accepts any key order (people write fixtures by hand) but checks the
structure, the types and the names, and never guesses: a file that breaks a
rule is reported as corrupt. The writer always writes keys in the order below.

Format 2 added to each repository the manifests pushed to it through /v2/,
after ``starred_by``; format 3 adds after them ``blobs``, the digests of the
blobs uploaded or mounted into it; format 4 adds ``fetched_tags``, the tags
that the mirror (``--upstream``) fetched and keeps in step with the upstream.
An earlier format is read as one with none of the later keys' contents, and
written back as format 4.
"""

import json

from hubserver.clock import is_timestamp
from hubserver.names import TEXT_LIMITS, is_digest, is_namespace, is_repo_path, is_stored_image_id, is_tag
from hubserver.storage.errors import CorruptNamespace

FORMAT = 4
READABLE_FORMATS = (1, 2, 3, 4)
DOCUMENT_KEYS = ("format", "namespace", "repositories")
TAG_KEYS = ("tag", "image_id")
MANIFEST_KEYS = ("digest", "media_type", "size")


def _is_text(limit):
    return lambda value: isinstance(value, str) and len(value) <= limit


def _is_count(value):
    return type(value) is int and value >= 0


def _is_optional_timestamp(value):
    return value is None or is_timestamp(value)


def _is_bool(value):
    return type(value) is bool


# Every key of a repository, in the order it is written, with its check.
# repo_name, tags and starred_by need more than a look at the value alone.
REPOSITORY_CHECKS = {
    "repo_name": None,
    "description": _is_text(TEXT_LIMITS["description"]),
    "full_description": _is_text(TEXT_LIMITS["full_description"]),
    "is_public": _is_bool,
    "logo": _is_text(TEXT_LIMITS["logo"]),
    "is_automated": _is_bool,
    "created": is_timestamp,
    "updated": is_timestamp,
    "download": _is_count,
    "upload": _is_count,
    "pulled_at": _is_optional_timestamp,
    "pushed_at": _is_optional_timestamp,
    "tags": None,
    "starred_by": None,
    "manifests": None,
    "blobs": None,
    "fetched_tags": None,
}
REPOSITORY_KEYS = tuple(REPOSITORY_CHECKS)
# The keys each format has: every format adds keys after those of the one before.
FORMAT_KEYS = {1: REPOSITORY_KEYS[:-3], 2: REPOSITORY_KEYS[:-2], 3: REPOSITORY_KEYS[:-1], 4: REPOSITORY_KEYS}


def new_repository(repo_name, created, description="", full_description="", is_public=True):
    """Return the stored form of a repository just created at ``created``."""
    return {
        "repo_name": repo_name,
        "description": description,
        "full_description": full_description,
        "is_public": is_public,
        "logo": "default-icon.jpg",
        "is_automated": False,
        "created": created,
        "updated": created,
        "download": 0,
        "upload": 0,
        "pulled_at": None,
        "pushed_at": None,
        "tags": [],
        "starred_by": [],
        "manifests": [],
        "blobs": [],
        "fetched_tags": [],
    }


def with_tag(repository, tag, image_id, stamp):
    """Return ``repository`` with ``tag`` at ``image_id``, pushed and updated at ``stamp``, and whether the tag is new.

    A push counts: ``upload`` goes up by one. The tag keeps its place, or a new
    one comes last; pushed here, it is no longer the upstream's to move
    (``fetched_tags``). The one rule, for a change and for its log record alike.
    """
    entry = {"tag": tag, "image_id": image_id}
    tags = list(repository["tags"])
    names = [old["tag"] for old in tags]
    created = tag not in names
    if created:
        tags.append(entry)
    else:
        tags[names.index(tag)] = entry
    pushed = {**repository, "tags": tags, "updated": stamp, "upload": repository["upload"] + 1, "pushed_at": stamp}
    if tag in repository["fetched_tags"]:
        pushed["fetched_tags"] = [name for name in repository["fetched_tags"] if name != tag]
    return pushed, created


def encode(namespace, repositories):
    """Return the bytes of the namespace file holding ``repositories`` (in order)."""
    return Encoder().encode(namespace, repositories)


def _repository_text(repository):
    # A repository as json.dumps(indent=2) writes it two levels down in the document, in UTF-8.
    text = json.dumps(repository, indent=2, ensure_ascii=False)
    return "\n".join("    " + line for line in text.split("\n")).encode("utf-8")


def _reuse(entry, repository):
    """Return ``entry`` (repository, text) if it still describes ``repository``, else a new one."""
    if entry is not None and (entry[0] is repository or entry[0] == repository):
        return entry
    return (repository, _repository_text(repository))


class Encoder:
    """Writes namespace files, re-encoding only the repositories that changed.

    Encoding a repository with indentation is the costly part of a write, and a
    write changes one repository: the text of every other one is reused. The
    result is byte for byte what ``json.dumps(document, indent=2)`` gives.
    Not thread-safe for one namespace: call it under that namespace's lock.
    """

    def __init__(self):
        self._texts = {}  # namespace -> {repo_name: (repository, text)}

    def encode(self, namespace, repositories):
        """Return the bytes of the namespace file holding ``repositories`` (in order)."""
        earlier = self._texts.get(namespace, {})
        current = {
            repository["repo_name"]: _reuse(earlier.get(repository["repo_name"]), repository)
            for repository in repositories
        }
        self._texts[namespace] = current
        head = '{\n  "format": %d,\n  "namespace": %s,\n  "repositories": ' % (FORMAT, json.dumps(namespace))
        if not current:
            return (head + "[]\n}\n").encode("utf-8")
        pieces = [(head + "[\n").encode("utf-8")]
        for _, text in current.values():
            pieces += (text, b",\n")
        pieces[-1] = b"\n  ]\n}\n"
        return b"".join(pieces)  # one copy of the whole file, however large


class BrokenDocument(Exception):
    """A rule of the format is broken; the message says where."""


def decode(namespace, data):
    """Read and check a namespace file; return its repositories by name, in order.

    Raises CorruptNamespace, naming the first broken rule, for anything that is
    not a document of a readable format of this namespace.
    """
    try:
        parsed = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as error:
        raise CorruptNamespace(namespace, "not valid JSON: %s" % error) from None
    try:
        return check(namespace, parsed)
    except BrokenDocument as error:
        raise CorruptNamespace(namespace, str(error)) from None


def as_document(namespace, repositories):
    """Return the namespace document (as parsed JSON) holding ``repositories``."""
    return {"format": FORMAT, "namespace": namespace, "repositories": list(repositories)}


def check(namespace, document):
    """Check a parsed namespace document; return its repositories by name, in order.

    ``namespace`` is the name the document must carry; None takes the one it
    carries, if that is a valid name. Raises BrokenDocument.
    """
    _require_keys(document, DOCUMENT_KEYS, "the document")
    if namespace is None:
        namespace = document["namespace"]
        if not is_namespace(namespace):
            raise BrokenDocument("namespace %r is not a valid namespace name" % (namespace,))
    return _check_document(namespace, document)


def _require_keys(value, keys, where):
    if not isinstance(value, dict):
        raise BrokenDocument("%s is not an object" % where)
    missing = [key for key in keys if key not in value]
    unknown = [key for key in value if key not in keys]
    if missing:
        raise BrokenDocument("%s lacks %s" % (where, ", ".join(missing)))
    if unknown:
        raise BrokenDocument("%s has unknown key %s" % (where, ", ".join(unknown)))


def _require_list(value, where):
    if not isinstance(value, list):
        raise BrokenDocument("%s is not a list" % where)
    return value


def _check_document(namespace, document):
    if type(document["format"]) is not int or document["format"] not in READABLE_FORMATS:
        raise BrokenDocument("format %r is not one of %s" % (document["format"], READABLE_FORMATS))
    if document["namespace"] != namespace:
        raise BrokenDocument("it names namespace %r, not %r" % (document["namespace"], namespace))
    repositories = {}
    for index, raw in enumerate(_require_list(document["repositories"], "repositories")):
        repository = _check_repository(namespace, raw, "repositories[%d]" % index, document["format"])
        if repository["repo_name"] in repositories:
            raise BrokenDocument("repository %s appears twice" % repository["repo_name"])
        repositories[repository["repo_name"]] = repository
    return repositories


def check_repository(namespace, raw):
    """Check one repository as the writer writes it (the current format); return its stored form."""
    return _check_repository(namespace, raw, "the repository", FORMAT)


def _check_repository(namespace, raw, where, file_format):
    _require_keys(raw, FORMAT_KEYS[file_format], where)
    for key, check in REPOSITORY_CHECKS.items():
        if check is not None and not check(raw[key]):
            raise BrokenDocument("%s.%s has a wrong type or value: %r" % (where, key, raw[key]))
    if not is_repo_path(namespace, raw["repo_name"]):
        raise BrokenDocument("%s.repo_name %r is not a valid repository name" % (where, raw["repo_name"]))
    repository = {key: raw.get(key) for key in REPOSITORY_KEYS}
    repository["tags"] = _check_tags(raw["tags"], where + ".tags")
    starred_by = _require_list(raw["starred_by"], where + ".starred_by")
    if not all(is_namespace(user) for user in starred_by):
        raise BrokenDocument("%s.starred_by holds something that is not a user name" % where)
    repository["manifests"] = _check_manifests(raw.get("manifests", []), where + ".manifests")
    repository["blobs"] = _check_blobs(raw.get("blobs", []), where + ".blobs")
    repository["fetched_tags"] = _check_fetched_tags(raw.get("fetched_tags", []), repository["tags"], where)
    return repository


def _check_fetched_tags(raw_fetched, tags, where):
    fetched = _require_list(raw_fetched, where + ".fetched_tags")
    names = {entry["tag"] for entry in tags}
    if not all(isinstance(tag, str) and tag in names for tag in fetched) or len(set(fetched)) != len(fetched):
        raise BrokenDocument("%s.fetched_tags holds something that is not a unique tag of the repository" % where)
    return list(fetched)


def _check_blobs(raw_blobs, where):
    blobs = _require_list(raw_blobs, where)
    if not all(is_digest(digest) for digest in blobs) or len(set(blobs)) != len(blobs):
        raise BrokenDocument("%s holds something that is not a unique sha256 digest" % where)
    return list(blobs)


def _check_manifests(raw_manifests, where):
    manifests = []
    seen = set()
    for index, raw in enumerate(_require_list(raw_manifests, where)):
        here = "%s[%d]" % (where, index)
        _require_keys(raw, MANIFEST_KEYS, here)
        if not is_digest(raw["digest"]) or raw["digest"] in seen:
            raise BrokenDocument("%s.digest %r is not a valid, unique sha256 digest" % (here, raw["digest"]))
        if not isinstance(raw["media_type"], str) or not _is_count(raw["size"]):
            raise BrokenDocument("%s has a wrong media_type or size" % here)
        seen.add(raw["digest"])
        manifests.append({key: raw[key] for key in MANIFEST_KEYS})
    return manifests


def _check_tags(raw_tags, where):
    tags = []
    seen = set()
    for index, raw in enumerate(_require_list(raw_tags, where)):
        here = "%s[%d]" % (where, index)
        _require_keys(raw, TAG_KEYS, here)
        if not is_tag(raw["tag"]) or raw["tag"] in seen:
            raise BrokenDocument("%s.tag %r is not a valid, unique tag" % (here, raw["tag"]))
        if not is_stored_image_id(raw["image_id"]):
            raise BrokenDocument("%s.image_id %r is not 64 lowercase hex digits" % (here, raw["image_id"]))
        seen.add(raw["tag"])
        tags.append({"tag": raw["tag"], "image_id": raw["image_id"]})
    return tags
