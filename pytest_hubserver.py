"""A pytest plugin, and a context manager for any framework: a live hubserver for your tests.

Installed with hubserver (``pip install hubserver``), the plugin is on in every
pytest run of that environment; nothing to configure.

    def test_my_client_retries(hub):
        hub.add_fault(match={"method": "GET"}, status=503, times=2)
        assert my_client(hub.url).get_repository("madams", "repo")
        hub.assert_requested("GET", "/v1/repositories/madams/repo", times=3)

The ``hub`` fixture is one server a test session (a worker's session, under
pytest-xdist), on a free port with a temporary data directory, reset before
each test. ``HubServer`` is the same server as a context manager. Only the
standard library is used, and hubserver runs as a separate process
(``python -m hubserver`` with this interpreter, or any command you give), so its
modules never enter your test process.
"""

import base64
import collections
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request

LISTENING = re.compile(r"hubserver listening on (http://\S+)")
OUTPUT_LINES = 1000  # the server's output kept, from its end
OUTPUT_LINE_LENGTH = 4096  # a longer line is kept in pieces of this size
SHOWN_LINES = 50  # the lines of output a failure shows


class HubError(AssertionError):
    """A control request to hubserver failed, or an expectation about it did not hold."""


class _Output:
    """The last lines a process writes, read on threads so that its pipes never fill.

    Standard output and standard error are read apart, so that a line of one
    never breaks into a line of the other; their lines are kept together in the
    order they arrive. Reading stops at the end of each stream, when the
    process exits. ``url`` is set, and ``announced``, when the listening line
    goes by on standard output (``announced`` also when that stream ends).
    """

    def __init__(self, stdout, stderr):
        self.lines = collections.deque(maxlen=OUTPUT_LINES)
        self.count = 0
        self.url = None
        self.announced = threading.Event()
        self._lock = threading.Lock()
        self._streams = (stdout, stderr)
        self._threads = [
            threading.Thread(target=self._read, args=(stream, watch), name="hubserver output", daemon=True)
            for stream, watch in ((stdout, True), (stderr, False))
        ]
        for thread in self._threads:
            thread.start()

    def _read(self, stream, watch):
        for line in iter(lambda: stream.readline(OUTPUT_LINE_LENGTH), ""):
            with self._lock:
                self.lines.append(line.rstrip("\n"))
                self.count += 1
            if watch and self.url is None:
                match = LISTENING.search(line)
                if match:
                    self.url = match.group(1)
                    self.announced.set()
        if watch:
            self.announced.set()

    def tail(self, lines=SHOWN_LINES):
        """Return the last ``lines`` lines, saying how many came before them."""
        with self._lock:
            kept, count = list(self.lines)[-lines:], self.count
        before = count - len(kept)
        return "\n".join((["[%d earlier line(s) not shown]" % before] if before else []) + kept)

    def close(self):
        """Wait for the ends of the streams (the process has exited) and close them."""
        for thread in self._threads:
            thread.join(timeout=10)
        for stream in self._streams:
            stream.close()


def _admin_of(users):
    """Return (name, password) of the first admin with a plain password in a users file or its contents."""
    if not isinstance(users, dict):
        with open(users, encoding="utf-8") as stream:
            users = json.load(stream)
    for name, entry in users["users"].items():
        if entry.get("admin") and "password" in entry:
            return name, entry["password"]
    raise HubError('the controls need an admin: mark a user that has a password "admin": true, or give admin=')


def _basic(credentials):
    """Return the Authorization header of HTTP Basic ``(name, password)``."""
    encoded = base64.b64encode(("%s:%s" % credentials).encode("utf-8")).decode("ascii")
    return {"Authorization": "Basic " + encoded}


class HubServer:
    """A hubserver process with helpers for every control of ``/_hub/``.

    ``command`` is how to run hubserver, as a list (default: this Python,
    ``-m hubserver``; give ``[sys.executable, "hubserver.pyz"]`` for the one
    file). ``seed``, ``frozen_time`` and ``extra_args`` become its command-line
    options. ``startup_timeout`` is how many seconds it may take to listen;
    a server that does not is stopped and reported with its output.

    ``users`` turns accounts on: the path of a users file, or its contents
    (``{"users": {...}}``). The controls then need an admin: ``admin`` is
    ``(name, password)``, by default the first user marked ``"admin": true``
    that has a plain ``password``.
    """

    def __init__(
        self, command=None, seed=None, frozen_time=None, extra_args=(), startup_timeout=30, users=None, admin=None
    ):
        self.command = list(command or [sys.executable, "-m", "hubserver"])
        self.arguments = ["--port", "0", *extra_args]
        if seed is not None:
            self.arguments += ["--seed", str(seed)]
        if frozen_time is not None:
            self.arguments += ["--frozen-time", frozen_time]
        self.startup_timeout = startup_timeout
        self.users = users
        self.url = None
        self.data_dir = None
        self._folder = None
        self._admin_headers = {} if users is None else _basic(admin or _admin_of(users))
        self._process = None
        self._output = None

    # Process

    def start(self):
        """Start the server on a new temporary data directory; set ``url`` once it listens.

        Raises HubError, with the server's output, if it exits first or does
        not listen within ``startup_timeout`` seconds.
        """
        self._folder = tempfile.mkdtemp(prefix="hubserver-")
        self.data_dir = os.path.join(self._folder, "data")
        self._process = subprocess.Popen(
            [*self.command, "--data-dir", self.data_dir, *self._users_arguments(), *self.arguments],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
        )
        self._output = _Output(self._process.stdout, self._process.stderr)
        if not self._output.announced.wait(self.startup_timeout):
            self.stop(grace=0)
            raise HubError(
                "hubserver did not listen within %s s; its output:\n%s" % (self.startup_timeout, self.output())
            )
        if self._output.url is None:
            status = self._process.wait()
            self.stop()
            raise HubError(
                "hubserver exited with status %d before it listened; its output:\n%s" % (status, self.output())
            )
        self.url = self._output.url
        return self

    def _users_arguments(self):
        """Return ``--users FILE``, writing the file first if the users were given as contents."""
        if self.users is None:
            return []
        if not isinstance(self.users, dict):
            return ["--users", str(self.users)]
        path = os.path.join(self._folder, "users.json")
        with open(path, "w", encoding="utf-8") as stream:
            json.dump(self.users, stream)
        return ["--users", path]

    def stop(self, grace=10):
        """Stop the server (SIGTERM, then a kill after ``grace`` seconds) and remove its data directory."""
        if self._process is not None:
            if self._process.poll() is None:
                self._process.send_signal(signal.SIGTERM if os.name == "posix" else signal.SIGINT)
                try:
                    self._process.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
            self._output.close()
            self._process = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)

    def output(self, lines=SHOWN_LINES):
        """Return the last ``lines`` lines the server wrote (standard output and error)."""
        return "" if self._output is None else self._output.tail(lines)

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
        except OSError:
            self._check_running()
            raise  # the server runs: a dropped connection, as a fault rule may ask
        return status, json.loads(raw) if raw else None

    def _check_running(self):
        """Raise HubError, with the server's output, if the server has exited."""
        status = None if self._process is None else self._process.poll()
        if status is not None:
            raise HubError("hubserver exited with status %d; its output:\n%s" % (status, self.output()))

    def _control(self, method, path, body=None, expect=200):
        status, answer = self.request(method, "/_hub" + path, body, headers=self._admin_headers)
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
                "  %s %s%s -> %s"
                % (entry["method"], entry["path"], "?" + entry["query"] if entry["query"] else "", entry["status"])
                for entry in arrived
            )
            wanted = "at least once" if times is None else "%d time(s)" % times
            raise HubError(
                "expected %s %s %s, it arrived %d time(s); requests that arrived:\n%s"
                % (method.upper(), path, wanted, count, seen or "  (none)")
            )

    def add_fault(
        self, match=None, status=None, body=None, delay_ms=None, reset_connection=False, times=None, probability=None
    ):
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
        group.addoption(
            "--hub-command", metavar="COMMAND", help='how to run hubserver, e.g. "python3 dist/hubserver.pyz"'
        )
        group.addoption("--hub-users", metavar="FILE", help="users file: the hub fixture's server with accounts on")
        group.addoption(
            "--hub-admin", metavar="USER:PASSWORD", help="the admin the fixture uses the controls as, with --hub-users"
        )
        parser.addini("hub_seed", "seed for the hub fixture's server")
        parser.addini("hub_users", "users file of the hub fixture's server")

    def _setting(config, name):
        return config.getoption("--hub-" + name) or config.getini("hub_" + name) or None

    @pytest.fixture(scope="session")
    def hub_server(pytestconfig):
        """One hubserver for the whole test session."""
        command = pytestconfig.getoption("--hub-command")
        admin = pytestconfig.getoption("--hub-admin")
        with HubServer(
            command=shlex.split(command) if command else None,
            seed=_setting(pytestconfig, "seed"),
            users=_setting(pytestconfig, "users"),
            admin=tuple(admin.split(":", 1)) if admin else None,
        ) as server:
            yield server

    @pytest.fixture
    def hub(hub_server):
        """The session's hubserver, reset to its seed before this test."""
        hub_server.reset()
        return hub_server

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(item, call):
        """Add the server's last output to the report of a failed test that used ``hub``."""
        outcome = yield
        report = outcome.get_result()
        server = getattr(item, "funcargs", {}).get("hub")
        if report.failed and isinstance(server, HubServer):
            report.sections.append(("hubserver output (last %d lines)" % SHOWN_LINES, server.output()))
