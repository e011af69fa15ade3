"""Take the README's screenshots of hubserver's pages, with headless Chromium.

    python tools/screenshots.py

Starts hubserver (``HubServer``, a frozen clock), fills it with a little demo
data over HTTP, and writes docs/screenshots/<page>-<desktop|phone>.png.
Everything stays on 127.0.0.1.
"""

import sys
from pathlib import Path

import browser  # beside this file

from pytest_hubserver import HubServer

PROJECT = Path(__file__).resolve().parent.parent

SIZES = {"desktop": (1280, 800), "phone": (360, 740)}
PAGES = {"namespaces": "/", "namespace": "/ui/madams", "repository": "/ui/madams/web-app"}
REPOSITORIES = [
    ("madams", "web-app", "The shop's front end", True),
    ("madams", "worker", "Background jobs: mail, invoices, reports", True),
    ("madams", "db", "Postgres with our extensions", False),
    ("acme", "tools", "Build tools", True),
]
TAGS = [
    ("latest", "a4002247cb22e78c8d9ffeccdf7ea23d7763f53493d4d763cb4dbe58bf3566b5"),
    ("1.4.2", "e72ac664f4f0c6a061ac4ef332557a70d69b0c62fb6add35f1c181ff7fff2287"),
]


def fill(hub):
    for namespace, name, description, public in REPOSITORIES:
        hub.request(
            "POST",
            "/v1/repositories/%s/" % namespace,
            {"repo_name": name, "description": description, "is_public": public},
        )
    hub.request(
        "PUT",
        "/v1/repositories/madams/web-app",
        {"full_description": "The web front end of the shop.\nBuilt from main on every merge."},
    )
    for tag, image_id in TAGS:
        hub.request("PUT", "/v1/repositories/madams/web-app/tags/%s" % tag, {"image_id": image_id})


def main():
    out = PROJECT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    with HubServer(frozen_time="2026-11-27T09:30:00.000Z") as hub:
        fill(hub)
        for page, path in PAGES.items():
            for size, (width, height) in SIZES.items():
                target = out / ("%s-%s.png" % (page, size))
                browser.screenshot(hub.url + path, target, width, height)
                print("wrote", target.relative_to(PROJECT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
