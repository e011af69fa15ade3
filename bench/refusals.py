"""Measure what hubserver's refusals cost: a body over the limit, and a wrong password.

    python bench/refusals.py

- A POST of 400 MB to /v1/ (limit: 1 MiB), sent on a raw socket until the
  server hangs up: how long until the 413 is read, and how many bytes the
  client got to send (the server answers, then throws away at most 64 MiB
  before it closes).
- urllib POSTs of 2, 8 and 32 MiB over the limit, which send their whole body
  before they read: how long until the 413 is read.
- A wrong password, for a user of the users file (a pbkdf2 hash) and for a
  name that is not in it: the median of each, and their ratio, which should be
  near 1 (a name's existence is not told by the time of the answer).

Everything runs on 127.0.0.1; every loop is bounded in count; the server
started here is stopped by its PID (HubServer.stop).
"""

import json
import socket
import statistics
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from werkzeug.security import generate_password_hash

import hubserver
from pytest_hubserver import HubServer

MiB = 1024 * 1024
LIMIT = MiB  # the default --max-body-size
RUNS = 5


def refused_raw(address, body_bytes):
    """Send a POST head and up to ``body_bytes`` of body until the server hangs up; return (seconds, sent)."""
    head = (
        b"POST /v1/repositories/madams/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % body_bytes
    )
    started = time.perf_counter()
    with socket.create_connection(address, timeout=30) as connection:
        connection.sendall(head)
        sent, chunk = 0, b" " * (64 * 1024)
        try:
            while sent < body_bytes:
                connection.sendall(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        try:
            while data := connection.recv(65536):
                answer += data
        except ConnectionResetError:
            pass
    if b" 413 " not in answer.split(b"\r\n", 1)[0]:
        raise SystemExit("the 400 MB POST was not answered 413: %r" % answer[:200])
    return time.perf_counter() - started, sent


def refused_urllib(url, over):
    """Return the seconds until urllib reads the 413 of a POST ``over`` bytes over the limit."""
    request = urllib.request.Request(
        url + "/v1/repositories/madams/", data=b" " * (LIMIT + over), method="POST",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    started = time.perf_counter()
    try:
        urllib.request.urlopen(request, timeout=30)
    except urllib.error.HTTPError as error:
        with error:
            error.read()
        if error.code != 413:
            raise SystemExit("a POST over the limit was answered %d" % error.code) from None
    return time.perf_counter() - started


def wrong_password_seconds(folder):
    """Return the median seconds of a wrong password for a known user, and for an unknown name."""
    users = Path(folder) / "users.json"
    slow = generate_password_hash("right", method="pbkdf2:sha256:200000")
    users.write_text(json.dumps({"users": {"carol": {"password_hash": slow}}}))
    app = hubserver.create_app({"DATA_DIR": str(Path(folder) / "data"), "USERS": str(users), "LOGIN_RATE": 1000})
    client = app.test_client()

    def median(username):
        timings = []
        for _ in range(RUNS):
            started = time.perf_counter()
            client.post("/v1/generate-api-token/", json={"username": username, "password": "wrong"})
            timings.append(time.perf_counter() - started)
        return statistics.median(timings)

    return median("carol"), median("nobody")


def main():
    hub = HubServer()
    hub.start()
    try:
        host, port = hub.url.split("//")[1].split(":")
        seconds, sent = min(refused_raw((host, int(port)), 400 * MiB) for _ in range(RUNS))
        print("400 MB POST over the limit: 413 read in %.3f s; %.1f MiB sent before the hang-up" % (
            seconds, sent / MiB))  # fmt: skip
        for over in (2 * MiB, 8 * MiB, 32 * MiB):
            best = min(refused_urllib(hub.url, over) for _ in range(RUNS))
            print("urllib POST %2d MiB over the limit: 413 read in %.3f s" % (over // MiB, best))
    finally:
        hub.stop()
    with tempfile.TemporaryDirectory() as folder:
        known, unknown = wrong_password_seconds(folder)
    print("wrong password: known user %.1f ms, unknown name %.1f ms, ratio %.2f" % (
        known * 1000, unknown * 1000, unknown / known))  # fmt: skip


if __name__ == "__main__":
    main()
