"""A pytest plugin, and a context manager for any framework: a live hubserver for your tests.

    pytest -p pytest_hubserver            # or pytest_plugins = ["pytest_hubserver"]

    def test_my_client_retries(hub):
        hub.add_fault(match={"method": "GET"}, status=503, times=2)
        assert my_client(hub.url).get_repository("madams", "repo")
        hub.assert_requested("GET", "/v1/repositories/madams/repo", times=3)

The ``hub`` fixture is one server a test session, on a free port with a
temporary data directory, reset before each test. ``HubServer`` is the same
server as a context manager. Only the standard library is used, and hubserver
runs as a separate process (``python hubserver.py --port 0 --ephemeral``, or a
``hubserver.pyz``), so its modules never enter your test process.
"""

import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

HUBSERVER = Path(__file__).resolve().with_name("hubserver.py")
LISTENING = re.compile(r"hubserver listening on (http://\S+)")


class HubError(AssertionError):
    """A control request to hubserver failed, or an expectation about it did not hold."""


class HubServer:
    """A hubserver process with helpers for every control of ``/_hub/``.

    ``command`` is how to run hubserver (default: this Python and the
    hubserver.py beside this file; give ``[sys.executable, "hubserver.pyz"]``
    for the single file). ``seed``, ``frozen_time`` and ``extra_args`` become
    its command-line options.
    """

    def __init__(self, command=None, seed=None, frozen_time=None, extra_args=(), startup_timeout=30):
        self.command = list(command or [sys.executable, str(HUBSERVER)])
        self.arguments = ["--port", "0", "--ephemeral", *extra_args]
        if seed is not None:
            self.arguments += ["--seed", str(seed)]
        if frozen_time is not None:
            self.arguments += ["--frozen-time", frozen_time]
        self.startup_timeout = startup_timeout
        self.url = None
        self._process = None

    # Process

    def start(self):
        """Start the server; set ``url`` once it accepts connections."""
        self._process = subprocess.Popen(
            self.command + self.arguments,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self._process.stdout.readline()
        match = LISTENING.search(line)
        if not match:
            self._process.kill()
            raise HubError("hubserver did not start: %s%s" % (line, self._process.stderr.read()))
        self.url = match.group(1)
        return self

    def stop(self):
        """Stop the server (SIGTERM, then kill if it lingers) and close its pipes."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM if os.name == "posix" else signal.SIGINT)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process.stdout.close()
        self._process.stderr.close()
        self._process = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    # HTTP

    def request(self, method, path, body=None, headers=None):
        """Send a request; return (status, parsed JSON body or None). Never raises for a status."""
        data = None if body is None else json.dumps(body).encode()
        sent_headers = {"Content-Type": "application/json"} if data is not None else {}
        sent_headers.update(headers or {})
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=sent_headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        return status, json.loads(raw) if raw else None

    def _control(self, method, path, body=None, expect=200):
        status, answer = self.request(method, "/_hub" + path, body)
        if status != expect:
            raise HubError("%s /_hub%s answered %d: %s" % (method, path, status, answer))
        return answer

    # Controls

    def health(self):
        """Return the health answer ({"status": "ok"})."""
        return self._control("GET", "/health")

    def reset(self, namespace=None):
        """Go back to the seed state (journal, faults and clock too), or reset one namespace's data."""
        query = "" if namespace is None else "?" + urllib.parse.urlencode({"namespace": namespace})
        self._control("POST", "/reset" + query, expect=204)

    def state(self):
        """Return the state export: {"format": 1, "namespaces": [...]}."""
        return self._control("GET", "/state")

    def load_state(self, state):
        """Replace all data with a state document."""
        self._control("PUT", "/state", state, expect=204)

    def clock(self):
        """Return {"now": ..., "frozen": ...}."""
        return self._control("GET", "/clock")

    def freeze(self, now):
        """Freeze the clock at a stamp such as 2015-06-07T10:41:31.882Z."""
        return self._control("PUT", "/clock", {"now": now})

    def advance(self, milliseconds):
        """Move the frozen clock forward."""
        return self._control("PUT", "/clock", {"advance_ms": milliseconds})

    def unfreeze(self):
        """Return the clock to real time."""
        return self._control("PUT", "/clock", {"frozen": False})

    def requests(self, method=None, path_prefix=None, namespace=None, limit=None):
        """Return the journaled requests that match the filters, oldest first."""
        filters = {"method": method, "path_prefix": path_prefix, "namespace": namespace, "limit": limit}
        query = urllib.parse.urlencode({key: value for key, value in filters.items() if value is not None})
        return self._control("GET", "/requests" + ("?" + query if query else ""))["requests"]

    def clear_requests(self):
        """Forget the journaled requests."""
        self._control("DELETE", "/requests", expect=204)

    def assert_requested(self, method, path, times=None):
        """Check that ``method path`` arrived (exactly ``times`` times, if given).

        The failure message lists every request that did arrive.
        """
        arrived = self.requests()
        count = sum(1 for entry in arrived if entry["method"] == method.upper() and entry["path"] == path)
        if (times is None and count == 0) or (times is not None and count != times):
            seen = "\n".join(
                "  %s %s%s -> %s" % (entry["method"], entry["path"], "?" + entry["query"] if entry["query"] else "", entry["status"])
                for entry in arrived
            )
            wanted = "at least once" if times is None else "%d time(s)" % times
            raise HubError(
                "expected %s %s %s, it arrived %d time(s); requests that arrived:\n%s"
                % (method.upper(), path, wanted, count, seen or "  (none)")
            )

    def add_fault(self, match=None, status=None, body=None, delay_ms=None, reset_connection=False, times=None, probability=None):
        """Add a fault rule; return it with its id."""
        action = {"status": status, "body": body, "delay_ms": delay_ms, "reset_connection": reset_connection or None}
        rule = {"match": match or {}, "action": {key: value for key, value in action.items() if value is not None}}
        if times is not None:
            rule["times"] = times
        if probability is not None:
            rule["probability"] = probability
        return self._control("POST", "/faults", rule, expect=201)

    def faults(self):
        """Return the fault rules, oldest first."""
        return self._control("GET", "/faults")["faults"]

    def remove_fault(self, rule_id):
        """Remove one fault rule."""
        self._control("DELETE", "/faults/%d" % rule_id, expect=204)

    def clear_faults(self):
        """Remove every fault rule."""
        self._control("DELETE", "/faults", expect=204)


try:
    import pytest
except ImportError:  # HubServer alone serves any framework
    pytest = None

if pytest is not None:

    def pytest_addoption(parser):
        group = parser.getgroup("hubserver")
        group.addoption("--hub-seed", metavar="PATH", help="seed for the hub fixture's server")
        group.addoption("--hub-command", metavar="COMMAND", help='how to run hubserver, e.g. "python3 dist/hubserver.pyz"')
        parser.addini("hub_seed", "seed for the hub fixture's server")

    @pytest.fixture(scope="session")
    def hub_server(pytestconfig):
        """One hubserver for the whole test session."""
        seed = pytestconfig.getoption("--hub-seed") or pytestconfig.getini("hub_seed") or None
        command = pytestconfig.getoption("--hub-command")
        with HubServer(command=command.split() if command else None, seed=seed) as server:
            yield server

    @pytest.fixture
    def hub(hub_server):
        """The session's hubserver, reset to its seed before this test."""
        hub_server.reset()
        return hub_server
