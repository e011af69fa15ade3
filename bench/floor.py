"""The benchmark's floor: a bare Flask endpoint answering a repository-sized JSON object.

Served by waitress with the same settings as hubserver, so the difference
between this and hubserver is what hubserver itself costs. ``POST /posted``
is the floor of a write that keeps nothing: it parses a JSON body and answers
the object with its ``repo_name``, 201, as a create does. With ``--log-dir``
it also has the floor of a durable write: ``POST /synced`` appends the body,
as one line, to a file in that folder and syncs it (fdatasync) before it
answers, which is the least a write that survives a crash costs on that disk.
Run: python bench/floor.py --port 0 [--threads 8] [--log-dir FOLDER]
"""

import argparse
import os
import sys
import threading

from flask import Flask, request
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


def create_app(log_dir=None):
    """Return a Flask app with Flask's defaults, its GET endpoint, and with ``log_dir`` its synced POST."""
    app = Flask(__name__)
    app.json.sort_keys = False

    @app.get("/repository")
    def repository():
        return REPOSITORY

    @app.post("/posted")
    def posted():
        return {**REPOSITORY, "repo_name": request.get_json()["repo_name"]}, 201

    if log_dir is not None:
        add_synced_append(app, os.path.join(log_dir, "floor.log"))
    return app


def add_synced_append(app, path):
    """Give ``app`` POST /synced: the body appended to ``path`` as one line, and synced, before a 201."""
    log = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    sync = getattr(os, "fdatasync", os.fsync)
    one_writer = threading.Lock()

    @app.post("/synced")
    def synced():
        line = request.get_data() + b"\n"
        with one_writer:
            os.write(log, line)
            sync(log)
        return REPOSITORY, 201


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--log-dir", help="a folder for POST /synced's file (without it, no POST /synced)")
    args = parser.parse_args(argv)
    server = create_server(create_app(args.log_dir), host="127.0.0.1", port=args.port, threads=args.threads)
    print("floor listening on http://127.0.0.1:%s" % server.effective_port, flush=True)
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
