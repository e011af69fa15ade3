"""Build small OCI image layouts on disk, for pushing with real clients."""

import gzip
import io
import json
import tarfile
from pathlib import Path

from helpers import OCI_MANIFEST, digest_of

OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def _layer(text):
    """Return (gzipped tar, its diff id) holding one file with ``text``."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        data = text.encode()
        info = tarfile.TarInfo("hello.txt")
        info.size, info.mtime = len(data), 0
        archive.addfile(info, io.BytesIO(data))
    packed = gzip.compress(raw.getvalue(), mtime=0)
    return packed, digest_of(raw.getvalue())


class Layout:
    """An OCI image layout being written into ``folder``."""

    def __init__(self, folder):
        self.folder = Path(folder)
        (self.folder / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        (self.folder / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')

    def blob(self, data, media_type):
        """Store bytes as a blob; return its descriptor."""
        digest = digest_of(data)
        (self.folder / "blobs" / "sha256" / digest.split(":")[1]).write_bytes(data)
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    def image(self, text, architecture="amd64"):
        """Store an image whose one layer holds ``text``; return its manifest descriptor."""
        layer, diff_id = _layer(text)
        config = json.dumps(
            {
                "architecture": architecture,
                "os": "linux",
                "config": {},
                "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            }
        ).encode()
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": self.blob(config, "application/vnd.oci.image.config.v1+json"),
            "layers": [self.blob(layer, "application/vnd.oci.image.layer.v1.tar+gzip")],
        }
        descriptor = self.blob(json.dumps(manifest).encode(), OCI_MANIFEST)
        descriptor["platform"] = {"architecture": architecture, "os": "linux"}
        return descriptor

    def index(self, descriptors):
        """Store an image index of ``descriptors``; return its descriptor."""
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors}
        return self.blob(json.dumps(index).encode(), OCI_INDEX)

    def tag(self, descriptor, name):
        """Name ``descriptor`` in the layout's index.json."""
        path = self.folder / "index.json"
        index = json.loads(path.read_text()) if path.exists() else {"schemaVersion": 2, "manifests": []}
        entry = {key: value for key, value in descriptor.items() if key != "platform"}
        entry["annotations"] = {"org.opencontainers.image.ref.name": name}
        index["manifests"].append(entry)
        path.write_text(json.dumps(index))
        return descriptor
