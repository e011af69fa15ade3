"""The benchmark's floor: a bare Flask endpoint answering a repository-sized JSON object.

Served by waitress with the same settings as hubserver, so the difference
between this and hubserver is what hubserver itself costs.
Run: python bench/floor.py --port 0 [--threads 8]
"""

import argparse
import sys

from flask import Flask
from waitress.server import create_server

REPOSITORY = {
    "namespace": "madams",
    "repo_name": "test",
    "repo_path": "madams/test",
    "logo_file": "/static/images/user/default-logo.png",
    "description": "test",
    "full_description": "test contain 2 tags",
    "repo_starred_count": 0,
    "created_at": "2015-05-13T01:04:48.246Z",
    "updated_at": "2015-06-07T10:41:31.882Z",
    "is_public": False,
    "logo": "default-icon.jpg",
    "is_automated": False,
    "download": 103,
    "upload": 4,
    "pulled_at": "2015-06-07T10:41:31.881Z",
    "pushed_at": "2015-05-24T00:54:26.452Z",
    "is_repo_starred": False,
}


def create_app():
    """Return a Flask app with one endpoint and Flask's defaults otherwise."""
    app = Flask(__name__)
    app.json.sort_keys = False

    @app.get("/repository")
    def repository():
        return REPOSITORY

    return app


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args(argv)
    server = create_server(create_app(), host="127.0.0.1", port=args.port, threads=args.threads)
    print("floor listening on http://127.0.0.1:%s" % server.effective_port, flush=True)
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
