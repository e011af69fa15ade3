"""The controls on the real server: dropped connections, retries, --ephemeral, --frozen-time."""

import http.client
import json
import re
import signal
import time

import pytest

from helpers import pushed_blob, running_server, send

STAMP = "2015-06-07T10:41:31.882Z"


def test_a_reset_connection_fault_drops_the_connection_without_an_answer(tmp_path):
    with running_server(tmp_path / "data") as (process, url):
        send(
            url,
            "POST",
            "/_hub/faults",
            {"match": {"path": "/v1/repositories/madams/"}, "action": {"reset_connection": True}, "times": 1},
        )
        with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
            send(url, "GET", "/v1/repositories/madams/")
        assert send(url, "GET", "/v1/repositories/madams/").status == 200
        entries = send(url, "GET", "/_hub/requests").json()["requests"]
        assert [entry["status"] for entry in entries] == [None, 200]


def get_with_retries(url, path, attempts):
    """A client's retry loop, as a user's code would have it."""
    for attempt in range(1, attempts + 1):
        answer = send(url, "GET", path)
        if answer.status < 500:
            return attempt, answer
        time.sleep(0.01)
    return attempts, answer


def test_a_client_retry_loop_succeeds_on_the_third_try(tmp_path):
    with running_server(tmp_path / "data") as (process, url):
        send(url, "POST", "/v1/repositories/madams/", {"repo_name": "repo"})
        send(
            url,
            "POST",
            "/_hub/faults",
            {"match": {"method": "GET", "path": "*/repo"}, "action": {"status": 503}, "times": 2},
        )
        attempt, answer = get_with_retries(url, "/v1/repositories/madams/repo", 5)
        assert (attempt, answer.status, answer.json()["repo_name"]) == (3, 200, "repo")
        journal = send(url, "GET", "/_hub/requests?method=GET&path_prefix=/v1/repositories/madams/repo").json()
        assert [entry["status"] for entry in journal["requests"]] == [503, 503, 200]


def test_ephemeral_writes_nothing_to_disk(tmp_path):
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    with running_server(tmp_path / "unused", "--ephemeral", env={"TMPDIR": str(temporary)}) as (process, url):
        send(url, "POST", "/v1/repositories/madams/", {"repo_name": "repo"})
        pushed = pushed_blob(url, "madams/repo", b"a layer")
        assert send(url, "GET", "/v1/repositories/madams/repo").json()["repo_name"] == "repo"
        assert send(url, "GET", "/v2/madams/repo/blobs/" + pushed).body == b"a layer"
        assert list(temporary.iterdir()) == []
        assert not (tmp_path / "unused").exists()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == ["tmp"]
    assert list(temporary.iterdir()) == []


def test_ephemeral_with_a_seed_starts_and_resets_to_the_same_state(tmp_path):
    seed = tmp_path / "madams.json"
    with running_server(tmp_path / "first") as (process, url):
        send(url, "POST", "/v1/repositories/madams/", {"repo_name": "seeded"})
        seed.write_text(json.dumps(send(url, "GET", "/_hub/state").json()))
    with running_server(tmp_path / "unused", "--ephemeral", "--seed", str(seed)) as (process, url):
        at_start = send(url, "GET", "/_hub/state").body
        send(url, "POST", "/v1/repositories/madams/", {"repo_name": "added"})
        send(url, "POST", "/_hub/reset")
        assert send(url, "GET", "/_hub/state").body == at_start


def scripted_session(url):
    """The same requests a test suite would send; return every answer's status and body."""
    answers = []
    for method, path, body in [
        ("POST", "/v1/repositories/madams/", {"repo_name": "repo", "description": "d"}),
        ("PUT", "/v1/repositories/madams/repo/tags/latest", {"image_id": "a" * 64}),
        ("PUT", "/_hub/clock", {"advance_ms": 250}),
        ("PUT", "/v1/repositories/madams/repo", {"is_public": False}),
        ("POST", "/v1/repositories/madams/", {"repo_name": "second"}),
        ("DELETE", "/v1/repositories/madams/repo/tags/latest", None),
        ("GET", "/v1/repositories/madams/repo", None),
        ("GET", "/v1/repositories/madams/?page_size=1", None),
        ("GET", "/_hub/requests", None),
        ("GET", "/_hub/state", None),
    ]:
        answer = send(url, method, path, body)
        answers.append((answer.status, re.sub(rb"127\.0\.0\.1:\d+", b"HOST", answer.body)))
    return answers


def test_a_frozen_clock_gives_byte_identical_answers_and_files_run_after_run(tmp_path):
    runs = []
    for run in ("one", "two"):
        data = tmp_path / run
        with running_server(data, "--frozen-time", STAMP) as (process, url):
            answers = scripted_session(url)
        runs.append((answers, (data / "madams.json").read_bytes()))
    assert runs[0] == runs[1]
    assert b"2015-06-07T10:41:32.132Z" in runs[0][1]


@pytest.mark.parametrize(
    "arguments, complaint",
    [(["--frozen-time", "yesterday"], "--frozen-time"), (["--journal-size", "0"], "--journal-size")],
)
def test_bad_control_options_exit_2(arguments, complaint):
    import subprocess
    import sys

    from helpers import PROJECT

    result = subprocess.run(
        [sys.executable, str(PROJECT / "hubserver.py"), *arguments], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert complaint in result.stderr


def test_a_broken_seed_exits_1_naming_the_problem(tmp_path):
    import subprocess
    import sys

    from helpers import PROJECT

    seed = tmp_path / "seed.json"
    seed.write_text('{"format": 1, "namespace": "madams", "repositories": [{}]}')
    result = subprocess.run(
        [sys.executable, str(PROJECT / "hubserver.py"), "--port", "0", "--ephemeral", "--seed", str(seed)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert "repositories[0]" in result.stderr
