"""The real program: ``python hubserver.py``, over HTTP, stopped by signals."""

import signal
import subprocess
import sys

import pytest

from helpers import PROJECT, running_server, send


def run_cli(*arguments, env=None):
    return subprocess.run(
        [sys.executable, str(PROJECT / "hubserver.py"), *arguments],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serves_http_and_stops_cleanly_on_a_signal(tmp_path, signum):
    with running_server(tmp_path / "data") as (process, url):
        created = send(url, "POST", "/v1/repositories/madams/", {"repo_name": "repo"})
        assert created.status == 201
        assert created.headers["Content-Type"] == "application/json"
        detail = send(url, "GET", "/v1/repositories/madams/repo")
        assert (detail.status, detail.json()["repo_path"]) == (200, "madams/repo")
        listing = send(url, "GET", "/v1/repositories/madams/?page_size=1&page=1")
        assert listing.json()["count"] == 1
        process.send_signal(signum)
        assert process.wait(timeout=10) == 0
    assert (tmp_path / "data" / "madams.json").exists()


def test_links_carry_the_host_and_port_the_client_used(tmp_path):
    with running_server(tmp_path / "data") as (process, url):
        for name in ["aa", "bb"]:
            send(url, "POST", "/v1/repositories/madams/", {"repo_name": name})
        body = send(url, "GET", "/v1/repositories/madams/?page_size=1").json()
        assert body["next"] == url + "/v1/repositories/madams/?page=2&page_size=1"


def test_data_survives_a_restart(tmp_path):
    with running_server(tmp_path / "data") as (process, url):
        send(url, "POST", "/v1/repositories/madams/", {"repo_name": "repo"})
        send(url, "PUT", "/v1/repositories/madams/repo/tags/latest", {"image_id": "a" * 64})
    with running_server(tmp_path / "data") as (process, url):
        assert send(url, "GET", "/v1/repositories/madams/repo/tags").json() == [{"image_id": "a" * 64, "tag": "latest"}]


def test_a_body_over_the_limit_flag_is_413(tmp_path):
    with running_server(tmp_path / "data", "--max-body-size", "100") as (process, url):
        answer = send(url, "POST", "/v1/repositories/madams/", {"repo_name": "repo", "description": "x" * 200})
        assert (answer.status, answer.json()) == (413, {"detail": "Request body too large."})
        chunked = send(
            url,
            "POST",
            "/v1/repositories/madams/",
            iter([b'{"repo_name": "repo", "description": "', b"x" * 200, b'"}']),
            headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        )
        assert chunked.status == 413
        assert send(url, "GET", "/v1/repositories/madams/").json()["count"] == 0


def test_environment_variables_give_the_defaults(tmp_path):
    import os

    env = {**os.environ, "HUB_DATA_DIR": str(tmp_path / "from-env"), "HUB_PORT": "0"}
    process = subprocess.Popen(
        [sys.executable, str(PROJECT / "hubserver.py")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        url = process.stdout.readline().split()[-1]
        assert url.startswith("http://127.0.0.1:")
        assert send(url, "POST", "/v1/repositories/madams/", {"repo_name": "repo"}).status == 201
        assert (tmp_path / "from-env" / "madams.json").exists()
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
        process.stdout.close()


def test_help_describes_every_option():
    result = run_cli("--help")
    assert result.returncode == 0
    for flag in ["--host", "--port", "--data-dir", "--max-body-size", "--threads", "HUB_DATA_DIR", "127.0.0.1"]:
        assert flag in result.stdout


@pytest.mark.parametrize(
    "arguments, complaint",
    [
        (["--port", "70000"], "--port"),
        (["--port", "http"], "--port"),
        (["--max-body-size", "0"], "--max-body-size"),
        (["--threads", "-1"], "--threads"),
        (["--colour"], "--colour"),
    ],
)
def test_bad_options_exit_2_with_a_clear_message(arguments, complaint):
    result = run_cli(*arguments)
    assert result.returncode == 2
    assert complaint in result.stderr


def test_a_port_in_use_exits_1_with_a_message(tmp_path):
    with running_server(tmp_path / "data") as (process, url):
        port = url.rsplit(":", 1)[1]
        result = run_cli("--port", port, "--data-dir", str(tmp_path / "data"))
        assert result.returncode == 1
        assert "cannot start" in result.stderr


def test_a_data_dir_that_is_a_file_exits_1_with_a_message(tmp_path):
    (tmp_path / "file").write_text("")
    result = run_cli("--port", "0", "--data-dir", str(tmp_path / "file"))
    assert result.returncode == 1
    assert "cannot start" in result.stderr
