"""Fixtures shared by the test suite: an application on a temporary data directory."""

import pytest

import hubserver


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
