"""The command line: ``hubserver [options]`` serves the application; ``hubserver gc`` collects blobs.

``python -m hubserver``, the ``hubserver`` command and ``python hubserver.py``
in a checkout all run ``main``.
"""

import argparse
import logging
import os
import shutil
import sys
import tempfile

from hubserver import __version__
from hubserver.accounts import AccountsFileError
from hubserver.app import close, create_app
from hubserver.clock import Clock
from hubserver.registry import gc
from hubserver.registry.blobs import BlobStore
from hubserver.serving import make_server, run
from hubserver.settings import DEFAULTS, port, positive_int, stamp
from hubserver.storage import NamespaceStore, StorageError, state

PROG = "hubserver"


def build_parser():
    """Return the command-line parser; defaults come from ``HUB_*`` variables."""
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="A local stand-in for a hosted Docker image repository hub (the /v1/repositories API),"
        " and an image registry (/v2/). '%s gc --data-dir D' removes unreferenced blobs." % PROG,
        epilog="Each option's default can also be set with the environment variable shown.",
    )
    parser.add_argument("--version", action="version", version="%s %s" % (PROG, __version__))
    parser.add_argument(
        "--host",
        default=env("HUB_HOST", "127.0.0.1"),
        help="address to listen on (HUB_HOST; default 127.0.0.1, this machine only)",
    )
    parser.add_argument(
        "--port",
        type=port,
        default=env("HUB_PORT", "5000"),
        help="port to listen on; 0 takes a free one (HUB_PORT; default 5000)",
    )
    parser.add_argument(
        "--data-dir",
        default=env("HUB_DATA_DIR", DEFAULTS["DATA_DIR"]),
        help="folder of the namespace files, created if missing (HUB_DATA_DIR; default ./data)",
    )
    parser.add_argument(
        "--max-body-size",
        type=positive_int,
        metavar="BYTES",
        default=env("HUB_MAX_BODY_SIZE", str(DEFAULTS["MAX_BODY_SIZE"])),
        help="largest request body accepted, in bytes (HUB_MAX_BODY_SIZE; default 1048576)",
    )
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=env("HUB_THREADS", "8"),
        help="requests served at once (HUB_THREADS; default 8)",
    )
    parser.add_argument(
        "--max-blob-size",
        type=positive_int,
        metavar="BYTES",
        default=env("HUB_MAX_BLOB_SIZE", str(DEFAULTS["MAX_BLOB_SIZE"])),
        help="largest blob a /v2/ push may upload, in bytes (HUB_MAX_BLOB_SIZE; default 10 GiB)",
    )
    parser.add_argument(
        "--users",
        metavar="FILE",
        default=env("HUB_USERS"),
        help='turn accounts on: {"users": {"madams": {"password": "...", "orgs": ["acme"], "admin": true}}}'
        " (HUB_USERS)",
    )
    parser.add_argument(
        "--token-ttl",
        type=positive_int,
        metavar="SECONDS",
        default=env("HUB_TOKEN_TTL", str(DEFAULTS["TOKEN_TTL"])),
        help="how long a /v2/ registry token lives, with accounts on (HUB_TOKEN_TTL; default 300)",
    )
    parser.add_argument(
        "--login-rate",
        type=positive_int,
        metavar="N",
        default=env("HUB_LOGIN_RATE", str(DEFAULTS["LOGIN_RATE"])),
        help="failed logins a minute allowed for one user name or from one address, then 429"
        " (HUB_LOGIN_RATE; default 10)",
    )
    controls = parser.add_argument_group("test-double controls")
    controls.add_argument(
        "--seed",
        metavar="PATH",
        default=env("HUB_SEED"),
        help="namespace file, folder of them, or /_hub/state export to start from and reset to;"
        " only ever read (HUB_SEED)",
    )
    controls.add_argument(
        "--ephemeral",
        action="store_true",
        default=env("HUB_EPHEMERAL", "") == "true",
        help="use a fresh temporary data directory, removed at exit; nothing is synced to disk,"
        " since the data dies with the server anyway (HUB_EPHEMERAL=true)",
    )
    controls.add_argument(
        "--frozen-time",
        type=stamp,
        metavar="STAMP",
        default=env("HUB_FROZEN_TIME"),
        help="start the clock frozen at STAMP, e.g. 2015-06-07T10:41:31.882Z (HUB_FROZEN_TIME)",
    )
    controls.add_argument(
        "--journal-size",
        type=positive_int,
        metavar="N",
        default=env("HUB_JOURNAL_SIZE", str(DEFAULTS["JOURNAL_SIZE"])),
        help="requests kept in the journal (HUB_JOURNAL_SIZE; default 1000)",
    )
    controls.add_argument(
        "--no-admin",
        action="store_true",
        default=env("HUB_ADMIN", "") == "false",
        help="turn the /_hub/ controls off: every /_hub/ path is a 404 (HUB_ADMIN=false)",
    )
    return parser


def serve(args, data_dir):
    """Build the app on ``data_dir`` and serve it until SIGINT or SIGTERM; return the exit status."""
    config = {
        "DATA_DIR": data_dir,
        "MAX_BODY_SIZE": args.max_body_size,
        "ADMIN": not args.no_admin,
        "SEED": args.seed,
        "FROZEN_TIME": args.frozen_time,
        "JOURNAL_SIZE": args.journal_size,
        "USERS": args.users,
        "MAX_BLOB_SIZE": args.max_blob_size,
        "TOKEN_TTL": args.token_ttl,
        "LOGIN_RATE": args.login_rate,
        "SYNC": not args.ephemeral,
    }
    try:
        app = create_app(config)
        server = make_server(app, args.host, args.port, args.threads, args.max_blob_size)
    except (OSError, state.InvalidState, StorageError, AccountsFileError) as error:
        print("hubserver: cannot start: %s" % error, file=sys.stderr)
        return 1
    print("hubserver listening on http://%s:%s" % (args.host, server.effective_port), flush=True)
    try:
        run(server)
    finally:
        close(app)
    return 0


def collect_garbage(argv):
    """``hubserver gc --data-dir D``: remove blobs no manifest references; report what was freed."""
    parser = argparse.ArgumentParser(prog=PROG + " gc", description=collect_garbage.__doc__.split(": ", 1)[1])
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("HUB_DATA_DIR", DEFAULTS["DATA_DIR"]),
        help="the data directory (HUB_DATA_DIR; default ./data)",
    )
    args = parser.parse_args(argv)
    store = NamespaceStore(args.data_dir, Clock())
    count, freed = gc.collect(store, BlobStore(store.data_dir, DEFAULTS["MAX_BLOB_SIZE"]))
    print("removed %d unreferenced blob(s), %d bytes" % (count, freed))
    return 0


def main(argv=None):
    """Run the server until SIGINT or SIGTERM (or the gc command); return the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["gc"]:
        return collect_garbage(argv[1:])
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if not args.ephemeral:
        return serve(args, args.data_dir)
    data_dir = tempfile.mkdtemp(prefix="hubserver-")
    try:
        return serve(args, data_dir)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
