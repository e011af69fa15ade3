"""The OCI distribution API under ``/v2/``: blobs, uploads, manifests, tags, catalog, referrers.

A name is ``<namespace>/<repo_name>``, or ``<repo_name>`` for
``library/<repo_name>``. What is pushed shows in the hub API: a manifest
pushed by tag is a hub tag (its image id the digest's hex) and a push; a
manifest GET is a pull. Answers follow the CNCF distribution registry where
the spec lets a registry choose.
"""

import re

from flask import Blueprint, Response, current_app, request, url_for
from werkzeug.exceptions import RequestedRangeNotSatisfiable, RequestEntityTooLarge
from werkzeug.wsgi import wrap_file

from hubserver import web
from hubserver.accounts import DELETE, PULL, PUSH
from hubserver.names import (
    ALGORITHMS,
    DEFAULT_ALGORITHM,
    algorithm_of,
    digest_of,
    digest_of_image,
    is_digest,
    is_digest_reference,
    is_repo_name,
    is_tag,
)
from hubserver.registry import auth, manifests
from hubserver.registry.errors import RegistryError
from hubserver.registry.links import Links
from hubserver.storage import ManifestNotFound, RepositoryNotFound, TooLarge, UploadUnknown
from hubserver.storage.model import manifest_of

blueprint = Blueprint("registry", __name__, url_prefix="/v2")
BLOBS_KEY = "hubserver.blobs"
LINKS_KEY = "hubserver.links"
MIRROR_KEY = "hubserver.mirror"
API_VERSION = {"Docker-Distribution-API-Version": "registry/2.0"}
ENDPOINT = re.compile(r"(.+?)/(?:blobs/uploads/.*|blobs/[^/]+|manifests/[^/]+|tags/list|referrers/[^/]+)", re.DOTALL)
CONTENT_RANGE = re.compile(r"(?:bytes[ =])?(\d+)-(\d+)(?:/\d+|/\*)?")
CHUNK = 1024 * 1024  # a request body is read this much at a time


def init_app(app, blobs, mirror=None):
    """Mount the registry on the blob backend ``blobs``, with the Links that say which blobs a repository holds.

    With a ``mirror`` (``hubserver.mirror.Mirror``), a pull of what is not here is fetched from its upstream.
    """
    app.extensions[BLOBS_KEY] = blobs
    app.extensions[LINKS_KEY] = Links(blobs)
    app.extensions[MIRROR_KEY] = mirror
    app.register_blueprint(blueprint)


def pulled(namespace, repo_name, fill):
    """Authorize a pull; return the repository (None: none the caller may read).

    With a mirror, ``fill(mirror)`` first fetches from the upstream what the
    pull needs, unless the repository is here and the caller may not read it.
    """
    _, repository = auth.authorize(namespace, repo_name, PULL)
    mirror = current_app.extensions[MIRROR_KEY]
    if mirror is None or (repository is None and web.store().find_repository(namespace, repo_name) is not None):
        return repository
    fill(mirror)
    return auth.authorize(namespace, repo_name, PULL)[1]


def blob_store():
    """Return the application's blob store."""
    return current_app.extensions[BLOBS_KEY]


def links():
    """Return the application's Links: which blobs belong to which repository."""
    return current_app.extensions[LINKS_KEY]


def name_route(rule, methods):
    """Register a view for both name shapes: ``<namespace>/<repo_name>`` and ``<repo_name>``."""

    def register(view):
        blueprint.add_url_rule("/<namespace>/<repo_name>" + rule, view_func=view, methods=methods)
        blueprint.add_url_rule(
            "/<repo_name>" + rule, view_func=view, methods=methods, defaults={"namespace": "library"}
        )
        return view

    return register


def location(view, namespace, repo_name, **values):
    """Return the absolute URL of ``view`` (a function of this module) for a repository: a Location header.

    Always the two-part name, as the CNCF registry writes it.
    """
    return url_for("registry." + view.__name__, namespace=namespace, repo_name=repo_name, _external=True, **values)


@blueprint.after_request
def announce_version(response):
    """Say which protocol this is, on every /v2/ answer."""
    response.headers.update(API_VERSION)
    return response


def checked_digest(digest):
    """Return ``digest`` if it is one of the algorithms hubserver stores; DIGEST_INVALID otherwise.

    A digest of another algorithm, well formed, is told which ones hubserver takes.
    """
    if is_digest(digest):
        return digest
    detail = {"digest": digest}
    if is_digest_reference(digest):
        detail["algorithms"] = list(ALGORITHMS)
    raise RegistryError("DIGEST_INVALID", detail)


def checked_algorithm(algorithm):
    """Return a ``digest-algorithm`` parameter hubserver hashes with; DIGEST_INVALID naming those it does."""
    if algorithm not in ALGORITHMS:
        raise RegistryError("DIGEST_INVALID", {"digest-algorithm": algorithm, "algorithms": list(ALGORITHMS)})
    return algorithm


# The base, the catalog


@web.route(blueprint, "/", methods=["GET"])
def base():
    """Tell a client this is a registry (401 with a challenge when accounts want credentials)."""
    auth.authorize_base()
    return {}


@web.route(blueprint, "/_catalog", methods=["GET"])
def catalog():
    """List the repositories the caller may see, ``namespace/repo_name``, in lexical order."""
    listed, unreadable = web.listed_namespaces(auth.authorize_catalog())
    names = sorted(
        "%s/%s" % (namespace, repository["repo_name"])
        for namespace, repositories in listed
        for repository in repositories
    )
    page, link = paged(names)
    return web.skipped(web_answer({"repositories": page}, link), unreadable)


def paged(items):
    """Return (page, Link header or None) of sorted ``items`` for ?n=&last=, as the CNCF registry pages."""
    last = request.args.get("last")
    if last:
        items = [item for item in items if item > last]
    try:
        count = int(request.args["n"])
    except (KeyError, ValueError):
        return items, None
    if count < 0:
        raise RegistryError("PAGINATION_NUMBER_INVALID", {"n": count})
    page = items[:count]
    if len(items) <= count or not page:
        return page, None
    return page, '<%s?last=%s&n=%d>; rel="next"' % (request.path, page[-1], count)


def web_answer(body, link=None):
    response = web.json_answer(body, 200)
    if link:
        response.headers["Link"] = link
    return response


@name_route("/tags/list", ["GET"])
def tags_list(namespace, repo_name):
    """List the repository's tags that name a manifest, in lexical order."""
    upstream = []  # the upstream's tags, with a mirror that could list them

    def fill(mirror):
        upstream.extend(mirror.tags(namespace, repo_name) or ())

    repository = pulled(namespace, repo_name, fill)
    if repository is None and not upstream:
        raise RepositoryNotFound(namespace, repo_name)
    tags = set(upstream)
    if repository is not None:
        known = {entry["digest"] for entry in repository["manifests"]}
        tags.update(entry["tag"] for entry in repository["tags"] if digest_of_image(entry["image_id"]) in known)
    page, link = paged(sorted(tags))
    return web_answer({"name": "%s/%s" % (namespace, repo_name), "tags": page}, link)


# Blobs


@name_route("/blobs/<digest>", ["GET", "HEAD"])
def get_blob(namespace, repo_name, digest):
    """Send a blob of this repository (with Range), or its headers for HEAD."""
    blobs = blob_store()
    checked_digest(digest)
    fetched = []  # with a mirror: the blob's (size, chunks) as they come from the upstream

    def fill(mirror):
        if held_size(web.store().find_repository(namespace, repo_name), digest) is not None:
            return
        if request.method == "HEAD":
            fetched.append((mirror.blob_size(namespace, repo_name, digest), None))
        elif "Range" in request.headers:  # a part: once the whole is here
            mirror.fetch_blob(namespace, repo_name, digest)
        else:
            fetched.extend(filter(None, [mirror.stream_blob(namespace, repo_name, digest)]))

    repository = pulled(namespace, repo_name, fill)
    size, chunks = fetched[0] if fetched else (held_size(repository, digest), None)
    if size is None and chunks is None:  # the same answer whether or not another repository holds it
        raise RegistryError("BLOB_UNKNOWN", {"digest": digest})
    headers = {"Accept-Ranges": "bytes", "ETag": '"%s"' % digest, "Docker-Content-Digest": digest}
    if size is not None:
        headers["Content-Length"] = str(size)
    if request.method == "HEAD" or chunks is not None:  # the headers alone, or the bytes on their way here
        return Response(chunks, status=200, mimetype="application/octet-stream", headers=headers)
    opened = blobs.open(digest)
    if opened is None:  # removed since (a gc)
        raise RegistryError("BLOB_UNKNOWN", {"digest": digest})
    return streamed(opened, digest)


def held_size(repository, digest):
    """Return the size of a blob ``repository`` holds, or None."""
    return blob_store().size(digest) if links().holds(repository, digest) else None


def streamed(opened, digest):
    """Return the answer sending an OpenBlob, with its validators and Range support, as a static file is sent."""
    response = Response(
        wrap_file(request.environ, opened.stream), mimetype="application/octet-stream", direct_passthrough=True
    )
    response.content_length = opened.size
    response.last_modified = opened.modified
    response.cache_control.no_cache = True
    response.set_etag(digest)
    try:
        response = response.make_conditional(request.environ, accept_ranges=True, complete_length=opened.size)
    except RequestedRangeNotSatisfiable:
        opened.stream.close()
        raise RegistryError(
            "RANGE_INVALID", {"size": opened.size}, headers={"Content-Range": "bytes */%d" % opened.size}
        ) from None
    response.headers["Docker-Content-Digest"] = digest
    return response


@name_route("/blobs/<digest>", ["DELETE"])
def delete_blob(namespace, repo_name, digest):
    """Take a blob out of this repository; refused while one of its manifests names it.

    The bytes stay while another repository holds them; ``gc`` removes bytes
    that no repository holds.
    """
    _, repository = auth.authorize(namespace, repo_name, DELETE)
    checked_digest(digest)
    if not links().holds(repository, digest):
        raise RegistryError("BLOB_UNKNOWN", {"digest": digest})
    naming = links().manifest_naming(repository, digest)
    if naming is not None:
        raise RegistryError("UNSUPPORTED", {"digest": digest, "named_by": naming})
    web.store().unlink_blob(namespace, repo_name, digest)
    return accepted({"Docker-Content-Digest": digest})


def accepted(headers):
    response = web.no_content(202)
    response.headers.update(headers)
    response.headers["Content-Length"] = "0"
    return response


def upload_headers(namespace, repo_name, upload, size):
    return {
        "Location": location(upload_status, namespace, repo_name, upload=upload),
        "Range": "0-%d" % max(size - 1, 0),
        "Docker-Upload-UUID": upload,
    }


def body_chunks():
    """Yield the request body in chunks, whatever its size; TooLarge past the route's limit."""
    try:
        stream = request.stream
        yield from iter(lambda: stream.read(CHUNK), b"")
    except RequestEntityTooLarge:
        raise TooLarge(blob_store().max_size) from None


def finished(namespace, repo_name, digest):
    response = web.no_content(201)
    response.headers.update(
        {
            "Location": location(get_blob, namespace, repo_name, digest=digest),
            "Docker-Content-Digest": digest,
            "Content-Length": "0",
        }
    )
    return response


@name_route("/blobs/uploads/", ["POST"])
def start_upload(namespace, repo_name):
    """Open an upload; mount a blob that exists (?mount=, with or without &from=); or take a blob whole (?digest=).

    A mount the caller may not make (the blob is in no repository it may
    read) opens an upload instead, as the spec says. A single-request upload
    (``?digest=`` and the blob as the body) is finished at once: 201.
    """
    user, _ = auth.authorize(namespace, repo_name, PUSH)
    args = request.args
    mount = args.get("mount")
    if mount and is_digest(mount) and mountable(mount, args.get("from")):
        web.store().link_blob(namespace, repo_name, mount)
        return finished(namespace, repo_name, mount)
    digest = args.get("digest")
    algorithm = algorithm_of(checked_digest(digest)) if digest else args.get("digest-algorithm", DEFAULT_ALGORITHM)
    upload = blob_store().start(owner(namespace, repo_name, user), checked_algorithm(algorithm))
    if digest:
        return finish_with(namespace, repo_name, upload, digest)
    return accepted(upload_headers(namespace, repo_name, upload, 0))


def mountable(digest, source):
    """Tell whether the caller may mount ``digest``: from the repository ``source``, or (None) from any.

    It may if it may read a repository there that holds the blob.
    """
    if blob_store().size(digest) is None:
        return False
    if source is not None:
        name = auth.normalized(source)
        return name is not None and links().holds(auth.readable(*name), digest)
    return any(
        links().holds(auth.readable(name, repository["repo_name"]), digest)
        for name in web.store().namespace_names()
        for repository in web.store().list_repositories(name)
    )


def owner(namespace, repo_name, user):
    """Return who an upload session belongs to: the repository, and the caller that opened it."""
    return "%s/%s\n%s" % (namespace, repo_name, "" if user is None else user.name)


def finish_with(namespace, repo_name, upload, digest):
    """Add the request body to an upload, make it the blob ``digest``, and link it to the repository."""
    blob_store().finish(upload, digest, body_chunks(), *chunk_place())
    web.store().link_blob(namespace, repo_name, digest)
    return finished(namespace, repo_name, digest)


def append(upload):
    """Add the request body to an upload; return its new size."""
    return blob_store().append(upload, body_chunks(), *chunk_place())


def chunk_place():
    """Return where the body says it starts (Content-Range; None without) and its length (None if chunked).

    A Content-Range whose span is not the body's length is RANGE_INVALID.
    """
    header = request.headers.get("Content-Range")
    length = request.content_length
    if not header:
        return None, length
    match = CONTENT_RANGE.fullmatch(header.strip())
    if not match:
        raise RegistryError("RANGE_INVALID", {"Content-Range": header})
    start, end = int(match.group(1)), int(match.group(2))
    if length is not None and end - start + 1 != length:
        raise RegistryError("RANGE_INVALID", {"Content-Range": header, "Content-Length": length})
    return start, length


def own_upload(namespace, repo_name, upload, action=PUSH):
    """Check the caller may do ``action`` here and opened this upload for this repository; return its size.

    The action is the request method's, as the CNCF registry has it: a status
    (GET) is a pull, a cancel (DELETE) a delete, a chunk or a finish a push.
    Anyone else's upload, or another repository's, is an unknown upload.
    """
    user, _ = auth.authorize(namespace, repo_name, action)
    blobs = blob_store()
    if blobs.owner(upload) != owner(namespace, repo_name, user):
        raise UploadUnknown(upload)
    return blobs.upload_size(upload)


@name_route("/blobs/uploads/<upload>", ["PATCH"])
def upload_chunk(namespace, repo_name, upload):
    """Add a chunk to an upload; 416 for one out of order."""
    own_upload(namespace, repo_name, upload)
    size = append(upload)
    return accepted(upload_headers(namespace, repo_name, upload, size))


@name_route("/blobs/uploads/<upload>", ["PUT"])
def finish_upload(namespace, repo_name, upload):
    """Finish an upload (?digest=), with or without a last chunk."""
    own_upload(namespace, repo_name, upload)
    digest = request.args.get("digest")
    if not digest:
        raise RegistryError("DIGEST_INVALID", {"digest": None})
    return finish_with(namespace, repo_name, upload, checked_digest(digest))


@name_route("/blobs/uploads/<upload>", ["GET"])
def upload_status(namespace, repo_name, upload):
    """Tell how much of an upload has arrived."""
    size = own_upload(namespace, repo_name, upload, PULL)
    response = web.no_content(204)
    response.headers.update(upload_headers(namespace, repo_name, upload, size))
    return response


@name_route("/blobs/uploads/<upload>", ["DELETE"])
def cancel_upload(namespace, repo_name, upload):
    """Cancel an upload."""
    own_upload(namespace, repo_name, upload, DELETE)
    blob_store().cancel(upload)
    return web.no_content(204)


# Manifests


def manifest_headers(digest, media_type, size):
    return {
        "Docker-Content-Digest": digest,
        "Content-Type": media_type,
        "Content-Length": str(size),
        "ETag": '"%s"' % digest,
    }


@name_route("/manifests/<reference>", ["GET", "HEAD"])
def get_manifest(namespace, repo_name, reference):
    """Send a manifest by tag or digest; a GET counts as a pull."""
    repository = pulled(namespace, repo_name, lambda mirror: mirror.fill_manifest(namespace, repo_name, reference))
    store, blobs = web.store(), blob_store()
    if repository is None:
        raise ManifestNotFound(namespace, repo_name, reference)
    manifest = manifest_of(repository, namespace, reference)
    if blobs.size(manifest["digest"]) is None:  # imported with a state, without its bytes
        raise ManifestNotFound(namespace, repo_name, reference)
    headers = manifest_headers(manifest["digest"], manifest["media_type"], manifest["size"])
    if request.method == "HEAD":
        response = Response(status=200, headers=headers)
        return response
    data = blobs.read(manifest["digest"])
    store.count_pull(namespace, repo_name)
    return Response(data, status=200, headers=headers)


@name_route("/manifests/<reference>", ["PUT"])
def put_manifest(namespace, repo_name, reference):
    """Take a manifest whose every blob and child manifest is in the repository; by tag, it is a push."""
    _, repository = auth.authorize(namespace, repo_name, PUSH)
    store, blobs = web.store(), blob_store()
    data = request.get_data()
    try:
        media_type, document = manifests.parse(data, request.headers.get("Content-Type", ""))
    except manifests.InvalidManifest as error:
        raise RegistryError("MANIFEST_INVALID", str(error)) from None
    by_digest = is_digest_reference(reference)
    algorithm = algorithm_of(checked_digest(reference)) if by_digest else DEFAULT_ALGORITHM
    digest = digest_of(data, algorithm)
    if by_digest and reference != digest:
        raise RegistryError("DIGEST_INVALID", {"digest": reference})
    tags = request.args.getlist("tag") if by_digest else [reference]  # ?tag= only with a digest, as the spec has it
    for tag in tags:
        if not is_tag(tag):
            raise RegistryError("MANIFEST_INVALID", {"tag": tag})
    check_references(repository, media_type, document)
    blobs.put_bytes(data, algorithm)
    manifest = {"digest": digest, "media_type": media_type, "size": len(data)}
    store.record_manifest(namespace, repo_name, manifest, tags)
    response = web.no_content(201)
    response.headers.update(
        {
            "Location": location(get_manifest, namespace, repo_name, reference=digest),
            "Docker-Content-Digest": digest,
            "Content-Length": "0",
        }
    )
    if by_digest and tags:
        response.headers["OCI-Tag"] = ", ".join(tags)
    if "subject" in document:
        response.headers["OCI-Subject"] = document["subject"]["digest"]
    return response


def check_references(repository, media_type, document):
    """Raise MANIFEST_BLOB_UNKNOWN unless every blob and child manifest it must name is in the repository.

    Only what belongs to the repository counts, as in the CNCF registry: a
    manifest cannot make another repository's blob its own by naming it.
    With ``--sparse-manifests``, nothing it names need be there.
    """
    if current_app.config["SPARSE_MANIFESTS"]:
        return
    blobs = blob_store()
    blob_digests, manifest_digests = manifests.required(media_type, document)
    held = set() if repository is None else {known["digest"] for known in repository["manifests"]}
    missing = [digest for digest in blob_digests if not links().holds(repository, digest) or blobs.size(digest) is None]
    missing += [digest for digest in manifest_digests if digest not in held]
    if missing:  # one error for each, as the CNCF registry reports them
        raise RegistryError("MANIFEST_BLOB_UNKNOWN", [{"digest": digest} for digest in missing])


@name_route("/manifests/<reference>", ["DELETE"])
def delete_manifest(namespace, repo_name, reference):
    """Delete a manifest by digest (and the tags on it), or one tag."""
    _, repository = auth.authorize(namespace, repo_name, DELETE)
    if repository is None:
        raise RepositoryNotFound(namespace, repo_name)
    store = web.store()
    if is_digest_reference(reference):
        store.delete_manifest(namespace, repo_name, reference)
    else:
        manifest_of(repository, namespace, reference)
        store.delete_tag(namespace, repo_name, reference)
    return accepted({})


@name_route("/referrers/<digest>", ["GET"])
def referrers(namespace, repo_name, digest):
    """List the manifests whose subject is ``digest`` (?artifactType= filters)."""
    _, repository = auth.authorize(namespace, repo_name, PULL)
    blobs = blob_store()
    checked_digest(digest)
    wanted = request.args.get("artifactType")
    found = []
    for manifest in () if repository is None else repository["manifests"]:  # none yet: an empty index
        _, document = manifests.parse(blobs.read(manifest["digest"]), manifest["media_type"])
        if (document.get("subject") or {}).get("digest") != digest:
            continue
        descriptor = manifests.referrer_descriptor(
            manifest["digest"], manifest["media_type"], manifest["size"], document
        )
        if wanted is None or descriptor.get("artifactType") == wanted:
            found.append(descriptor)
    response = web.json_answer({"schemaVersion": 2, "mediaType": manifests.OCI_INDEX, "manifests": found}, 200)
    response.headers["Content-Type"] = manifests.OCI_INDEX
    if wanted is not None:
        response.headers["OCI-Filters-Applied"] = "artifactType"
    return response


@blueprint.route("/<path:rest>", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
def unknown_name(rest):
    """Any other shape of name: of three components or more, no repository here; breaking the grammar, invalid."""
    found = ENDPOINT.fullmatch(rest)
    name = found.group(1) if found else rest
    if found and not all(is_repo_name(component) for component in name.split("/")):
        raise RegistryError("NAME_INVALID", {"name": name})
    raise RegistryError("NAME_UNKNOWN", {"name": name})
