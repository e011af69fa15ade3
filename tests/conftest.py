"""Fixtures shared by the test suite, and its promise to leave the checkout as it found it."""

import shutil
import subprocess

import pytest

import hubserver

from helpers import PROJECT

STATUS_BEFORE = pytest.StashKey()


def git_status():
    """Return the lines of ``git status --porcelain`` of the checkout, or None outside a git checkout."""
    if shutil.which("git") is None or not (PROJECT / ".git").exists():
        return None
    return set(
        subprocess.run(
            ["git", "status", "--porcelain"], cwd=PROJECT, capture_output=True, text=True
        ).stdout.splitlines()
    )


def pytest_sessionstart(session):
    session.config.stash[STATUS_BEFORE] = git_status()


def pytest_sessionfinish(session):
    """Fail the run if the tests left anything in the checkout that git would see."""
    before = session.config.stash.get(STATUS_BEFORE, None)
    if before is None or hasattr(session.config, "workerinput"):  # not a checkout, or a pytest-xdist worker
        return
    left = sorted(git_status() - before)
    if left:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        reporter.write_sep("!", "the test suite left files in the checkout (git status --porcelain)", red=True)
        reporter.write_line("\n".join(left))


@pytest.fixture
def data_dir(tmp_path):
    """Return the data directory of the application under test."""
    return tmp_path / "data"


@pytest.fixture
def app(data_dir):
    """Return an application on a fresh, empty data directory."""
    return hubserver.create_app({"TESTING": True, "DATA_DIR": str(data_dir)})


@pytest.fixture
def client(app):
    """Return a test client of ``app``."""
    return app.test_client()


@pytest.fixture
def make_repository(client):
    """Return a function that creates a repository and checks it was created."""

    def make(namespace="madams", repo_name="repo", **fields):
        response = client.post("/v1/repositories/%s/" % namespace, json={"repo_name": repo_name, **fields})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return make


pytest_plugins = ["pytester"]
