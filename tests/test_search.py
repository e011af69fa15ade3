"""Lists: name= and ordering=, kept in the page links, with X-Total-Count and Link headers."""

import pytest

from helpers import assert_field_errors

BASE = "http://localhost/v1/repositories/madams/"


@pytest.fixture
def repositories(app, client):
    store = app.extensions["hubserver.store"]
    client.put("/_hub/clock", json={"now": "2015-06-07T10:41:31.882Z"})  # one second apart: no two alike
    for name, pulls in [("web-app", 5), ("db", 50), ("Web-proxy", 0), ("cache", 50), ("webhook", 7)]:
        client.put("/_hub/clock", json={"advance_ms": 1000})
        client.post("/v1/repositories/madams/", json={"repo_name": name.lower()})
        if pulls:  # pulls have no endpoint yet: set them as a hand-edited file would
            store.replace_namespace(
                "madams",
                {
                    **{repo["repo_name"]: repo for repo in store.list_repositories("madams")},
                    name.lower(): {**store.get_repository("madams", name.lower()), "download": pulls},
                },
            )
    client.put("/_hub/clock", json={"advance_ms": 1000})
    client.put("/v1/repositories/madams/db", json={"description": "touched last"})


def names(response):
    assert response.status_code == 200, response.get_json()
    return [item["repo_name"] for item in response.get_json()["results"]]


def test_name_is_a_case_insensitive_substring(client, repositories):
    response = client.get("/v1/repositories/madams/?name=WEB")
    assert names(response) == ["web-app", "web-proxy", "webhook"]
    assert response.get_json()["count"] == 3
    assert response.headers["X-Total-Count"] == "3"


@pytest.mark.parametrize(
    "ordering, expected",
    [
        ("name", ["cache", "db", "web-app", "web-proxy", "webhook"]),
        ("-name", ["webhook", "web-proxy", "web-app", "db", "cache"]),
        ("-pull_count", ["db", "cache", "webhook", "web-app", "web-proxy"]),
        ("pull_count", ["web-proxy", "web-app", "webhook", "db", "cache"]),
        ("-last_updated", ["db", "webhook", "cache", "web-proxy", "web-app"]),
        ("-pull_count,name", ["cache", "db", "webhook", "web-app", "web-proxy"]),
        ("", ["web-app", "db", "web-proxy", "cache", "webhook"]),
    ],
)
def test_ordering(client, repositories, ordering, expected):
    assert names(client.get("/v1/repositories/madams/?ordering=" + ordering)) == expected


@pytest.mark.parametrize("ordering", ["size", "--name", "name,colour", "repo_name", "-"])
def test_an_unknown_ordering_is_a_400(client, repositories, ordering):
    assert_field_errors(client.get("/v1/repositories/madams/?ordering=" + ordering), "ordering")


def test_filter_and_ordering_paginate_and_are_kept_in_links(client, repositories):
    response = client.get("/v1/repositories/madams/?name=web&ordering=-name&page_size=2")
    assert names(response) == ["webhook", "web-proxy"]
    body = response.get_json()
    assert body["count"] == 3
    assert body["next"] == BASE + "?name=web&ordering=-name&page=2&page_size=2"
    assert response.headers["Link"] == '<%s>; rel="next"' % body["next"]
    second = client.get(body["next"].replace("http://localhost", ""))
    assert names(second) == ["web-app"]
    assert second.headers["Link"] == '<%s>; rel="prev"' % (BASE + "?name=web&ordering=-name&page_size=2")


def test_a_middle_page_links_both_ways_and_a_single_page_sends_no_link(client, repositories):
    middle = client.get("/v1/repositories/madams/?page_size=2&page=2")
    assert middle.headers["Link"] == '<%s?page=3&page_size=2>; rel="next", <%s?page_size=2>; rel="prev"' % (BASE, BASE)
    single = client.get("/v1/repositories/madams/")
    assert "Link" not in single.headers
    assert single.headers["X-Total-Count"] == "5"
