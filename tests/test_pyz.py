"""The one-file build: reproducible, with its licences, a working hubserver on a bare interpreter, cached compiled."""

import glob
import os
import signal
import subprocess
import sys
import zipfile

import pytest

from helpers import LISTENING, PROJECT, send
from tools.build_pyz import DEPENDENCIES


@pytest.fixture(scope="module")
def pyz(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pyz")
    paths = [folder / "first.pyz", folder / "second.pyz"]
    for path in paths:
        build = [sys.executable, str(PROJECT / "tools" / "build_pyz.py"), "--output", str(path)]
        subprocess.run(build, check=True, capture_output=True)
    return paths


def test_two_builds_give_the_same_bytes(pyz):
    first, second = pyz
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes().startswith(b"#!/usr/bin/env python3\n")


def test_it_holds_the_licence_of_hubserver_and_of_everything_it_bundles(pyz):
    with zipfile.ZipFile(pyz[0]) as archive:
        licensed = {
            name.split("/")[1] for name in archive.namelist() if name.startswith("licenses/") and name[-1] != "/"
        }
        mit = archive.read("licenses/hubserver/LICENSE").decode()
    assert licensed == {"hubserver", *DEPENDENCIES}
    assert mit == (PROJECT / "LICENSE").read_text("utf-8")


def bare_interpreters():
    """This Python, and Python 3.9 where pyenv has one (the oldest the build supports)."""
    found = [sys.executable]
    found += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.9*/bin/python3")))[:1]
    return found


def launch(python, pyz, folder, cache):
    """Start the archive with ``-S -I`` in ``folder``, its cache in ``cache``; return the process."""
    return subprocess.Popen(
        [python, "-S", "-I", str(pyz), "--port", "0", "--data-dir", "data"],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PATH": os.environ["PATH"], "XDG_CACHE_HOME": str(cache)},
    )


def start(python, pyz, folder, cache):
    """Start the archive and wait until it listens; return (process, URL)."""
    return listening(launch(python, pyz, folder, cache))


def listening(process):
    """Return (process, URL) once ``process`` says it listens."""
    match = LISTENING.fullmatch(process.stdout.readline())
    if not match:
        process.kill()
        raise AssertionError(process.communicate()[1])
    return process, match.group(1)


def stop(process):
    process.send_signal(signal.SIGTERM)
    status = process.wait(timeout=10)
    process.stdout.close()
    process.stderr.close()
    return status


@pytest.mark.parametrize("python", bare_interpreters())
def test_it_runs_with_no_site_packages_from_any_folder(pyz, tmp_path, python):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    process, url = start(python, pyz[0], elsewhere, tmp_path / "cache")
    try:
        assert send(url, "POST", "/v1/repositories/madams/", {"repo_name": "repo"}).status == 201
        assert send(url, "GET", "/v1/repositories/madams/repo").json()["repo_path"] == "madams/repo"
        page = send(url, "GET", "/ui/madams", headers={"Accept": "text/html"})
        assert page.status == 200 and b'href="/ui/madams/repo"' in page.body
        assert send(url, "GET", "/static/hubserver.css").status == 200
        assert (elsewhere / "data" / "madams.json").exists()
    finally:
        assert stop(process) == 0


def test_the_first_start_keeps_a_compiled_copy_that_later_starts_use(pyz, tmp_path):
    cache = tmp_path / "cache"
    stop(start(sys.executable, pyz[0], tmp_path, cache)[0])
    (unpacked,) = (cache / "hubserver").iterdir()
    assert unpacked.name.startswith("pyz-")
    compiled = unpacked / "hubserver" / "__pycache__" / ("app.%s.pyc" % sys.implementation.cache_tag)
    assert compiled.exists()
    made = compiled.stat().st_mtime_ns
    process, url = start(sys.executable, pyz[0], tmp_path, cache)
    assert send(url, "GET", "/_hub/health").json() == {"status": "ok"}
    assert stop(process) == 0
    assert list((cache / "hubserver").iterdir()) == [unpacked]
    assert compiled.stat().st_mtime_ns == made  # read, not compiled again


def test_two_first_starts_at_once_share_one_copy(pyz, tmp_path):
    cache = tmp_path / "cache"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    launched = [launch(sys.executable, pyz[0], tmp_path / name, cache) for name in ("a", "b")]  # neither waits
    started = [listening(process) for process in launched]
    for _, url in started:
        assert send(url, "GET", "/_hub/health").status == 200
    assert [stop(process) for process, _ in started] == [0, 0]
    assert len(list((cache / "hubserver").iterdir())) == 1  # no half-made folder is left either


def test_it_runs_from_the_archive_where_no_cache_can_be_kept(pyz, tmp_path):
    not_a_folder = tmp_path / "cache"
    not_a_folder.write_text("a file where the cache folder would go")
    process, url = start(sys.executable, pyz[0], tmp_path, not_a_folder)
    assert send(url, "GET", "/_hub/health").status == 200
    assert stop(process) == 0


def test_it_takes_every_flag(pyz, tmp_path):
    result = subprocess.run(
        [sys.executable, "-S", "-I", str(pyz[0]), "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        env={"XDG_CACHE_HOME": str(tmp_path)},
    )
    assert result.returncode == 0
    for flag in [
        "--port",
        "--data-dir",
        "--seed",
        "--ephemeral",
        "--users",
        "--max-blob-size",
        "--no-admin",
        "--version",
    ]:
        assert flag in result.stdout
