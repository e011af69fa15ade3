"""Measure what a test suite pays for the controls: cold start, and reset.

    python bench/controls.py

Cold start is measured for ``python -m hubserver`` and for the one-file build
(built here into a temporary folder): its first start, which unpacks and
compiles it into a cache folder, its later starts, and a start where no cache
folder can be made.

Starts hubserver the way the pytest plugin does (``HubServer``: ``--port 0``
and a temporary data directory), on 127.0.0.1, with a seed of 10 namespaces of
100 repositories, and prints the median of each figure over bounded repetitions.
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hubserver.storage import document
from pytest_hubserver import HubServer

STAMP = "2015-05-13T01:04:48.246Z"
RUNS = 20
BUILD_PYZ = Path(__file__).resolve().parent.parent / "tools" / "build_pyz.py"


def seed_state(namespaces=10, repositories=100):
    return {
        "format": 1,
        "namespaces": [
            document.as_document(
                "ns%02d" % index,
                [document.new_repository("repo%03d" % number, STAMP) for number in range(repositories)],
            )
            for index in range(namespaces)
        ],
    }


def timed(action, runs=RUNS, before=None):
    """Return the median milliseconds of ``action()``, with ``before()`` run untimed each time."""
    timings = []
    for _ in range(runs):
        if before:
            before()
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def cold_start(command=None, runs=5, before=None):
    """Return the median milliseconds from starting the process to its first answer."""
    timings = []
    for _ in range(runs):
        if before:
            before()
        hub = HubServer(command=command)
        started = time.perf_counter()
        hub.start()
        hub.health()
        timings.append((time.perf_counter() - started) * 1000)
        hub.stop()
    return statistics.median(timings)


def one_file_cold_starts(folder):
    """Print the cold starts of the one-file build: first, later, and with no cache folder."""
    pyz = folder / "hubserver.pyz"
    subprocess.run([sys.executable, str(BUILD_PYZ), "--output", str(pyz)], check=True, capture_output=True)
    command = [sys.executable, "-S", "-I", str(pyz)]
    cache = folder / "cache"
    os.environ["XDG_CACHE_HOME"] = str(cache)  # the servers started here inherit it
    first = cold_start(command, before=lambda: shutil.rmtree(cache, ignore_errors=True))
    print("cold start, one file, first start (unpacks and compiles it): %.0f ms" % first)
    print("cold start, one file, later starts: %.0f ms" % cold_start(command))
    not_a_folder = folder / "not-a-folder"
    not_a_folder.write_text("")
    os.environ["XDG_CACHE_HOME"] = str(not_a_folder)
    print("cold start, one file, no cache folder possible (from the zip): %.0f ms" % cold_start(command))
    del os.environ["XDG_CACHE_HOME"]


def main():
    print("cold start to the first answer, python -m hubserver: %.0f ms" % cold_start())
    with tempfile.TemporaryDirectory() as folder:
        one_file_cold_starts(Path(folder))
    with tempfile.TemporaryDirectory() as folder:
        seed = Path(folder) / "seed.json"
        seed.write_text(json.dumps(seed_state()))
        with HubServer(seed=seed) as hub:

            def touch(count):
                return lambda: [
                    hub.request("POST", "/v1/repositories/ns%02d/" % index, {"repo_name": "added"})
                    for index in range(count)
                ]

            print("for scale, one GET /_hub/health round trip: %.1f ms" % timed(hub.health))
            print("reset, 10 namespaces x 100 repositories, none changed: %.1f ms" % timed(hub.reset))
            print("reset, same seed, one namespace changed: %.1f ms" % timed(hub.reset, before=touch(1)))
            print("reset, same seed, all 10 namespaces changed: %.1f ms" % timed(hub.reset, before=touch(10)))
        with HubServer() as hub:
            small = lambda: hub.request("POST", "/v1/repositories/madams/", {"repo_name": "repo"})  # noqa: E731
            print("reset, no seed, one small namespace written: %.1f ms" % timed(hub.reset, before=small))
    return 0


if __name__ == "__main__":
    sys.exit(main())
