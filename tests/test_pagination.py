"""The repository list's page-number pagination, as DRF paginates."""

import pytest

from helpers import assert_error

BASE = "http://localhost/v1/repositories/madams/"


@pytest.fixture
def twenty_five(make_repository):
    for index in range(25):
        make_repository(repo_name="repo%02d" % index)


def page(client, query=""):
    response = client.get("/v1/repositories/madams/" + query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def names(body):
    return [item["repo_name"] for item in body["results"]]


def test_first_page_has_ten_and_links_to_the_next(client, twenty_five):
    body = page(client)
    assert body["count"] == 25
    assert names(body) == ["repo%02d" % index for index in range(10)]
    assert (body["next"], body["previous"]) == (BASE + "?page=2", None)


def test_middle_page_links_both_ways_and_page_one_has_no_page_parameter(client, twenty_five):
    body = page(client, "?page=2")
    assert names(body)[0] == "repo10"
    assert (body["next"], body["previous"]) == (BASE + "?page=3", BASE)


def test_last_page(client, twenty_five):
    body = page(client, "?page=3")
    assert names(body) == ["repo20", "repo21", "repo22", "repo23", "repo24"]
    assert (body["next"], body["previous"]) == (None, BASE + "?page=2")
    assert page(client, "?page=last") == body


def test_links_keep_other_parameters_sorted(client, twenty_five):
    body = page(client, "?zeta=1&page=2&page_size=5&alpha=x%20y")
    assert body["next"] == BASE + "?alpha=x+y&page=3&page_size=5&zeta=1"
    assert body["previous"] == BASE + "?alpha=x+y&page_size=5&zeta=1"


def test_links_keep_the_path_as_requested(client, twenty_five):
    assert page(client.application.test_client(), "")["next"].startswith(BASE)
    body = client.get("/v1/repositories/madams?page_size=20").get_json()
    assert body["next"] == "http://localhost/v1/repositories/madams?page=2&page_size=20"


@pytest.mark.parametrize(
    "page_size, length",
    [("5", 5), ("25", 25), ("1000", 25), ("0", 10), ("-3", 10), ("abc", 10), ("", 10), ("2.5", 10)],
)
def test_page_size_falls_back_to_the_default_when_invalid(client, twenty_five, page_size, length):
    assert len(page(client, "?page_size=" + page_size)["results"]) == length


def test_page_size_is_capped_at_100(client, make_repository):
    for index in range(101):
        make_repository(repo_name="r%03d" % index)
    body = page(client, "?page_size=500")
    assert len(body["results"]) == 100
    assert body["next"] == BASE + "?page=2&page_size=500"


@pytest.mark.parametrize("number", ["0", "-1", "4", "abc", "1.5", "", "99999999999999999999", "lastly"])
def test_an_invalid_page_is_not_found(client, twenty_five, number):
    assert_error(client.get("/v1/repositories/madams/?page=" + number), 404, {"detail": "Invalid page."})


def test_page_one_of_an_empty_namespace_is_fine_and_page_two_is_not(client):
    assert page(client, "?page=1")["results"] == []
    assert_error(client.get("/v1/repositories/madams/?page=2"), 404, {"detail": "Invalid page."})
