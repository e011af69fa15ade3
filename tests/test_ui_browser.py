"""The pages in a real browser: headless Chromium loads them and we read what a person sees."""

import re

import pytest

from helpers import running_server, send
from tools import browser  # the checkout's folder, on the path through pytest's pythonpath setting

pytestmark = pytest.mark.skipif(browser.chromium() is None, reason="chromium is not installed (.ci/run installs it)")
IMAGE = "a4002247cb22e78c8d9ffeccdf7ea23d7763f53493d4d763cb4dbe58bf3566b5"


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("ui") / "data") as (process, url):
        for name, description in [
            ("web-app", "The front end"),
            ("worker", "Background jobs"),
            ("db", "Postgres, tuned"),
        ]:
            send(url, "POST", "/v1/repositories/madams/", {"repo_name": name, "description": description})
        send(url, "PUT", "/v1/repositories/madams/web-app/tags/latest", {"image_id": IMAGE})
        yield url


def visible_text(dom):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", dom))


def test_the_front_page_lists_the_namespaces(hub):
    text = visible_text(browser.dump_dom(hub + "/"))
    assert "Namespaces" in text and "madams" in text


def test_a_namespace_page_shows_repositories_and_their_descriptions(hub):
    text = visible_text(browser.dump_dom(hub + "/ui/madams"))
    for expected in ["web-app", "The front end", "worker", "Background jobs", "db", "3 repositories"]:
        assert expected in text


def test_the_search_box_narrows_the_list(hub):
    text = visible_text(browser.dump_dom(hub + "/ui/madams?name=w"))
    assert "web-app" in text and "worker" in text and "Postgres" not in text
    assert "2 repositories matching" in text


def test_a_repository_page_shows_its_tags_and_how_to_pull_them(hub):
    host = hub.split("//")[1]
    text = visible_text(browser.dump_dom(hub + "/ui/madams/web-app"))
    assert "latest" in text and IMAGE in text
    assert "docker pull %s/madams/web-app:latest" % host in text
