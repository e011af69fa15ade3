"""The pytest plugin, tested as its users run it: in a pytest run of their own (pytester).

hubserver is installed in the test environment (requirements-dev.txt installs
this checkout), so the plugin is on in every pytest run there, with no ``-p``
and no conftest line, as it is for a user who installed hubserver.
"""

import json
import os
import sys
import time
import urllib.request

import pytest

from pytest_hubserver import OUTPUT_LINES, HubError, HubServer

from helpers import PROJECT

EXAMPLE = """
import json
import urllib.request


def create(url, name):
    request = urllib.request.Request(
        url + "/v1/repositories/madams/",
        data=json.dumps({"repo_name": name}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    return urllib.request.urlopen(request).status


def test_create(hub):
    assert create(hub.url, "repo") == 201
    hub.assert_requested("POST", "/v1/repositories/madams/", times=1)


def test_each_test_starts_from_the_seed(hub):
    assert hub.request("GET", "/v1/repositories/madams/repo")[0] == 404
    assert hub.state() == {"format": 1, "namespaces": []}


def test_faults_and_the_clock(hub):
    hub.add_fault(match={"method": "POST"}, status=503, times=1)
    assert hub.request("POST", "/v1/repositories/madams/", {"repo_name": "x1"})[0] == 503
    hub.freeze("2015-06-07T10:41:31.882Z")
    status, body = hub.request("POST", "/v1/repositories/madams/", {"repo_name": "x1"})
    assert (status, body["creation_time"]) == (201, "2015-06-07T10:41:31.882Z")
"""


def test_the_hub_fixture_in_a_users_test_suite(pytester):
    pytester.makepyfile(test_example=EXAMPLE)
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=3)


def test_assert_requested_lists_what_arrived_when_it_fails(pytester):
    pytester.makepyfile(
        test_failing="""
def test_wrong_expectation(hub):
    hub.request("GET", "/v1/repositories/madams/")
    hub.request("PUT", "/v1/repositories/a/b/tags/x", {"image_id": "a" * 64})
    hub.assert_requested("PUT", "/v1/repositories/a/b/tags/x", times=2)
"""
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*expected PUT /v1/repositories/a/b/tags/x 2 time(s), it arrived 1 time(s)*",
            "*GET /v1/repositories/madams/ -> 200*",
            "*PUT /v1/repositories/a/b/tags/x -> 404*",
        ]
    )


def test_a_seed_given_on_the_command_line(pytester, tmp_path):
    seed = tmp_path / "madams.json"
    seed.write_text(json.dumps({"format": 1, "namespace": "madams", "repositories": []}))
    pytester.makepyfile(
        test_seeded="""
def test_seeded(hub):
    assert [d["namespace"] for d in hub.state()["namespaces"]] == ["madams"]
"""
    )
    result = pytester.runpytest_subprocess("--hub-seed", str(seed))
    result.assert_outcomes(passed=1)


def test_hub_server_as_a_context_manager_for_any_framework():
    with HubServer(frozen_time="2015-06-07T10:41:31.882Z") as hub:
        assert hub.health() == {"status": "ok"}
        assert hub.clock() == {"now": "2015-06-07T10:41:31.882Z", "frozen": True}
        assert hub.advance(1000)["now"] == "2015-06-07T10:41:32.882Z"
        rule = hub.add_fault(match={"path": "/v1/*"}, delay_ms=1)
        assert [r["id"] for r in hub.faults()] == [rule["id"]]
        hub.remove_fault(rule["id"])
        hub.add_fault(status=418, probability=1.0)
        assert hub.request("GET", "/v1/repositories/madams/")[0] == 418
        hub.clear_faults()
        hub.load_state({"format": 1, "namespaces": [{"format": 1, "namespace": "acme", "repositories": []}]})
        assert [d["namespace"] for d in hub.state()["namespaces"]] == ["acme"]
        assert len(hub.requests(method="GET")) == 1
        hub.clear_requests()
        assert hub.requests() == []
        hub.unfreeze()
        assert hub.clock()["frozen"] is False
        with pytest.raises(HubError):
            hub.assert_requested("GET", "/nothing")
        url = hub.url
    with pytest.raises(OSError):  # stopped: nothing answers there any more
        urllib.request.urlopen(url + "/_hub/health", timeout=2)


def test_the_plugin_module_uses_only_the_standard_library():
    import ast
    import sys

    tree = ast.parse((PROJECT / "pytest_hubserver.py").read_text())
    imported = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported - {"pytest"} <= set(sys.stdlib_module_names)


def test_the_readme_example_test_passes(pytester):
    readme = (PROJECT / "README.md").read_text("utf-8")
    section = readme[readme.index("## Use it from your own project") :]
    example = section[
        section.index("```python\n") + len("```python\n") : section.index("```\n", section.index("```python"))
    ]
    pytester.makepyfile(test_readme=example)
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=2)


def hubserver_wrapped(prelude):
    """Return a command that runs ``prelude`` (Python code), then ``python -m hubserver`` in the same process."""
    run = (
        "import runpy, sys\nsys.argv = ['hubserver', *sys.argv[1:]]\nrunpy.run_module('hubserver', run_name='__main__')"
    )
    return [sys.executable, "-c", prelude + "\n" + run + "\n"]


CHATTER = """
import sys, threading, time
for number in range(20000):
    print("chatter before listening", number, file=sys.stderr)
def chatter():
    for number in range(5000):
        print("chatter while serving", number, file=sys.stderr, flush=True)
        time.sleep(0.0005)
threading.Thread(target=chatter, daemon=True).start()
"""


def test_a_server_that_writes_a_lot_never_blocks_on_its_output():
    # 20,000 lines before it listens and thousands while it serves: several times what a pipe holds.
    with HubServer(command=hubserver_wrapped(CHATTER), startup_timeout=60) as hub:
        for number in range(100):
            assert hub.request("POST", "/v1/repositories/madams/", {"repo_name": "r%03d" % number})[0] == 201
        tail = hub.output(lines=OUTPUT_LINES)
        deadline = time.monotonic() + 60
        while "chatter while serving 4999" not in tail and time.monotonic() < deadline:
            time.sleep(0.05)  # the chatter thread's last lines are still on their way
            tail = hub.output(lines=OUTPUT_LINES)
    assert "chatter while serving 4999" in tail
    assert len(tail.splitlines()) <= OUTPUT_LINES + 1  # and a line saying how many came before


def test_a_server_that_never_listens_fails_within_the_startup_timeout():
    server = HubServer(
        command=[sys.executable, "-c", "import time; print('warming up', flush=True); time.sleep(120)"],
        startup_timeout=2,
    )
    started = time.monotonic()
    with pytest.raises(HubError, match=r"did not listen within 2 s(.|\n)*warming up"):
        server.start()
    assert time.monotonic() - started < 60  # not the two minutes the process would take
    assert not os.path.exists(server.data_dir)


def test_a_server_that_exits_at_once_is_reported_with_its_status_and_output(tmp_path):
    server = HubServer(seed=tmp_path / "missing.json")
    with pytest.raises(HubError, match=r"exited with status 1 before it listened(.|\n)*cannot start"):
        server.start()


def test_a_server_that_ignores_sigterm_is_killed_and_its_data_directory_removed():
    deaf = "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nsignal.signal = lambda *args: None"
    hub = HubServer(command=hubserver_wrapped(deaf)).start()
    assert hub.request("POST", "/v1/repositories/madams/", {"repo_name": "repo"})[0] == 201
    assert os.listdir(hub.data_dir)
    hub.stop(grace=1)  # returns: the process that would never exit was killed
    assert not os.path.exists(hub.data_dir)


def test_a_server_that_dies_is_reported_by_the_next_request():
    with HubServer() as hub:
        hub._process.kill()
        hub._process.wait()
        with pytest.raises(HubError, match=r"exited with status -9(.|\n)*hubserver listening on"):
            hub.health()


def test_a_failing_test_shows_the_servers_output(pytester):
    pytester.makepyfile(
        test_failing="""
def test_fails(hub):
    assert hub.request("GET", "/v1/repositories/madams/repo")[0] == 200
"""
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*hubserver output (last 50 lines)*", "hubserver listening on http://127.0.0.1:*"])


def test_hub_command_is_split_as_a_shell_would(pytester, tmp_path):
    folder = tmp_path / "my tools"
    folder.mkdir()
    launcher = folder / "run hub"
    launcher.write_text('#!/bin/sh\nexec "%s" -m hubserver "$@"\n' % sys.executable)
    launcher.chmod(0o755)
    pytester.makepyfile(test_command="def test_up(hub):\n    assert hub.health() == {'status': 'ok'}\n")
    result = pytester.runpytest_subprocess("--hub-command", '"%s" --threads 4' % launcher)
    result.assert_outcomes(passed=1)


def test_the_plugin_can_be_turned_off_by_its_name(pytester):
    pytester.makepyfile(test_off="def test_needs_hub(hub):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:pytest_hubserver")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'hub' not found*"])


USERS = {"users": {"alice": {"password": "alice-pw"}, "root": {"password": "root-pw", "admin": True}}}


def test_hub_server_with_users_uses_the_controls_as_their_admin():
    with HubServer(users=USERS) as hub:
        hub.reset()
        assert hub.health() == {"status": "ok"}
        assert hub.request("GET", "/_hub/state")[0] == 401  # anyone else is asked who they are
        assert hub.request("POST", "/v1/repositories/alice/", {"repo_name": "repo"})[0] == 401
        assert hub.state() == {"format": 1, "namespaces": []}


def test_hub_server_with_users_and_no_admin_says_what_it_needs():
    with pytest.raises(HubError, match="the controls need an admin"):
        HubServer(users={"users": {"alice": {"password": "alice-pw"}}})
    given = HubServer(users={"users": {"alice": {"password": "a"}}}, admin=("alice", "a"))
    assert given.users == {"users": {"alice": {"password": "a"}}}


def test_the_hub_fixture_with_a_users_file(pytester, tmp_path):
    users = tmp_path / "users.json"
    users.write_text(json.dumps(USERS))
    pytester.makepyfile(
        test_users="""
def test_accounts_are_on(hub):
    assert hub.request("GET", "/v2/")[0] == 401
    assert [(entry["path"], entry["status"]) for entry in hub.requests()] == [("/v2/", 401)]
"""
    )
    result = pytester.runpytest_subprocess("--hub-users", str(users))
    result.assert_outcomes(passed=1)
