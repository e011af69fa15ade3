"""The route table: one answer to which surface a path is, asked by errors, credentials, the journal and limits."""

import pytest

from hubserver import routes


@pytest.mark.parametrize(
    ("path", "surface", "kind"),
    [
        ("/v2", routes.REGISTRY, None),
        ("/v2/", routes.REGISTRY, None),
        ("/v2/madams/repo/tags/list", routes.REGISTRY, None),
        ("/v2/madams/repo/blobs/uploads/", routes.REGISTRY, routes.BLOB_UPLOAD),
        ("/v2/repo/blobs/uploads/0b4c", routes.REGISTRY, routes.BLOB_UPLOAD),
        ("/v2/madams/repo/manifests/latest", routes.REGISTRY, routes.MANIFEST),
        ("/v2/token", routes.REGISTRY, routes.TOKEN),
        ("/v2/token/", routes.REGISTRY, routes.TOKEN),
        ("/v2x", routes.HUB_API, None),
        ("/_hub", routes.CONTROLS, None),
        ("/_hub/state", routes.CONTROLS, routes.STATE),
        ("/_hub/state/", routes.CONTROLS, routes.STATE),
        ("/_hub/reset", routes.CONTROLS, None),
        ("/_hubx", routes.HUB_API, None),
        ("/ui/madams", routes.PAGES, None),
        ("/ui", routes.HUB_API, None),
        ("/v1/repositories/madams/", routes.HUB_API, None),
        ("/openapi.json", routes.HUB_API, None),
        ("/v2/a\nb/blobs/uploads/", routes.REGISTRY, routes.BLOB_UPLOAD),  # a decoded %0A is still /v2/
    ],
)
def test_each_path_has_one_surface_and_kind(path, surface, kind):
    assert routes.route_of(path) == routes.Route(surface, kind)
    assert routes.surface_of(path) == surface


def test_a_path_of_the_pages_fails_as_a_page_and_one_of_the_registry_in_its_shape(tmp_path):
    from hubserver import create_app

    client = create_app({"STORAGE": "memory"}).test_client()
    page = client.get("/ui/Not_A_Name/x/y")
    registry = client.get("/v2/a/b/c/blobs/nothing")
    hub_api = client.get("/v1/nothing")
    assert (page.status_code, page.mimetype) == (404, "text/html")
    assert (registry.status_code, registry.get_json()["errors"][0]["code"]) == (404, "NAME_UNKNOWN")
    assert (hub_api.status_code, hub_api.get_json()) == (404, {"detail": "Not found."})
