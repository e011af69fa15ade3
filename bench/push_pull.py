"""Push and pull a 200 MB layer through hubserver and through the CNCF registry; print MB/s.

    python bench/push_pull.py [--size-mb 200] [--runs 3]

Both run on 127.0.0.1 with a temporary root, started and stopped here by PID;
the CNCF registry is Debian's docker-registry, skipped (and said so) if it is
not installed. Each figure is the best of --runs pushes or pulls.
"""

import argparse
import hashlib
import http.client
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from run import free_port, stop  # the other benchmark, beside this file

CHUNK = 1024 * 1024


def layer(size_mb, salt):
    """Yield ``size_mb`` MiB of bytes that differ with ``salt`` (so every push is a new blob)."""
    block = hashlib.sha256(salt.encode()).digest() * (CHUNK // 32)
    for index in range(size_mb):
        yield index.to_bytes(8, "big") + block[8:]


def digest_of(size_mb, salt):
    hasher = hashlib.sha256()
    for chunk in layer(size_mb, salt):
        hasher.update(chunk)
    return "sha256:" + hasher.hexdigest()


def push(url, size_mb, salt):
    """Push one layer (POST, then PUT the stream chunked); return (seconds, digest)."""
    digest = digest_of(size_mb, salt)
    connection = http.client.HTTPConnection(urlsplit(url).netloc, timeout=300)
    started = time.perf_counter()
    connection.request("POST", "/v2/bench/layer/blobs/uploads/")
    opened = connection.getresponse()
    opened.read()
    location = urlsplit(opened.headers["Location"])
    target = location.path + "?" + (location.query + "&" if location.query else "") + "digest=" + digest
    connection.request(
        "PUT",
        target,
        body=layer(size_mb, salt),
        encode_chunked=True,
        headers={"Content-Type": "application/octet-stream", "Transfer-Encoding": "chunked"},
    )
    done = connection.getresponse()
    done.read()
    elapsed = time.perf_counter() - started
    connection.close()
    if done.status != 201:
        raise RuntimeError("push answered %d" % done.status)
    return elapsed, digest


def pull(url, digest):
    """Pull one layer and check its digest; return seconds."""
    connection = http.client.HTTPConnection(urlsplit(url).netloc, timeout=300)
    started = time.perf_counter()
    connection.request("GET", "/v2/bench/layer/blobs/" + digest)
    response = connection.getresponse()
    hasher = hashlib.sha256()
    for chunk in iter(lambda: response.read(CHUNK), b""):
        hasher.update(chunk)
    elapsed = time.perf_counter() - started
    connection.close()
    if "sha256:" + hasher.hexdigest() != digest:
        raise RuntimeError("pulled bytes do not match")
    return elapsed


def measure(url, size_mb, runs, name):
    pushes, pulls = [], []
    for run in range(runs):
        seconds, digest = push(url, size_mb, "%s-%d" % (name, run))
        pushes.append(seconds)
        pulls.append(pull(url, digest))
    return size_mb / min(pushes), size_mb / min(pulls)


def run_hubserver(folder, size_mb, runs):
    process = subprocess.Popen(
        [sys.executable, "-m", "hubserver", "--port", "0", "--data-dir", str(Path(folder) / "hub")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        url = process.stdout.readline().split()[-1]
        return measure(url, size_mb, runs, "hub")
    finally:
        stop(process)


def run_reference(folder, size_mb, runs):
    port = free_port()
    config = Path(folder) / "registry.yml"
    config.write_text(
        "version: 0.1\nlog: {level: error}\nstorage:\n  filesystem: {rootdirectory: %s}\nhttp: {addr: '127.0.0.1:%d'}\n"
        % (Path(folder) / "reference", port)
    )
    process = subprocess.Popen(
        ["docker-registry", "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        return measure("http://127.0.0.1:%d" % port, size_mb, runs, "reference")
    finally:
        stop(process)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=200, help="layer size in MiB (default 200)")
    parser.add_argument("--runs", type=int, default=3, help="pushes and pulls each; the best counts (default 3)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hubserver-registry-bench-") as folder:
        rows = [("hubserver", *run_hubserver(folder, args.size_mb, args.runs))]
        if shutil.which("docker-registry"):
            rows.append(("CNCF registry (docker-registry)", *run_reference(folder, args.size_mb, args.runs)))
        else:
            print("not measured: docker-registry is not installed (sudo apt-get install docker-registry)")
    print("| registry | push MB/s | pull MB/s |")
    print("|---|---|---|")
    for name, pushed, pulled in rows:
        print("| %s | %.0f | %.0f |" % (name, pushed, pulled))
    print("(%d MiB layer, best of %d, client and server on one 2-core machine)" % (args.size_mb, args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
