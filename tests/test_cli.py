"""The command line as a newcomer meets it: the access log, start-up failures in words, settings, signals."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

from hubserver import settings
from hubserver.app import create_app
from hubserver.cli import parse
from hubserver.settings import BOOLEANS, SettingError

from helpers import PROJECT, running_server, send

COMMON_LINE = re.compile(
    r'127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000\] "(?P<method>\w+) (?P<target>\S+) HTTP/1\.1" '
    r"(?P<status>\d{3}) (?P<bytes>\d+) (?P<ms>\d+\.\d)ms (?P<namespace>\S+)"
)


A_FEW_REQUESTS = [
    ("POST", "/v1/repositories/madams/", {"repo_name": "repo"}),
    ("GET", "/v1/repositories/madams/repo", None),
    ("GET", "/v1/repositories/madams/nothing", None),
    ("GET", "/v2/token?scope=repository:madams/repo:pull&refresh_token=a-secret", None),
    ("GET", "/_hub/health", None),
]


def a_few_requests(url, process=None):
    """Send A_FEW_REQUESTS; with ``process``, wait for each one's line in its log before the next.

    A line is written once its answer has gone out, so a request sent at once
    may get its line first: waiting keeps the lines in the order sent.
    """
    for count, (method, path, body) in enumerate(A_FEW_REQUESTS, 1):
        send(url, method, path, body)
        if process is not None:
            log_of(process, count)


def log_of(process, count, timeout=60):
    """Return the whole lines of the server's standard error once there are ``count`` (or after ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    while True:
        whole = process.log().splitlines(keepends=True)
        whole = [line[:-1] for line in whole if line.endswith("\n")]  # a line still being written is left out
        if len(whole) >= count or time.monotonic() > deadline:
            return whole
        time.sleep(0.05)


def test_every_request_gets_a_line_in_the_common_format(tmp_path):
    with running_server(tmp_path / "data") as (process, url):
        a_few_requests(url, process)
        lines = log_of(process, 5)
    found = [COMMON_LINE.fullmatch(line).groupdict() for line in lines]
    assert [(entry["method"], entry["target"], entry["status"], entry["namespace"]) for entry in found] == [
        ("POST", "/v1/repositories/madams/", "201", "madams"),
        ("GET", "/v1/repositories/madams/repo", "200", "madams"),
        ("GET", "/v1/repositories/madams/nothing", "404", "madams"),
        ("GET", "/v2/token?scope=repository%3Amadams%2Frepo%3Apull&refresh_token=%2A%2A%2A", "200", "-"),
        ("GET", "/_hub/health", "200", "-"),
    ]
    assert int(found[0]["bytes"]) > 100 and found[2]["bytes"] == str(len(b'{"detail":"Not found."}'))


def test_the_json_access_log_has_one_object_a_line(tmp_path):
    with running_server(tmp_path / "data", "--log-format", "json") as (process, url):
        a_few_requests(url, process)
        lines = log_of(process, 5)
    entries = [json.loads(line) for line in lines]
    assert [sorted(entry) for entry in entries] == [
        ["bytes", "method", "ms", "namespace", "path", "query", "remote", "status", "time"]
    ] * 5
    assert (entries[0]["method"], entries[0]["path"], entries[0]["status"], entries[0]["namespace"]) == (
        "POST",
        "/v1/repositories/madams/",
        201,
        "madams",
    )
    assert entries[3]["query"] == "scope=repository%3Amadams%2Frepo%3Apull&refresh_token=%2A%2A%2A"
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["time"]) for entry in entries)
    assert all(isinstance(entry["ms"], float) and entry["remote"] == "127.0.0.1" for entry in entries)


@pytest.mark.parametrize("quiet", [["--quiet"], ["--log-level", "warning"]], ids=["--quiet", "--log-level warning"])
def test_quiet_leaves_the_access_log_out_but_not_the_listening_line(tmp_path, quiet):
    with running_server(tmp_path / "data", *quiet) as (process, url):  # the listening line came, on stdout
        a_few_requests(url)
        time.sleep(0.3)
        assert process.log() == ""


def start(arguments, env=None):
    return subprocess.run(
        [sys.executable, str(PROJECT / "hubserver.py"), *arguments],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, **(env or {})},
    )


def refused(result, status, message):
    assert (result.returncode, result.stdout) == (status, ""), result.stderr
    assert "Traceback" not in result.stderr
    assert message in result.stderr, result.stderr


def test_a_port_in_use_is_named_with_the_way_out(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = start(["--port", str(port), "--data-dir", str(tmp_path / "data")])
    refused(
        result,
        1,
        "hubserver: cannot start: 127.0.0.1:%d is already in use; choose another --port,"
        " or --port 0 for a free one" % port,
    )


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--host", "999.1.1.1"], "hubserver: cannot start: 999.1.1.1 is not a host name or an address (--host)"),
        (["--host", "192.0.2.7"], "hubserver: cannot start: 192.0.2.7 is not an address of this machine (--host;"),
    ],
    ids=["not an address", "not this machine's"],
)
def test_a_host_that_cannot_be_listened_on_is_named(tmp_path, arguments, message):
    refused(start([*arguments, "--port", "0", "--data-dir", str(tmp_path / "data")]), 1, message)


def test_a_data_directory_that_is_a_file_or_cannot_be_made_is_named(tmp_path):
    (tmp_path / "a-file").write_text("")
    refused(
        start(["--port", "0", "--data-dir", str(tmp_path / "a-file")]),
        1,
        "hubserver: cannot start: the data directory %s is a file, not a folder (--data-dir)" % (tmp_path / "a-file"),
    )
    under = tmp_path / "a-file" / "data"
    refused(
        start(["--port", "0", "--data-dir", str(under)]),
        1,
        "hubserver: cannot start: cannot create the data directory %s: Not a directory (--data-dir)" % under,
    )


@pytest.mark.parametrize(
    "variable, value, message",
    [
        ("HUB_PORT", "abc", "HUB_PORT=abc is not a port number (0 to 65535)"),
        ("HUB_EPHEMERAL", "maybe", "HUB_EPHEMERAL=maybe is not a boolean (1/0, true/false, yes/no or on/off)"),
        ("HUB_LOCK_TIMEOUT", "-1", "HUB_LOCK_TIMEOUT=-1 is not a positive number"),
        ("HUB_LOG_FORMAT", "xml", "HUB_LOG_FORMAT=xml is not one of common, json"),
    ],
)
def test_a_bad_variable_is_named_and_exits_2(variable, value, message):
    refused(start(["--port", "0"], {variable: value}), 2, "hubserver: error: " + message)


@pytest.mark.parametrize("spelling", sorted(BOOLEANS) + ["TRUE", "Yes", "OFF", " on "])
def test_every_boolean_spelling_is_read_in_any_case(spelling):
    expected = BOOLEANS[spelling.strip().lower()]
    options = parse(["--port", "0"], {"HUB_EPHEMERAL": spelling, "HUB_QUIET": spelling, "HUB_ADMIN": spelling})
    assert (options.ephemeral, options.quiet, options.admin) == (expected, expected, expected)
    assert settings.from_environment({"HUB_SYNC": spelling}) == {"SYNC": expected}


def test_a_bad_boolean_in_create_app_names_its_variable():
    with pytest.raises(SettingError, match="HUB_SYNC=sometimes is not a boolean"):
        settings.from_environment({"HUB_SYNC": "sometimes"})


def test_create_app_reads_each_setting_of_its_config_by_type(tmp_path):
    app = create_app({"DATA_DIR": tmp_path, "MAX_BODY_SIZE": "200", "ADMIN": "off", "LOCK_TIMEOUT": "2.5"})
    assert (app.config["DATA_DIR"], app.config["MAX_BODY_SIZE"], app.config["ADMIN"]) == (str(tmp_path), 200, False)
    assert app.config["LOCK_TIMEOUT"] == 2.5
    assert app.test_client().post("/v1/repositories/madams/", data="x" * 201).status_code == 413
    with pytest.raises(SettingError, match="MAX_BODY_SIZE=-3 is not a positive whole number"):
        create_app({"DATA_DIR": tmp_path, "MAX_BODY_SIZE": -3})
    with pytest.raises(SettingError, match="STORAGE=cloud is not one of files, memory"):
        create_app({"STORAGE": "cloud"})


def test_create_app_in_memory_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    client = create_app({"STORAGE": "memory", "FROZEN_TIME": "2015-06-07T10:41:31.882Z"}).test_client()
    assert client.post("/v1/repositories/madams/", json={"repo_name": "repo"}).status_code == 201
    assert client.get("/v1/repositories/madams/repo").get_json()["repo_name"] == "repo"
    assert list(tmp_path.iterdir()) == []
    fresh = create_app({"STORAGE": "memory"}).test_client()  # each application a hub of its own
    assert fresh.get("/v1/repositories/madams/repo").status_code == 404


def test_an_ephemeral_server_from_the_variable_keeps_no_data_behind(tmp_path):
    data = tmp_path / "data"
    with running_server(data, env={"HUB_EPHEMERAL": "YES"}) as (_, url):
        assert send(url, "POST", "/v1/repositories/madams/", {"repo_name": "repo"}).status == 201
    assert not (data / "madams.json").exists()


def test_sigint_stops_a_server_started_as_a_background_job_of_a_script(tmp_path):
    script = 'exec "%s" "%s" --port 0 --data-dir "%s" &\necho $!\nwait' % (
        sys.executable,
        PROJECT / "hubserver.py",
        tmp_path / "data",
    )
    shell = subprocess.Popen(["sh", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    pid = int(shell.stdout.readline())
    assert shell.stdout.readline().startswith("hubserver listening on ")
    with open("/proc/%d/status" % pid) as status:
        ignored = int(next(line for line in status if line.startswith("SigIgn:")).split()[1], 16)
    assert ignored & (1 << (signal.SIGINT - 1)) == 0  # the shell ignored it for its job; hubserver listens again
    os.kill(pid, signal.SIGINT)
    assert shell.wait(timeout=60) == 0  # hubserver stopped on it, and so its shell
    shell.stdout.close()


def test_an_ipv6_host_is_announced_in_brackets(tmp_path):
    if not socket.has_ipv6:
        pytest.skip("no IPv6 here")
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("::1 is not usable here")
    process = subprocess.Popen(
        [sys.executable, str(PROJECT / "hubserver.py"), "--host", "::1", "--port", "0", "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert re.fullmatch(r"hubserver listening on http://\[::1\]:\d+\n", line)
        assert send(line.split()[-1], "GET", "/_hub/health").json() == {"status": "ok"}
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
        process.stdout.close()


def test_help_shows_the_gc_command_and_every_variable():
    result = start(["--help"])
    assert result.returncode == 0
    assert result.stdout.startswith("usage: hubserver [options]\n       hubserver gc [--data-dir DIR]")
    for setting in settings.SETTINGS:
        if setting.flag:
            assert setting.flag in result.stdout and setting.env in result.stdout, setting.key
