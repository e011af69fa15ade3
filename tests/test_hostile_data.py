"""Data that is not what it claims against the real server: text that is not text, names a file
system keeps, a clock at the end of the stamps, a journal of large bodies."""

import http.client
import json
import socket

import pytest

from helpers import running_server, send

LONE = b'"\\ud800"'  # a lone surrogate, as JSON writes one
JSON = {"Content-Type": "application/json"}
NOT_TEXT = {"detail": "JSON parse error - the body holds a lone surrogate, which is not text."}


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("hostile_data") / "data"
    with running_server(data_dir, "--journal-size", "5000") as (process, url):
        assert send(url, "POST", "/v1/repositories/madams/", {"repo_name": "repo"}).status == 201
        host, port = url.split("//")[1].split(":")
        yield url, {}, process, (host, int(port)), data_dir


def test_a_lone_surrogate_in_a_login_is_a_400(tmp_path):
    (tmp_path / "users.json").write_text(json.dumps({"users": {"madams": {"password": "pw"}}}))
    with running_server(tmp_path / "data", "--users", str(tmp_path / "users.json")) as (_, url):
        body = b'{"username": "madams", "password": ' + LONE + b"}"
        answer = send(url, "POST", "/v1/generate-api-token/", body, JSON)
        assert (answer.status, answer.json()) == (400, NOT_TEXT)
        good = send(url, "POST", "/v1/generate-api-token/", {"username": "madams", "password": "pw"})
        assert good.status == 200 and set(good.json()) == {"token", "username"}


def journal(url, headers):
    answer = send(url, "GET", "/_hub/requests", headers=headers)
    assert answer.status == 200
    return answer.json()


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("POST", "/v1/repositories/madams/", b'{"repo_name": ' + LONE + b"}"),
        ("PATCH", "/v1/repositories/madams/repo/", b'{"description": ' + LONE + b"}"),
        ("POST", "/_hub/faults", b'{"match": {"path": "/v1/"}, "action": {"status": 500, "body": ' + LONE + b"}}"),
        ("PUT", "/_hub/state", b'{"format": 1, "namespaces": [' + LONE + b"]}"),
    ],
)
def test_a_lone_surrogate_in_a_json_body_is_a_400_and_kept_nowhere(hub, method, path, body):
    url, headers, _, _, _ = hub
    journaled = journal(url, headers)["count"]
    answer = send(url, method, path, body, {**headers, **JSON})
    assert (answer.status, answer.json()) == (400, NOT_TEXT)
    assert journal(url, headers)["count"] == journaled  # refused before the journal saw it
    assert send(url, "GET", "/_hub/faults", headers=headers).json() == {"faults": []}
    assert send(url, "GET", "/v1/repositories/madams/repo/").json()["description"] == ""


@pytest.mark.parametrize(
    "head, shape",
    [
        (b"GET /v1/repositories/madams/?name=%ff HTTP/1.1\r\n", {"detail": "The query string is not valid UTF-8."}),
        (
            b"GET /v1/repositories/madams/ HTTP/1.1\r\nX-Note: \xff\xfe\r\n",
            {"detail": "The X-Note header is not valid UTF-8."},
        ),
        (
            b"GET /v2/_catalog?n=%ed%a0%80 HTTP/1.1\r\n",
            {"errors": [{"code": "UNSUPPORTED", "message": "The operation is unsupported.", "detail": None}]},
        ),
    ],
)  # fmt: skip
def test_a_query_or_header_that_is_not_utf8_is_a_400_in_the_surfaces_shape(hub, head, shape):
    url, headers, _, address, _ = hub
    with socket.create_connection(address, timeout=10) as connection:
        connection.sendall(head + b"Host: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    status_line, _, body = answer.partition(b"\r\n\r\n")
    assert status_line.split(b" ", 2)[1] == b"400" and json.loads(body) == shape
    assert journal(url, headers)["count"] > 0


def test_a_fault_rule_holding_text_that_is_text_still_works(hub):
    url, headers, _, _, _ = hub
    rule = {
        "match": {"path": "/v1/repositories/madams/x/"},
        "action": {"status": 503, "body": {"why": "\u00e9\U0001f600"}},
    }
    assert send(url, "POST", "/_hub/faults", rule, headers).status == 201
    answer = send(url, "GET", "/v1/repositories/madams/x/")
    assert (answer.status, answer.json()) == (503, {"why": "\u00e9\U0001f600"})
    assert send(url, "DELETE", "/_hub/faults", headers=headers).status == 204


@pytest.mark.parametrize("name", ["con", "nul", "aux", "prn", "com1", "lpt1", "lpt9", "con.backup"])
def test_names_a_file_system_keeps_for_devices_are_refused_as_namespaces(hub, name):
    url, headers, _, _, data_dir = hub
    answer = send(url, "POST", "/v1/repositories/%s/" % name, {"repo_name": "repo"}, headers)
    assert answer.status == 400 and list(answer.json()) == ["namespace"]
    assert not (data_dir / (name + ".json")).exists()
    assert send(url, "GET", "/v1/repositories/%s/" % name).status == 404


def test_a_clock_at_the_last_stamp_refuses_to_go_further_and_writes_go_on(hub):
    url, headers, _, _, _ = hub
    last = "9999-12-31T23:59:59.999Z"
    assert send(url, "PUT", "/_hub/clock", {"now": last}, headers).json() == {"now": last, "frozen": True}
    answer = send(url, "PUT", "/_hub/clock", {"advance_ms": 1}, headers)
    assert answer.status == 400
    assert answer.json() == {"advance_ms": ["The clock cannot go past %s, the last time a stamp can write." % last]}
    made = send(url, "POST", "/v1/repositories/madams/", {"repo_name": "late"}, headers)
    assert made.status == 201 and made.json()["creation_time"] == last
    for number in range(3):
        answer = send(url, "PATCH", "/v1/repositories/madams/late/", {"description": "d%d" % number}, headers)
        assert answer.status == 200
        assert answer.json()["description"] == "d%d" % number
    assert send(url, "GET", "/v1/repositories/madams/late/").json()["updated_at"] == last
    assert send(url, "PUT", "/_hub/clock", {"frozen": False}, headers).status == 200


def resident_mib(process):
    with open("/proc/%d/status" % process.pid) as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def test_the_journal_of_4000_large_bodies_stays_small_and_reads_as_a_stream(hub):
    url, headers, process, _, _ = hub
    before = resident_mib(process)
    body = json.dumps({"repo_name": "Not A Name", "description": "x" * 60 * 1024}).encode()
    connection = http.client.HTTPConnection(url.split("//")[1], timeout=30)
    try:
        for _ in range(4000):
            answer = send(url, "POST", "/v1/repositories/madams/", body, {**headers, **JSON}, connection)
            assert answer.status == 400
    finally:
        connection.close()
    grown = resident_mib(process) - before
    read = journal(url, headers)
    assert read["count"] >= 4000
    kept = [entry for entry in read["requests"] if entry["body"] is not None]
    assert 0 < sum(len(json.dumps(entry["body"])) for entry in kept) <= 8 * 1024 * 1024
    assert read["requests"][-1]["body"]["description"] == "x" * 60 * 1024  # the newest keep theirs
    assert grown < 60 and resident_mib(process) - before < 90  # 4000 x 60 KiB would be 240 MiB
