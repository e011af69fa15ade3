"""The one-file build: reproducible, and a working hubserver on a bare interpreter."""

import glob
import os
import signal
import subprocess
import sys

import pytest

from helpers import LISTENING, PROJECT, send


@pytest.fixture(scope="module")
def pyz(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pyz")
    paths = [folder / "first.pyz", folder / "second.pyz"]
    for path in paths:
        subprocess.run([sys.executable, str(PROJECT / "tools" / "build_pyz.py"), "--output", str(path)], check=True, capture_output=True)
    return paths


def test_two_builds_give_the_same_bytes(pyz):
    first, second = pyz
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes().startswith(b"#!/usr/bin/env python3\n")


def bare_interpreters():
    """This Python, and Python 3.9 where pyenv has one (the oldest the build supports)."""
    found = [sys.executable]
    found += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.9*/bin/python3")))[:1]
    return found


@pytest.mark.parametrize("python", bare_interpreters())
def test_it_runs_with_no_site_packages_from_any_folder(pyz, tmp_path, python):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    process = subprocess.Popen(
        [python, "-S", "-I", str(pyz[0]), "--port", "0", "--data-dir", "data"],
        cwd=elsewhere, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = process.stdout.readline()
        match = LISTENING.fullmatch(line)
        assert match, line + process.stderr.read()
        url = match.group(1)
        assert send(url, "POST", "/v1/repositories/madams/", {"repo_name": "repo"}).status == 201
        assert send(url, "GET", "/v1/repositories/madams/repo").json()["repo_path"] == "madams/repo"
        page = send(url, "GET", "/ui/madams", headers={"Accept": "text/html"})
        assert page.status == 200 and b'href="/ui/madams/repo"' in page.body
        assert send(url, "GET", "/static/hubserver.css").status == 200
        assert (elsewhere / "data" / "madams.json").exists()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.stdout.close()
        process.stderr.close()


def test_it_takes_every_flag(pyz):
    result = subprocess.run([sys.executable, "-S", "-I", str(pyz[0]), "--help"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    for flag in ["--port", "--data-dir", "--seed", "--ephemeral", "--users", "--max-blob-size", "--no-admin"]:
        assert flag in result.stdout
