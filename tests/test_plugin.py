"""The pytest plugin, tested as its users run it: in a pytest run of their own (pytester)."""

import json
import urllib.request

import pytest

from helpers import PROJECT
from pytest_hubserver import HubError, HubServer


@pytest.fixture(autouse=True)
def plugin_on_the_path(monkeypatch):
    """Make the plugin importable in pytester's subprocess, as an installed plugin would be."""
    monkeypatch.setenv("PYTHONPATH", str(PROJECT))

EXAMPLE = '''
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
'''


def test_the_hub_fixture_in_a_users_test_suite(pytester):
    pytester.makepyfile(test_example=EXAMPLE)
    result = pytester.runpytest_subprocess("-p", "pytest_hubserver")
    result.assert_outcomes(passed=3)


def test_assert_requested_lists_what_arrived_when_it_fails(pytester):
    pytester.makepyfile(
        test_failing='''
def test_wrong_expectation(hub):
    hub.request("GET", "/v1/repositories/madams/")
    hub.request("PUT", "/v1/repositories/a/b/tags/x", {"image_id": "a" * 64})
    hub.assert_requested("PUT", "/v1/repositories/a/b/tags/x", times=2)
'''
    )
    result = pytester.runpytest_subprocess("-p", "pytest_hubserver")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*expected PUT /v1/repositories/a/b/tags/x 2 time(s), it arrived 1 time(s)*",
        "*GET /v1/repositories/madams/ -> 200*",
        "*PUT /v1/repositories/a/b/tags/x -> 404*",
    ])


def test_a_seed_given_on_the_command_line(pytester, tmp_path):
    seed = tmp_path / "madams.json"
    seed.write_text(json.dumps({"format": 1, "namespace": "madams", "repositories": []}))
    pytester.makepyfile(
        test_seeded='''
def test_seeded(hub):
    assert [d["namespace"] for d in hub.state()["namespaces"]] == ["madams"]
'''
    )
    result = pytester.runpytest_subprocess("-p", "pytest_hubserver", "--hub-seed", str(seed))
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
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported - {"pytest"} <= set(sys.stdlib_module_names)


def test_the_readme_example_test_passes(pytester):
    readme = (PROJECT / "README.md").read_text("utf-8")
    section = readme[readme.index("## In your own tests") :]
    example = section[section.index("```python\n") + len("```python\n") : section.index("```\n", section.index("```python"))]
    pytester.makepyfile(test_readme=example)
    result = pytester.runpytest_subprocess("-p", "pytest_hubserver")
    result.assert_outcomes(passed=2)

