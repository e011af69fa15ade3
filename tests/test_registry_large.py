"""A 200 MB blob pushed and pulled through the real server, whose memory stays flat."""

import hashlib
import http.client
from urllib.parse import urlsplit

import pytest

from helpers import running_server

SIZE = 200 * 1024 * 1024
CHUNK = 1024 * 1024


def peak_memory_kib(pid):
    """Return the process's peak resident memory (VmHWM), in KiB."""
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM for %d" % pid)


def chunks():
    block = bytes(range(256)) * (CHUNK // 256)
    for index in range(SIZE // CHUNK):
        yield block[index % 256 :] + block[: index % 256]


@pytest.mark.skipif(not hasattr(__import__("os"), "sched_getaffinity"), reason="needs /proc (Linux)")
def test_a_200_mb_blob_moves_in_constant_memory(tmp_path):
    expected = hashlib.sha256()
    for chunk in chunks():
        expected.update(chunk)
    digest = "sha256:" + expected.hexdigest()
    with running_server(tmp_path / "data") as (process, url):
        connection = http.client.HTTPConnection(urlsplit(url).netloc, timeout=120)
        connection.request("POST", "/v2/madams/big/blobs/uploads/")
        started = connection.getresponse()
        started.read()
        location = urlsplit(started.headers["Location"]).path
        before = peak_memory_kib(process.pid)

        connection.request(
            "PUT",
            location + "?digest=" + digest,
            body=chunks(),
            headers={"Content-Type": "application/octet-stream", "Transfer-Encoding": "chunked"},
            encode_chunked=True,
        )
        finished = connection.getresponse()
        finished.read()
        assert finished.status == 201

        connection.request("GET", "/v2/madams/big/blobs/" + digest)
        pulled = connection.getresponse()
        received = hashlib.sha256()
        for block in iter(lambda: pulled.read(CHUNK), b""):
            received.update(block)
        connection.close()
        assert pulled.status == 200
        assert "sha256:" + received.hexdigest() == digest
        growth_mib = (peak_memory_kib(process.pid) - before) / 1024
        assert growth_mib < 48, "the server's peak memory grew by %.0f MiB moving a 200 MiB blob" % growth_mib
