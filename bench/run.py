"""Measure hubserver against the Flask floor and its peers, and print one table.

    python bench/run.py [--seconds 2] [--skip-peers]

Everything runs on 127.0.0.1 and stops by itself: every loop is bounded in
time and in count, and every process started here is stopped by its PID.

- floor: a bare Flask endpoint answering a repository-sized JSON object, under
  waitress with hubserver's settings (bench/floor.py); the floor of a write
  that keeps nothing, a bare Flask POST that parses its JSON body and answers
  a JSON object; and the floor of a durable write, a bare Flask POST that
  appends its body to a file and syncs it before answering;
- hubserver: detail, list page, create and tag PUT, in namespaces of 10, 1,000
  and 10,000 repositories, started from a seed of namespace files and reset to
  it (POST /_hub/reset?namespace=) before each measurement; and its writes
  at N=10 once more with --ephemeral (the memory backend: nothing written), to
  show what the disk costs;
- peers, when installed: moto's server (ECR DescribeRepositories and
  CreateRepository; `pip install -r bench/requirements.txt`) and json-server
  (GET and POST of a record; needs Node.js and npm, installed on first use
  into bench/.peers).

Each scenario is measured with a sequential keep-alive client (Python's
http.client), in five short rounds that alternate with rounds of the floor,
and, when wrk is installed, with 16 concurrent connections. Every figure is
also shown as a ratio to the floor measured in the same run. Before each
measurement the namespace is put back to its seed and read once, untimed:
what is measured is the steady state. A sequential write run stops after 150
requests, so that N stays about N. Also measured: the first read after another
process appended one record to the largest namespace, and the start of a
server whose namespace has a log of 10,000 records.
"""

import argparse
import http.client
import importlib.util
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from hubserver.clock import Clock
from hubserver.storage import NamespaceStore, document  # the project's own files, for seeding

PROJECT = Path(__file__).resolve().parent.parent

SIZES = (10, 1_000, 10_000)
IMAGE_ID = "a4002247cb22e78c8d9ffeccdf7ea23d7763f53493d4d763cb4dbe58bf3566b5"
SEED_STAMP = "2015-05-13T01:04:48.246Z"
SEQUENTIAL_LIMIT = 20_000
WRITE_LIMIT = 150
JSON_SERVER_VERSION = "0.17.4"
ECR_TARGET = "AmazonEC2ContainerRegistry_V20150921."
FAKE_SIGNATURE = (
    "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/ecr/aws4_request, SignedHeaders=host;x-amz-target, Signature=0"
)
JSON_HEADERS = {"Content-Type": "application/json"}


class Scenario:
    """One request shape; ``UNIQUE`` in path or body becomes a fresh value, ``CYCLE`` one of 100."""

    def __init__(self, server, name, size, method, path, body=None, headers=None, expect=(200,), before=None):
        self.server = server
        # A write grows the namespace it measures: so few that N stays about N.
        self.limit = SEQUENTIAL_LIMIT if method == "GET" else WRITE_LIMIT
        self.name = name
        self.size = size
        self.method = method
        self.path = path
        self.body = body
        self.headers = dict(headers or {})
        self.expect = expect
        self.before = before

    def request(self, prefix, number):
        """Return (path, body) of request ``number``."""

        def fill(text):
            return text.replace("UNIQUE", "%s-%d" % (prefix, number)).replace("CYCLE", str(number % 100))

        return fill(self.path), None if self.body is None else fill(self.body).encode()


class Figures:
    """Requests per second and latency percentiles, in milliseconds."""

    def __init__(self, rps, p50, p99):
        self.rps, self.p50, self.p99 = rps, p50, p99


def percentile(sorted_values, fraction):
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def send_once(url, scenario, prefix="once"):
    """Send one request of the scenario on a new connection; return its seconds."""
    host, port = url.split("//")[1].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    path, body = scenario.request(prefix, 0)
    sent = time.perf_counter()
    connection.request(scenario.method, path, body=body, headers=scenario.headers)
    response = connection.getresponse()
    response.read()
    elapsed = time.perf_counter() - sent
    connection.close()
    if response.status not in scenario.expect:
        raise RuntimeError("%s %s answered %d" % (scenario.method, path, response.status))
    return elapsed


def prepare(url, scenario, prefix):
    """Bring the server to the scenario's steady state before a measurement.

    One request waits behind whatever the last measurement left queued; then
    the seed is put back, and the one parse of the changed file happens in an
    untimed request.
    """
    send_once(url, scenario, prefix + "-drain")
    if scenario.before:
        scenario.before()
        send_once(url, scenario, prefix + "-warm")


ROUNDS = 5


def sequential_rounds(url, scenario, seconds):
    """Yield the figures of ROUNDS short runs of the sequential client, ``seconds`` in all."""
    for number in range(ROUNDS):
        prepare(url, scenario, "r%d" % number)
        yield _sequential_run(url, scenario, seconds / ROUNDS, "s%d" % number)


def fastest(rounds):
    """Return the fastest round: the one least disturbed by whatever else the machine did."""
    return max(rounds, key=lambda figures: figures.rps)


def _sequential_run(url, scenario, seconds, prefix):
    host, port = url.split("//")[1].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    latencies = []
    started = time.perf_counter()
    deadline = started + seconds
    while len(latencies) < scenario.limit and time.perf_counter() < deadline:
        path, body = scenario.request(prefix, len(latencies))
        sent = time.perf_counter()
        connection.request(scenario.method, path, body=body, headers=scenario.headers)
        response = connection.getresponse()
        response.read()
        latencies.append(time.perf_counter() - sent)
        if response.status not in scenario.expect:
            raise RuntimeError("%s %s answered %d" % (scenario.method, path, response.status))
    elapsed = time.perf_counter() - started
    connection.close()
    latencies.sort()
    return Figures(len(latencies) / elapsed, percentile(latencies, 0.50) * 1000, percentile(latencies, 0.99) * 1000)


WRK_SCRIPT = """
local counter = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function fill(text)
  return (string.gsub((string.gsub(text, "UNIQUE", "w" .. id .. "-" .. counter)), "CYCLE", tostring(counter %% 100)))
end
request = function()
  counter = counter + 1
  local body = %(body)s
  if body then body = fill(body) end
  return wrk.format(%(method)s, fill(%(path)s), %(headers)s, body)
end
"""


def lua_string(text):
    return json.dumps(text)  # a JSON string literal is a valid Lua string literal for this text


def measure_wrk(url, scenario, seconds, folder):
    """Drive the scenario with wrk: 2 threads, 16 connections."""
    headers = "{%s}" % ", ".join("[%s] = %s" % (lua_string(k), lua_string(v)) for k, v in scenario.headers.items())
    script = Path(folder) / "scenario.lua"
    script.write_text(
        WRK_SCRIPT
        % {
            "body": "nil" if scenario.body is None else lua_string(scenario.body),
            "method": lua_string(scenario.method),
            "path": lua_string(scenario.path),
            "headers": headers,
        }
    )
    result = subprocess.run(
        ["wrk", "-t2", "-c16", "-d%ds" % max(1, round(seconds)), "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
    )
    output = result.stdout
    if "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError("wrk saw errors for %s:\n%s" % (scenario.name, output))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    return Figures(rps, _wrk_latency(output, "50"), _wrk_latency(output, "99"))


def _wrk_latency(output, percent):
    value, unit = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s)\s*$" % percent, output, re.M).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


# Processes


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_announced(command, env=None):
    """Start a server that prints 'listening on http://...'; return (process, url)."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", process.stdout.readline())
    if not match:
        stop(process)
        raise RuntimeError("%s did not start" % command[1])
    return process, match.group(1)


def start_on_port(command, port, probe_path, cwd=None, timeout=60):
    """Start a server on ``port`` and wait until ``probe_path`` answers; return (process, url)."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
    url = "http://127.0.0.1:%d" % port
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", probe_path)
            connection.getresponse().read()
            connection.close()
            return process, url
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    stop(process)
    raise RuntimeError("%s did not start" % command[0])


def stop(process):
    """Stop a process started here, by its PID."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout:
        process.stdout.close()


def first_read_after_another_process_appended(url, scenarios, data_dir):
    """Return the seconds of the first detail GET after another process appended one record to the largest namespace."""
    detail = next(s for s in scenarios if s.name == "detail GET" and s.size == max(SIZES))
    detail.before()
    send_once(url, detail)  # waits for anything still queued, and reads the namespace
    other = NamespaceStore.on_disk(data_dir, Clock())  # another process, as far as the server can tell
    other.update_repository("ns%d" % max(SIZES), "repo%05d" % (max(SIZES) // 2), description="changed elsewhere")
    elapsed = send_once(url, detail)
    other.close()
    return elapsed


def time_to_first_answer(data_dir, path):
    """Return the seconds from starting hubserver on ``data_dir`` to its first answer to GET ``path``."""
    started = time.perf_counter()
    process, url = start_announced([sys.executable, "-m", "hubserver", "--port", "0", "--data-dir", str(data_dir)])
    host, port = url.split("//")[1].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.request("GET", path)
    answer = connection.getresponse()
    answer.read()
    elapsed = time.perf_counter() - started
    connection.close()
    stop(process)
    if answer.status != 200:
        raise RuntimeError("GET %s answered %d" % (path, answer.status))
    return elapsed


def cold_start(data_dir, runs=5):
    """Return the median seconds from starting hubserver to its first answer."""
    return statistics.median(time_to_first_answer(data_dir, "/v1/repositories/ns10/repo00005") for _ in range(runs))


LOG_RECORDS = 10_000


def start_with_a_long_log(folder, runs=3):
    """Return the median seconds to the first answer of a server whose namespace has a log of LOG_RECORDS records."""
    model = Path(folder) / "long-log"
    writer = NamespaceStore.on_disk(model, Clock(), sync=False, compact_bytes=10**12, compact_records=10**9, idle=10**6)
    writer.create_repository("logged", "repo00000")  # the namespace file; then one record a create
    for number in range(1, LOG_RECORDS + 1):
        writer.create_repository("logged", "repo%05d" % number)  # never compacted: never closed
    timings = []
    for run in range(runs):
        copy = Path(folder) / ("long-log-%d" % run)
        shutil.copytree(model, copy)  # each start compacts its copy when it stops
        timings.append(time_to_first_answer(copy, "/v1/repositories/logged/repo00000"))
    return statistics.median(timings)


# Scenarios


def seed_bytes(size):
    repositories = [document.new_repository("repo%05d" % index, SEED_STAMP) for index in range(size)]
    return document.encode("ns%d" % size, repositories)


def write_seed(seed_dir):
    """Write the seed the server starts from: one namespace file a size."""
    seed_dir.mkdir()
    for size in SIZES:
        (seed_dir / ("ns%d.json" % size)).write_bytes(seed_bytes(size))


def reset_to_seed(url, namespace):
    """Put one namespace back to its seed through the controls, as a test suite does."""
    reset = Scenario("hubserver", "reset", None, "POST", "/_hub/reset?namespace=" + namespace, expect=(204,))
    send_once(url, reset)


def hub_scenarios(url, server="hubserver", sizes=SIZES):
    scenarios = []
    for size in sizes:
        namespace = "ns%d" % size

        def reseed(namespace=namespace):
            reset_to_seed(url, namespace)

        middle = "/v1/repositories/%s/repo%05d" % (namespace, size // 2)
        scenarios += [
            Scenario(server, "detail GET", size, "GET", middle, before=reseed),
            Scenario(
                server,
                "list page",
                size,
                "GET",
                "/v1/repositories/%s/?page=%d" % (namespace, size // 20 + 1),
                before=reseed,
            ),
            Scenario(
                server,
                "create",
                size,
                "POST",
                "/v1/repositories/%s/" % namespace,
                '{"repo_name": "new-UNIQUE"}',
                JSON_HEADERS,
                (201,),
                reseed,
            ),
            Scenario(
                server,
                "tag PUT",
                size,
                "PUT",
                middle + "/tags/tCYCLE",
                '{"image_id": "%s"}' % IMAGE_ID,
                JSON_HEADERS,
                (200, 201),
                reseed,
            ),
        ]
    return scenarios


def ecr_headers(action):
    return {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": ECR_TARGET + action,
        "Authorization": FAKE_SIGNATURE,
    }


def moto_scenarios():
    return [
        Scenario(
            "moto",
            "DescribeRepositories",
            1,
            "POST",
            "/",
            '{"repositoryNames": ["bench"]}',
            ecr_headers("DescribeRepositories"),
        ),
        Scenario(
            "moto",
            "CreateRepository",
            None,
            "POST",
            "/",
            '{"repositoryName": "new-UNIQUE"}',
            ecr_headers("CreateRepository"),
        ),
    ]


def json_server_scenarios():
    return [
        Scenario("json-server", "GET record", 1, "GET", "/repositories/1"),
        Scenario(
            "json-server",
            "POST record",
            None,
            "POST",
            "/repositories",
            '{"repo_name": "new-UNIQUE"}',
            JSON_HEADERS,
            (201,),
        ),
    ]


def json_server_command(folder):
    """Return the json-server command, installing it into bench/.peers once; None without npm."""
    peers = PROJECT / "bench" / ".peers"
    cli = peers / "node_modules" / "json-server" / "lib" / "cli" / "bin.js"
    if not cli.exists():
        if not (shutil.which("node") and shutil.which("npm")):
            return None
        subprocess.run(
            ["npm", "install", "--prefix", str(peers), "--no-audit", "--no-fund", "json-server@" + JSON_SERVER_VERSION],
            check=True,
            capture_output=True,
            timeout=180,
        )
    database = Path(folder) / "db.json"
    database.write_text(json.dumps({"repositories": [{"id": 1, **document.new_repository("bench", SEED_STAMP)}]}))
    return ["node", str(cli), "--host", "127.0.0.1", "--quiet", str(database)]


# The run


POSTED_FLOOR = Scenario(
    "floor",
    "bare Flask POST, JSON in and out",
    None,
    "POST",
    "/posted",
    '{"repo_name": "new-UNIQUE"}',
    JSON_HEADERS,
    (201,),
)
SYNCED_FLOOR = Scenario(
    "floor",
    "bare Flask POST, synced append",
    None,
    "POST",
    "/synced",
    '{"repo_name": "new-UNIQUE"}',
    JSON_HEADERS,
    (201,),
)


class Row:
    """One line of the table: a scenario's fastest figures, and its ratios to the floor."""

    def __init__(self, scenario, sequential, concurrent, ratio, concurrent_ratio):
        self.scenario = scenario
        self.sequential = sequential
        self.concurrent = concurrent
        self.ratio = ratio
        self.concurrent_ratio = concurrent_ratio


class Floor:
    """The floor server, measured again in rounds that alternate with hubserver's and the other floors'.

    Two cores carry both the client and the server, so a figure drifts from
    one second to the next. A hubserver ratio is the median of the ratios of
    rounds run one right after the other, not a ratio to a floor measured
    minutes earlier.
    """

    SCENARIO = Scenario("floor", "bare Flask GET", None, "GET", "/repository")

    def __init__(self, url, seconds, folder):
        self.url, self.seconds = url, seconds
        self.concurrent = measure_wrk(url, self.SCENARIO, seconds, folder) if shutil.which("wrk") else None
        self.measured = []

    def rounds(self):
        for figures in sequential_rounds(self.url, self.SCENARIO, self.seconds):
            self.measured.append(figures)
            yield figures

    def typical(self):
        """Return the median of all the floor's rounds."""
        return sorted(self.measured, key=lambda figures: figures.rps)[len(self.measured) // 2]

    def row(self):
        typical = self.typical()
        return Row(self.SCENARIO, typical, self.concurrent, 1.0, 1.0 if self.concurrent else None)


def run_scenarios(url, scenarios, seconds, folder, floor, rows, alternate=True):
    """Measure each scenario; with ``alternate``, in rounds that alternate with the floor's (not for peers)."""
    use_wrk = shutil.which("wrk") is not None
    for scenario in scenarios:
        if alternate:
            pairs = list(zip(floor.rounds(), sequential_rounds(url, scenario, seconds)))
            ratio = statistics.median(mine.rps / base.rps for base, mine in pairs)
            sequential = fastest(mine for _, mine in pairs)
        else:
            sequential = fastest(sequential_rounds(url, scenario, seconds))
            ratio = sequential.rps / floor.typical().rps
        concurrent = concurrent_ratio = None
        if use_wrk:
            prepare(url, scenario, "w")
            concurrent = measure_wrk(url, scenario, seconds, folder)
            concurrent_ratio = concurrent.rps / floor.concurrent.rps
        rows.append(Row(scenario, sequential, concurrent, ratio, concurrent_ratio))
        print(
            "  measured %s %s %s" % (scenario.server, scenario.name, scenario.size or ""), file=sys.stderr, flush=True
        )


def with_server(start, scenarios, seconds, folder, floor, rows):
    process, url = start()
    try:
        run_scenarios(url, scenarios, seconds, folder, floor, rows, alternate=False)
    finally:
        stop(process)


def measure_peers(args, folder, floor, rows, notes):
    """Measure moto and json-server where they are installed; note where they are not."""
    if importlib.util.find_spec("moto") is not None:
        port = free_port()
        moto_command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]

        def start_moto():
            process, url = start_on_port(moto_command, port, "/moto-api/")
            send_once(
                url,
                Scenario(
                    "moto", "setup", None, "POST", "/", '{"repositoryName": "bench"}', ecr_headers("CreateRepository")
                ),
            )
            return process, url

        with_server(start_moto, moto_scenarios(), args.seconds, folder, floor, rows)
    else:
        notes.append("moto: not installed (pip install -r bench/requirements.txt)")
    command = json_server_command(folder)
    if command:
        port = free_port()
        with_server(
            lambda: start_on_port(command + ["--port", str(port)], port, "/repositories/1"),
            json_server_scenarios(),
            args.seconds,
            folder,
            floor,
            rows,
        )
    else:
        notes.append("json-server: Node.js and npm not found")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Benchmark hubserver against the Flask floor and its peers.")
    parser.add_argument("--seconds", type=float, default=2.0, help="length of each measurement (default 2)")
    parser.add_argument("--threads", type=int, default=8, help="server threads, hubserver and floor alike (default 8)")
    parser.add_argument("--skip-peers", action="store_true", help="measure only the floor and hubserver")
    args = parser.parse_args(argv)
    rows, notes = [], []
    with tempfile.TemporaryDirectory(prefix="hubserver-bench-") as folder:
        data_dir = Path(folder) / "data"
        write_seed(Path(folder) / "seed")
        floor_process, floor_url = start_announced(
            [sys.executable, str(PROJECT / "bench" / "floor.py"), "--threads", str(args.threads), "--log-dir", folder]
        )
        try:
            floor = Floor(floor_url, args.seconds, folder)
            run_scenarios(floor_url, [POSTED_FLOOR, SYNCED_FLOOR], args.seconds, folder, floor, rows)
            first_read = measure_hubserver(args, folder, data_dir, floor, rows)
            measure_unsynced(args, folder, floor, rows)
        finally:
            stop(floor_process)
        startup = cold_start(data_dir)
        long_log = start_with_a_long_log(folder)
        if not args.skip_peers:
            measure_peers(args, folder, floor, rows, notes)
    print_table(rows, floor, (startup, long_log, first_read), notes, args)
    return 0


def hub_command(args, folder, *data_options):
    """Return the command that starts hubserver from the bench's seed, with ``data_options``."""
    seed = str(Path(folder) / "seed")
    return [
        sys.executable,
        "-m",
        "hubserver",
        "--port",
        "0",
        *data_options,
        "--seed",
        seed,
        "--threads",
        str(args.threads),
    ]


def measure_hubserver(args, folder, data_dir, floor, rows):
    """Measure hubserver on ``data_dir`` in every scenario; return the first read after another process appended."""
    process, url = start_announced(hub_command(args, folder, "--data-dir", str(data_dir)))
    try:
        scenarios = hub_scenarios(url)
        run_scenarios(url, scenarios, args.seconds, folder, floor, rows)
        return first_read_after_another_process_appended(url, scenarios, data_dir)
    finally:
        stop(process)


def measure_unsynced(args, folder, floor, rows):
    """Measure the writes at N=10 of a hubserver in memory (--ephemeral): what the disk costs."""
    process, url = start_announced(hub_command(args, folder, "--ephemeral"))
    try:
        writes = [
            scenario for scenario in hub_scenarios(url, "hubserver --ephemeral", (10,)) if scenario.method != "GET"
        ]
        run_scenarios(url, writes, args.seconds, folder, floor, rows)
    finally:
        stop(process)


def print_table(rows, floor, starts, notes, args):
    startup, long_log, first_read = starts
    print()
    print(
        "hubserver benchmark, %s, Python %s, %s, %d cores, %s s a measurement"
        % (
            datetime.now(timezone.utc).strftime("%Y-%m-%d"),
            platform.python_version(),
            platform.machine(),
            os.cpu_count(),
            args.seconds,
        )
    )
    print()
    header = (
        "| server | scenario | N | seq req/s | / floor | p50 ms | p99 ms | 16 conn req/s | / floor | p50 ms | p99 ms |"
    )
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for row in [floor.row()] + rows:
        cells = [
            row.scenario.server,
            row.scenario.name,
            "" if row.scenario.size is None else f"{row.scenario.size:,}",
        ]
        cells += _figure_cells(row.sequential, row.ratio)
        cells += _figure_cells(row.concurrent, row.concurrent_ratio) if row.concurrent else ["(no wrk)", "", "", ""]
        print("| " + " | ".join(cells) + " |")
    print()
    print(
        "req/s and latencies: the fastest of %d rounds. The floor row: the median of its %d rounds,"
        % (ROUNDS, len(floor.measured))
    )
    print("which alternate with hubserver's and the other floors'; their ratios are the medians of")
    print("the ratios of alternate rounds, a peer's the ratio to the floor's median. 16 conn: one wrk run each.")
    print("cold start, process start to first answer (median of 5): %.3f s" % startup)
    print("start with a log of %s records, to the first answer (median of 3): %.3f s" % (f"{LOG_RECORDS:,}", long_log))
    print(
        "first detail GET after another process appended one record to a %s-repository namespace: %.1f ms"
        % (f"{max(SIZES):,}", first_read * 1000)
    )
    for note in notes:
        print("not measured: " + note)
    print()
    for line in target_lines(rows, starts):
        print(line)


def _figure_cells(figures, ratio):
    return ["%.0f" % figures.rps, "%.2f" % ratio, "%.2f" % figures.p50, "%.2f" % figures.p99]


def target_lines(rows, starts):
    """Return the targets, each with its measured value."""
    startup, long_log, first_read = starts
    by_key = {(row.scenario.name, row.scenario.size): row for row in rows if row.scenario.server == "hubserver"}

    def to_floor(name, size):
        return by_key[(name, size)].ratio

    checks = [("detail N=%s / floor" % f"{size:,}", to_floor("detail GET", size), 0.80) for size in SIZES] + [
        ("detail N=10,000 / detail N=10", to_floor("detail GET", 10_000) / to_floor("detail GET", 10), 0.90),
        ("list page N=10,000 / floor", to_floor("list page", 10_000), 0.60),
        ("create N=10 / floor", to_floor("create", 10), 0.45),
        ("tag PUT N=10 / floor", to_floor("tag PUT", 10), 0.45),
        ("create N=10,000 / create N=10", to_floor("create", 10_000) / to_floor("create", 10), 0.80),
    ]
    lines = ["targets (sequential client, ratios to the floor beside each):"]
    for name, value, target in checks:
        lines.append(
            "  %-32s %.2f  (target >= %.2f: %s)" % (name, value, target, "met" if value >= target else "MISSED")
        )
    ephemeral = next(
        row.ratio for row in rows if row.scenario.server == "hubserver --ephemeral" and row.scenario.name == "create"
    )
    lines.append(
        "  %-32s %.2f  (target >= 0.80: %s)"
        % ("--ephemeral create N=10 / floor", ephemeral, "met" if ephemeral >= 0.80 else "MISSED")
    )
    synced = next(row.ratio for row in rows if row.scenario is SYNCED_FLOOR)
    posted = next(row.ratio for row in rows if row.scenario is POSTED_FLOOR)
    lines.append("  the writes against the floors of a write (ratios of ratios), not targets:")
    lines.append("  %-32s %.2f" % ("bare POST floor / floor", posted))
    lines.append("  %-32s %.2f" % ("--ephemeral create / POST floor", ephemeral / posted))
    lines.append("  %-32s %.2f" % ("synced floor / floor", synced))
    for name in ("create", "tag PUT"):
        lines.append("  %-32s %.2f" % ("%s N=10 / synced floor" % name, to_floor(name, 10) / synced))
    for name, value, limit in [
        ("cold start", startup, 0.5),
        ("start with a 10,000-record log", long_log, 1.0),
        ("first read after one appended", first_read, 0.005),
    ]:
        lines.append("  %-32s %.4f s (target < %s s: %s)" % (name, value, limit, "met" if value < limit else "MISSED"))
    return lines


if __name__ == "__main__":
    sys.exit(main())
