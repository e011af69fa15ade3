"""The transport against the real server: body limits per route, enforced before a body is read,
and connections that are idle, slow or many."""

import json
import socket
import time
import urllib.error
import urllib.request

import pytest

from helpers import running_server, send, upload_path

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("transport") / "data"
    with running_server(data_dir, "--max-body-size", "1000", "--max-blob-size", str(2 * MiB)) as (process, url):
        host, port = url.split("//")[1].split(":")
        yield url, (host, int(port)), data_dir


def still_serving(url):
    assert send(url, "GET", "/v1/repositories/madams/").status == 200


def answer_to_headers(address, head, body_bytes=0, chunk=64 * 1024):
    """Send a request head, then up to ``body_bytes`` of body while the server reads; return (answer, bytes sent)."""
    with socket.create_connection(address, timeout=10) as connection:
        connection.sendall(head)
        sent = 0
        try:
            while sent < body_bytes:
                connection.sendall(b" " * chunk)
                sent += chunk
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server stopped reading and hung up: what it answered is still to be read
        answer = b""
        try:
            while chunk_read := connection.recv(65536):
                answer += chunk_read
        except ConnectionResetError:
            pass
    return answer, sent


def split_answer(answer):
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    headers = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:])
    return status, headers, body


def test_a_400_mb_post_is_refused_from_its_content_length_and_read_no_further_than_the_lingering_bound(hub):
    url, address, data_dir = hub
    head = (
        b"POST /v1/repositories/madams/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % (400 * MiB)
    )
    answer, sent = answer_to_headers(address, head, body_bytes=400 * MiB)
    status, headers, body = split_answer(answer)
    assert (status, json.loads(body)) == (413, {"detail": "Request body too large."})
    assert headers[b"Connection"] == b"close"
    assert sent < 100 * MiB  # 64 MiB thrown away, and what the sockets' buffers held
    still_serving(url)


def test_a_chunked_body_is_refused_once_it_grows_past_the_limit(hub):
    url, address, _ = hub
    head = (
        b"POST /v1/repositories/madams/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + b"400\r\n" + b" " * 0x400 + b"\r\n"
    )
    answer, _ = answer_to_headers(address, head)
    status, _, body = split_answer(answer)
    assert (status, json.loads(body)) == (413, {"detail": "Request body too large."})
    still_serving(url)


@pytest.mark.parametrize("over", [2 * MiB, 8 * MiB, 32 * MiB])
def test_a_client_that_sends_its_whole_body_before_reading_gets_the_413(hub, over):
    url, _, _ = hub
    request = urllib.request.Request(
        url + "/v1/repositories/madams/",
        data=b" " * (1000 + over),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)  # sends it all, then reads: no reset while it sends
    with refused.value as answer:
        assert (answer.code, json.loads(answer.read())) == (413, {"detail": "Request body too large."})
    still_serving(url)


def test_a_body_at_the_limit_is_taken(hub):
    url, _, _ = hub
    body = json.dumps({"repo_name": "atlimit", "description": ""}).encode()
    body += b" " * (1000 - len(body))
    answer = send(url, "POST", "/v1/repositories/madams/", body, {"Content-Type": "application/json"})
    assert answer.status == 201


def test_a_blob_upload_takes_more_than_the_body_limit_and_a_manifest_its_own(hub):
    url, address, _ = hub
    path = upload_path(url, "madams/big")
    answer = send(url, "PATCH", path, b"x" * MiB, {"Content-Type": "application/octet-stream"})
    assert answer.status == 202 and answer.headers["Range"] == "0-%d" % (MiB - 1)
    head = b"PUT /v2/madams/big/manifests/latest HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    answer, _ = answer_to_headers(address, head + b"Content-Length: %d\r\n\r\n" % (4 * MiB + 1), 4 * MiB + 1)
    status, _, body = split_answer(answer)
    assert status == 413 and json.loads(body)["errors"][0]["code"] == "SIZE_INVALID"


def test_a_patch_over_the_blob_limit_is_size_invalid_and_leaves_the_upload_usable(hub):
    url, address, _ = hub
    path = upload_path(url, "madams/over")
    assert send(url, "PATCH", path, b"a" * 1000, {"Content-Type": "application/octet-stream"}).status == 202
    head = b"PATCH %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n" % (
        path.encode(),
        3 * MiB,
    )
    answer, _ = answer_to_headers(address, head, body_bytes=3 * MiB)
    status, headers, body = split_answer(answer)
    assert status == 413 and headers[b"Content-Type"] == b"application/json"
    assert json.loads(body) == {
        "errors": [{"code": "SIZE_INVALID", "message": "provided length did not match content length",
                    "detail": {"max": 2 * MiB}}]
    }  # fmt: skip
    assert send(url, "GET", path).headers["Range"] == "0-999"  # nothing of the refused chunk was written
    answer = send(url, "PATCH", path, b"b" * 24, {"Content-Type": "application/octet-stream"})
    assert answer.status == 202 and answer.headers["Range"] == "0-1023"


def test_a_chunk_that_would_pass_the_blob_limit_is_refused_before_a_byte_is_written(hub):
    url, _, _ = hub
    path = upload_path(url, "madams/grow")
    assert send(url, "PATCH", path, b"a" * (2 * MiB - 10), {"Content-Type": "application/octet-stream"}).status == 202
    answer = send(url, "PATCH", path, b"b" * 11, {"Content-Type": "application/octet-stream"})
    assert answer.status == 413 and answer.json()["errors"][0]["code"] == "SIZE_INVALID"
    assert send(url, "GET", path).headers["Range"] == "0-%d" % (2 * MiB - 11)


def test_a_chunked_patch_past_the_blob_limit_leaves_the_upload_as_it_was(hub):
    url, _, _ = hub
    path = upload_path(url, "madams/stream")
    assert send(url, "PATCH", path, b"a" * 100, {"Content-Type": "application/octet-stream"}).status == 202
    chunks = (b"c" * (256 * 1024) for _ in range(12))
    headers = {"Content-Type": "application/octet-stream", "Transfer-Encoding": "chunked"}
    answer = send(url, "PATCH", path, chunks, headers)  # sent whole: the server lingers, then answers
    assert answer.status == 413 and answer.json()["errors"][0]["code"] == "SIZE_INVALID"
    assert send(url, "GET", path).headers["Range"] == "0-99"


def test_200_idle_sockets_do_not_lock_out_a_normal_request(hub):
    url, address, _ = hub
    idle = [socket.create_connection(address, timeout=5) for _ in range(200)]
    try:
        time.sleep(0.5)
        still_serving(url)
    finally:
        for connection in idle:
            connection.close()


def test_a_connection_that_sends_nothing_is_closed_after_the_header_timeout(hub):
    _, address, _ = hub
    with socket.create_connection(address, timeout=60) as silent:
        started = time.monotonic()
        assert silent.recv(100) == b""  # closed by the server
        assert 4 < time.monotonic() - started < 25  # its 5 s header timeout, not the 30 s idle one


def test_a_client_trickling_its_headers_is_dropped(hub):
    url, address, _ = hub
    started = time.monotonic()
    request = b"GET /v1/repositories/madams/ HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"s" * 100
    with socket.create_connection(address, timeout=60) as trickler:
        try:
            for byte in request:  # 0.2 s a byte: 30 s for the whole, if the server let it
                trickler.sendall(bytes([byte]))
                time.sleep(0.2)
            closed = trickler.recv(100) == b""
        except (BrokenPipeError, ConnectionResetError):
            closed = True
    assert closed and time.monotonic() - started < 25  # its 5 s header timeout, well before the 30 s of trickle
    still_serving(url)


def test_an_anonymous_upload_with_accounts_on_is_refused_without_its_body_being_read(tmp_path):
    (tmp_path / "users.json").write_text(json.dumps({"users": {"madams": {"password": "pw"}}}))
    with running_server(tmp_path / "data", "--users", str(tmp_path / "users.json")) as (_, url):
        host, port = url.split("//")[1].split(":")
        head = (
            b"PATCH /v2/madams/app/blobs/uploads/00000000-0000-4000-8000-000000000000 HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n" % (200 * MiB)
        )
        answer, sent = answer_to_headers((host, int(port)), head, body_bytes=200 * MiB)
        status, headers, _ = split_answer(answer)
        assert status == 401 and b"Bearer" in headers[b"Www-Authenticate"]
        assert sent < 100 * MiB
