"""Helpers for tests: the canonical error check, and a real server process."""

import contextlib
import hashlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

PROJECT = Path(__file__).resolve().parent.parent
STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
LISTENING = re.compile(r"hubserver listening on (http://127\.0\.0\.1:(\d+))\n")

OCTETS = {"Content-Type": "application/octet-stream"}
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
# The keys of a repository detail, in the contract's order.
DETAIL_KEYS = [
    "namespace",
    "repo_name",
    "repo_path",
    "logo_file",
    "description",
    "full_description",
    "repo_starred_count",
    "created_at",
    "updated_at",
    "is_public",
    "logo",
    "is_automated",
    "download",
    "upload",
    "pulled_at",
    "pushed_at",
    "is_repo_starred",
]


def assert_error(response, status, body):
    """Check an error answer: its status, a JSON content type, and exactly ``body``."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert response.get_json() == body


def assert_field_errors(response, *fields):
    """Check a 400 in DRF's field-error shape naming exactly ``fields``."""
    assert response.status_code == 400, response.get_data(as_text=True)
    errors = response.get_json()
    assert sorted(errors) == sorted(fields)
    for messages in errors.values():
        assert messages and all(isinstance(message, str) and message for message in messages)


@contextlib.contextmanager
def running_server(data_dir, *arguments, env=None):
    """Run ``python hubserver.py --port 0`` on ``data_dir``; yield (process, base URL).

    The server's standard error (its access log, its messages) goes to a file
    that ``process.log`` reads, so that however much it writes it never waits
    on a pipe. The server is stopped with SIGTERM at the end if it still runs.
    """
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(
            [sys.executable, str(PROJECT / "hubserver.py"), "--port", "0", "--data-dir", str(data_dir), *arguments],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env={**os.environ, **(env or {})},
        )
        process.log = lambda: _whole_file(errors.fileno())
        try:
            line = process.stdout.readline()
            match = LISTENING.fullmatch(line)
            if not match:
                process.kill()
                process.wait()
                raise AssertionError("no listening line: %r; stderr: %s" % (line, process.log()))
            yield process, match.group(1)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=10)
            process.stdout.close()


def free_port():
    """Return a loopback port that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port):
    """Wait until something accepts connections on the loopback ``port`` (a minute at most, for a busy machine)."""
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("nothing listens on port %d" % port)


@contextlib.contextmanager
def running_registry(root, htpasswd=None):
    """Run the CNCF registry (Debian's docker-registry) on a free loopback port, storing in ``root``; yield its URL.

    With ``htpasswd`` (a file of user:bcrypt lines), it asks for Basic credentials.
    """
    port = free_port()
    auth = "auth: {htpasswd: {realm: hubserver-tests, path: %s}}\n" % htpasswd if htpasswd else ""
    config = root / "config.yml"
    config.write_text(
        "version: 0.1\nlog: {level: error}\nstorage:\n  filesystem: {rootdirectory: %s}\n  delete: {enabled: true}\n"
        "http: {addr: '127.0.0.1:%d'}\n%s" % (root / "storage", port, auth)
    )
    process = subprocess.Popen(
        ["docker-registry", "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port(port)
        yield "http://127.0.0.1:%d" % port
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


def _whole_file(fd):
    """Return what a file holds, read with pread: the server shares the file's offset, which a seek would move."""
    chunks, offset = [], 0
    while True:
        chunk = os.pread(fd, 1 << 20, offset)
        if not chunk:
            return b"".join(chunks).decode("utf-8", "replace")
        chunks.append(chunk)
        offset += len(chunk)


class Answer:
    """A raw HTTP answer: status, headers and body, with the JSON value if any."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)


def send(base_url, method, path, body=None, headers=None, connection=None):
    """Send one request to a live server with http.client; return an Answer.

    ``path`` is sent exactly as given (so it may hold percent-escapes).
    A dict ``body`` is sent as JSON; with ``Transfer-Encoding: chunked`` the
    body (an iterable of bytes) is sent in chunks.
    """
    headers = dict(headers or {})
    if isinstance(body, dict):
        body = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    own = connection is None
    if own:
        connection = http.client.HTTPConnection(urlsplit(base_url).netloc, timeout=30)
    try:
        chunked = headers.get("Transfer-Encoding") == "chunked"
        connection.request(method, path, body=body, headers=headers, encode_chunked=chunked)
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        if own:
            connection.close()


def file_repository(name, stamp, file_format=4, **fields):
    """Return a new repository as a namespace file of ``file_format`` holds it, made at ``stamp``, with ``fields``."""
    repository = {
        "repo_name": name,
        "description": "",
        "full_description": "",
        "is_public": True,
        "logo": "default-icon.jpg",
        "is_automated": False,
        "created": stamp,
        "updated": stamp,
        "download": 0,
        "upload": 0,
        "pulled_at": None,
        "pushed_at": None,
        "tags": [],
        "starred_by": [],
    }
    if file_format >= 2:
        repository["manifests"] = []
    if file_format >= 3:
        repository["blobs"] = []
    if file_format >= 4:
        repository["fetched_tags"] = []
    repository.update(fields)
    return repository


def digest_of(data):
    """Return the registry digest of ``data``, worked out here rather than by hubserver."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def oci_manifest(config, layer):
    """Return the bytes of an OCI image manifest naming the blobs ``config`` and ``layer`` (their digests and sizes)."""
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": digest_of(config),
                "size": len(config),
            },
            "layers": [
                {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest_of(layer), "size": len(layer)}
            ],
        }
    ).encode()


def upload_path(base_url, name):
    """Open a blob upload to the repository ``name`` of a live server; return the path of its Location."""
    location = send(base_url, "POST", "/v2/%s/blobs/uploads/" % name).headers["Location"]
    return "/" + location.split("//", 1)[1].split("/", 1)[1]


def pushed_blob(base_url, name, data):
    """Upload ``data`` as a blob of the repository ``name`` of a live server, in one PUT; return its digest."""
    digest = digest_of(data)
    answer = send(base_url, "PUT", upload_path(base_url, name) + "?digest=" + digest, data, OCTETS)
    assert answer.status == 201, answer.body
    return digest
