"""The pages: / for browsers (JSON for everyone else), /ui/<namespace>, /ui/<namespace>/<repo>."""

import json

import pytest

import hubserver

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
IMAGE = "e72ac664f4f0c6a061ac4ef332557a70d69b0c62fb6add35f1c181ff7fff2287"


@pytest.fixture
def filled(client, make_repository):
    make_repository("madams", "web-app", description="The <b>front</b> end", full_description="Long text")
    make_repository("madams", "db", is_public=False)
    make_repository("acme", "tool")
    client.put("/v1/repositories/madams/web-app/tags/latest", json={"image_id": IMAGE})
    return client


def html(response, status=200):
    assert response.status_code == status
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def test_the_root_is_a_page_for_a_browser(filled):
    page = html(filled.get("/", headers=BROWSER))
    assert 'href="/ui/madams"' in page and 'href="/ui/acme"' in page
    assert "/static/hubserver.css" in page and "<script" not in page


@pytest.mark.parametrize("accept", [None, "*/*", "application/json", "text/html;q=0.5, application/json"])
def test_the_root_is_json_for_everyone_else(filled, accept):
    response = filled.get("/", headers={"Accept": accept} if accept else {})
    assert (response.status_code, response.get_json()) == (200, {"namespaces": ["acme", "madams"]})


def test_a_namespace_page_lists_its_repositories(filled):
    page = html(filled.get("/ui/madams"))
    assert 'href="/ui/madams/web-app"' in page and 'href="/ui/madams/db"' in page
    assert "The &lt;b&gt;front&lt;/b&gt; end" in page  # escaped, never markup
    assert "private" in page
    assert 'action="/ui/madams"' in page and 'name="name"' in page


def test_the_search_box_filters_by_name(filled):
    page = html(filled.get("/ui/madams?name=WEB"))
    assert "web-app" in page and 'href="/ui/madams/db"' not in page
    assert 'value="WEB"' in page


def test_a_repository_page_shows_tags_image_ids_counters_and_the_pull_command(filled):
    page = html(filled.get("/ui/madams/web-app", headers={"Host": "hub.test:5000"}))
    assert "latest" in page and IMAGE in page
    assert "docker pull hub.test:5000/madams/web-app:latest" in page
    assert "Long text" in page and "Pushes" in page


@pytest.mark.parametrize("path", ["/ui/madams/nothing", "/ui/nobody/x", "/ui/a/b/c", "/ui/", "/ui/Bad", "/ui/%C3%28"])
def test_everything_under_ui_answers_html_its_404_too(filled, path):
    assert "Not found" in html(filled.get(path), 404)


def test_the_stylesheet(filled):
    response = filled.get("/static/hubserver.css")
    assert (response.status_code, response.mimetype) == (200, "text/css")
    assert b"@media" in response.data


def test_with_accounts_the_pages_show_public_repositories_only(tmp_path, data_dir, filled):
    users = tmp_path / "users.json"
    users.write_text(json.dumps({"users": {"madams": {"password": "secret"}}}))
    client = hubserver.create_app({"DATA_DIR": str(data_dir), "USERS": str(users)}).test_client()
    assert 'href="/ui/madams/db"' not in html(client.get("/ui/madams"))
    html(client.get("/ui/madams/db"), 404)
    assert "web-app" in html(client.get("/ui/madams/web-app"))


def test_a_corrupt_namespace_file_is_a_500_page_naming_it(data_dir, filled):
    (data_dir / "madams.json").write_text("{broken")
    page = html(filled.get("/ui/madams"), 500)
    assert "madams" in page and "cannot be read" in page
