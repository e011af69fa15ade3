"""Hostile input against the real server: every answer is a 4xx (or a dropped connection),
never a 500, and the server keeps serving everyone else."""

import json
import socket
import time

import pytest

from helpers import running_server, send


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("hostile") / "data") as (process, url):
        send(url, "POST", "/v1/repositories/madams/", {"repo_name": "repo"})
        host, port = url.split("//")[1].split(":")
        yield url, (host, int(port)), process


def still_serving(url):
    """Check that an ordinary request is answered (within send's timeout)."""
    assert send(url, "GET", "/v1/repositories/madams/repo").status == 200


def raw(address, data, read_timeout=5):
    """Send raw bytes on a new connection; return what came back before it closed (or timed out)."""
    with socket.create_connection(address, timeout=read_timeout) as connection:
        connection.sendall(data)
        chunks = []
        try:
            while True:
                chunk = connection.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except (socket.timeout, ConnectionResetError):
            pass
    return b"".join(chunks)


def status_of(answer):
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.") else None


def test_deeply_nested_json(hub):
    url, _, _ = hub
    body = ("[" * 200_000 + "]" * 200_000).encode()
    answer = send(url, "POST", "/v1/repositories/madams/", body, {"Content-Type": "application/json"})
    assert answer.status == 400 and answer.json()["detail"].startswith("JSON parse error")
    still_serving(url)


@pytest.mark.parametrize("page", ["99999999999999999999999999", "9" * 5000, "1e999", "-0", "0x10", "%00"])
def test_huge_and_strange_page_numbers(hub, page):
    url, _, _ = hub
    answer = send(url, "GET", "/v1/repositories/madams/?page=" + page)
    assert (answer.status, answer.json()) == (404, {"detail": "Invalid page."})
    still_serving(url)


def test_ten_thousand_query_parameters(hub):
    url, _, _ = hub
    query = "&".join("p%d=%d" % (index, index) for index in range(10_000))
    answer = send(url, "GET", "/v1/repositories/madams/?" + query)
    assert answer.status == 200 and answer.json()["count"] == 1
    still_serving(url)


@pytest.mark.parametrize("size", [8_000, 300_000])
def test_very_long_header_lines(hub, size):
    url, address, _ = hub
    request = b"GET /v1/repositories/madams/ HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * size + b"\r\n\r\n"
    answer = raw(address, request)
    assert status_of(answer) in (200, 400, 413, 431) or answer == b""
    still_serving(url)


@pytest.mark.parametrize(
    "request_line",
    [b"GET /v1/repositories/%FF%FE/ HTTP/1.1", b"GET /v1/repositories/\xff\xfe/ HTTP/1.1", b"GET /ui/%C3%28 HTTP/1.1"],
)
def test_invalid_utf8_in_paths(hub, request_line):
    url, address, _ = hub
    answer = raw(address, request_line + b"\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status_of(answer) in (400, 404)
    still_serving(url)


def test_invalid_utf8_in_a_form_body(hub):
    url, _, _ = hub
    answer = send(
        url,
        "POST",
        "/v1/repositories/madams/",
        b"repo_name=\xff\xfe",
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert 400 <= answer.status < 500
    still_serving(url)


def test_a_body_shorter_than_its_content_length_does_not_hold_up_others(hub):
    url, address, _ = hub
    with socket.create_connection(address, timeout=10) as liar:
        liar.sendall(
            b"POST /v1/repositories/madams/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"repo_name": '
        )
        still_serving(url)  # the waiting request holds no worker
    still_serving(url)
    assert send(url, "GET", "/v1/repositories/madams/").json()["count"] == 1


def test_a_body_longer_than_its_content_length(hub):
    url, address, _ = hub
    body = json.dumps({"repo_name": "extra"}).encode()
    answer = raw(
        address,
        b"POST /v1/repositories/madams/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 5\r\nConnection: close\r\n\r\n" + body,
    )
    assert status_of(answer) == 400
    still_serving(url)


def test_a_slow_client_sending_a_byte_at_a_time_does_not_hold_up_others(hub):
    url, address, _ = hub
    request = b"GET /v1/repositories/madams/repo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    with socket.create_connection(address, timeout=10) as slow:
        for index, byte in enumerate(request[:-2]):
            slow.sendall(bytes([byte]))
            if index % 10 == 0:
                still_serving(url)
            time.sleep(0.01)
        slow.sendall(request[-2:])
        answer = b""
        while chunk := slow.recv(65536):
            answer += chunk
    assert status_of(answer) == 200


def test_no_hostile_request_caused_a_server_error(hub):
    url, _, _ = hub
    journal = send(url, "GET", "/_hub/requests").json()["requests"]
    assert journal and all(entry["status"] is None or entry["status"] < 500 for entry in journal)
