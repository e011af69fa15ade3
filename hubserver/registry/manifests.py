"""Manifests: which kinds hubserver takes, how they are checked, what they reference."""

import json

from hubserver.names import is_digest
from hubserver.text import holds_lone_surrogate

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
IMAGE_MANIFESTS = (OCI_MANIFEST, DOCKER_MANIFEST)
# Layers a registry need not hold: the OCI image spec's non-distributable ones, and Docker's foreign layers.
NON_DISTRIBUTABLE = frozenset(
    [
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
        "application/vnd.docker.image.rootfs.foreign.diff.tar",
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    ]
)
INDEXES = (OCI_INDEX, DOCKER_LIST)


class InvalidManifest(ValueError):
    """Not a manifest hubserver takes; the message says why."""


def _descriptor(value, where):
    if not isinstance(value, dict) or not is_digest(value.get("digest")):
        raise InvalidManifest("%s is not a descriptor with a sha256 or sha512 digest" % where)
    if type(value.get("size")) is not int or value["size"] < 0 or not isinstance(value.get("mediaType"), str):
        raise InvalidManifest("%s needs a mediaType and a size" % where)
    return value


def parse(data, content_type):
    """Return (media type, parsed manifest) of the bytes of a pushed manifest."""
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as error:
        raise InvalidManifest("not JSON: %s" % error) from None
    if not isinstance(document, dict) or document.get("schemaVersion") != 2:
        raise InvalidManifest("schemaVersion is not 2")
    if holds_lone_surrogate(document):
        raise InvalidManifest("it holds a lone surrogate, which is not text")
    media_type = document.get("mediaType") or content_type.split(";")[0].strip()
    if document.get("mediaType") and content_type and content_type.split(";")[0].strip() not in (media_type, ""):
        raise InvalidManifest("mediaType %s differs from the Content-Type %s" % (media_type, content_type))
    if media_type in IMAGE_MANIFESTS:
        _descriptor(document.get("config"), "config")
        layers = document.get("layers", [])
        if not isinstance(layers, list):
            raise InvalidManifest("layers is not a list")
        for index, layer in enumerate(layers):
            _descriptor(layer, "layers[%d]" % index)
    elif media_type in INDEXES:
        children = document.get("manifests")
        if not isinstance(children, list):
            raise InvalidManifest("manifests is not a list")
        for index, child in enumerate(children):
            _descriptor(child, "manifests[%d]" % index)
    else:
        raise InvalidManifest("unsupported manifest media type %r" % media_type)
    if "subject" in document:
        _descriptor(document["subject"], "subject")
    return media_type, document


def references(media_type, document):
    """Return (blob digests, manifest digests) a manifest names."""
    if media_type in INDEXES:
        return [], [child["digest"] for child in document["manifests"]]
    return [document["config"]["digest"], *(layer["digest"] for layer in document.get("layers", []))], []


def required(media_type, document):
    """Return (blob digests, manifest digests) to push before a manifest: all it names but non-distributable layers.

    Those are, by their definition, not pushed: their ``urls`` say where they are.
    """
    if media_type in INDEXES:
        return references(media_type, document)
    layers = [layer["digest"] for layer in document.get("layers", []) if layer["mediaType"] not in NON_DISTRIBUTABLE]
    return [document["config"]["digest"], *layers], []


def referrer_descriptor(digest, media_type, size, document):
    """Return the descriptor a referrers list gives for a manifest with a subject."""
    descriptor = {"mediaType": media_type, "digest": digest, "size": size}
    artifact_type = document.get("artifactType") or (document.get("config") or {}).get("mediaType")
    if artifact_type:
        descriptor["artifactType"] = artifact_type
    if document.get("annotations"):
        descriptor["annotations"] = document["annotations"]
    return descriptor
