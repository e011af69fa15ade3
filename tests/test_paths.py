"""Path safety: no name from a URL or a body ever reaches a file outside the data directory.

Sent raw to the real server, so the WSGI server's own percent-decoding is in play.
"""

import pytest

from helpers import running_server, send

HOSTILE_SEGMENTS = [
    "..",
    ".",
    "%2e%2e",
    "%2E%2E",
    "..%2F..%2Foutside",
    "%2e%2e%2foutside",
    "a%2Fb",
    "a%00b",
    "%00",
    "ab%00.json",
    "%2F",
    "outside%5C..",
    "~",
    "%C0%AE%C0%AE",
    "ab%0Acd",
    "ab.json%2F..",
    "ab%20cd",
    "%2F%2F",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("paths")
    (root / "outside.json").write_text("untouched")
    with running_server(root / "data") as (process, url):
        send(url, "POST", "/v1/repositories/madams/", {"repo_name": "repo"})
        yield root, url


def files_under(root):
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


EXPECTED = ["data", "data/madams.json", "data/madams.json.lock", "outside.json"]


@pytest.mark.parametrize("segment", HOSTILE_SEGMENTS)
@pytest.mark.parametrize(
    "method, template, body",
    [
        ("POST", "/v1/repositories/{}/", {"repo_name": "repo"}),
        ("GET", "/v1/repositories/{}/", None),
        ("GET", "/v1/repositories/{}/repo", None),
        ("PUT", "/v1/repositories/{}/repo", {"description": "x"}),
        ("DELETE", "/v1/repositories/{}/repo", None),
        ("PUT", "/v1/repositories/madams/{}/tags/latest", {"image_id": "a" * 64}),
        ("DELETE", "/v1/repositories/madams/{}/", None),
        ("PUT", "/v1/repositories/madams/repo/tags/{}", {"image_id": "a" * 64}),
    ],
)
def test_hostile_names_in_urls_touch_no_file(server, segment, method, template, body):
    root, url = server
    answer = send(url, method, template.format(segment), body)
    assert answer.status in (400, 404, 405), answer.body
    assert answer.headers["Content-Type"] == "application/json"
    assert files_under(root) == EXPECTED
    assert (root / "outside.json").read_text() == "untouched"


@pytest.mark.parametrize("repo_name", ["../outside", "..", "a/../../b", "repo\x00", "repo.json/.."])
def test_hostile_names_in_bodies_touch_no_file(server, repo_name):
    root, url = server
    answer = send(url, "POST", "/v1/repositories/madams/", {"repo_name": repo_name})
    assert answer.status == 400
    assert list(answer.json()) == ["repo_name"]
    assert files_under(root) == EXPECTED


def test_the_server_still_serves_after_all_that(server):
    root, url = server
    assert send(url, "GET", "/v1/repositories/madams/repo").json()["repo_path"] == "madams/repo"
