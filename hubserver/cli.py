"""The command line: ``hubserver [options]`` serves the application; ``hubserver gc`` collects blobs.

``python -m hubserver``, the ``hubserver`` command and ``python hubserver.py``
in a checkout all run ``main``. Every option comes from the settings table
(``hubserver.settings``), with its environment variable as its default. A
start-up failure is one line in words on standard error: exit status 2 for a
bad option or variable, 1 for anything else.
"""

import argparse
import errno
import logging
import os
import socket
import sys

from hubserver import __version__
from hubserver.accounts import AccountsFileError
from hubserver.app import close, create_app
from hubserver.clock import Clock
from hubserver.mirror import UpstreamSettingError
from hubserver.registry import gc
from hubserver.serving import make_server, run
from hubserver.settings import BY_KEY, SETTINGS, SettingError, app_settings, from_environment
from hubserver.storage import StorageError, open_storage, state

PROG = "hubserver"
USAGE = "%(prog)s [options]\n       %(prog)s gc [--data-dir DIR]   (remove the blobs no repository holds)"


class CannotStart(Exception):
    """The server cannot start; the message says why, and what to do."""


def build_parser(environ=None):
    """Return the command-line parser; defaults come from ``HUB_*`` variables (SettingError for a bad one)."""
    environ = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(
        prog=PROG,
        usage=USAGE,
        description="A local stand-in for a hosted Docker image repository hub (the /v1/repositories API),"
        " and an image registry (/v2/).",
        epilog="Each option's default can also be set with the environment variable shown.",
    )
    parser.add_argument("--version", action="version", version="%s %s" % (PROG, __version__))
    controls = parser.add_argument_group("test-double controls")
    for setting in SETTINGS:
        if setting.flag is not None:
            _add_option(controls if setting.controls else parser, setting, setting.from_environment(environ))
    return parser


def _add_option(group, setting, default):
    where = "%s%s" % (setting.env, "" if setting.default is None else "; default %s" % setting.shown)
    if setting.kind.__name__.startswith("boolean"):
        group.add_argument(
            setting.flag,
            dest=setting.dest,
            action="store_false" if setting.inverted else "store_true",
            default=default,
            help="%s (%s=%s)" % (setting.help, setting.env, "false" if setting.inverted else "true"),
        )
        return
    group.add_argument(
        setting.flag,
        dest=setting.dest,
        type=setting.kind,
        metavar=setting.metavar,
        default=default,
        help="%s (%s)" % (setting.help, where),
    )


def parse(argv, environ=None):
    """Return the parsed options; exit 2 with a message for a bad option or variable."""
    try:
        parser = build_parser(environ)
        from_environment(os.environ if environ is None else environ)  # the settings that have no option too
    except SettingError as error:
        argparse.ArgumentParser(prog=PROG, usage=USAGE).error(str(error))
    return parser.parse_args(argv)


def url_of(host, port):
    """Return the base URL a server on ``host``:``port`` answers at (an IPv6 host in brackets)."""
    return "http://%s:%s" % ("[%s]" % host if ":" in host else host, port)


def prepared_data_dir(path):
    """Make sure ``path`` is a folder hubserver can write in; CannotStart saying why not."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise CannotStart("the data directory %s is a file, not a folder (--data-dir)" % path)
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as error:
        raise CannotStart("cannot create the data directory %s: %s (--data-dir)" % (path, error.strerror)) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise CannotStart("cannot write into the data directory %s (--data-dir)" % path)
    return path


def listening_server(app, options):
    """Return the server, bound; CannotStart saying why the address cannot be had."""
    address = "%s:%s" % (options.host, options.port)
    try:
        socket.getaddrinfo(options.host, options.port, type=socket.SOCK_STREAM)  # waitress says only "invalid"
    except socket.gaierror:
        raise CannotStart("%s is not a host name or an address (--host)" % options.host) from None
    try:
        return make_server(app, options.host, options.port, options.threads, options.log_format)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            reason = "%s is already in use" % address
        elif error.errno == errno.EACCES:
            reason = "not allowed to listen on %s (ports below 1024 need privileges)" % address
        elif error.errno == errno.EADDRNOTAVAIL:
            raise CannotStart(
                "%s is not an address of this machine (--host; 127.0.0.1 serves this machine only,"
                " 0.0.0.0 every network)" % options.host
            ) from None
        else:
            raise CannotStart("cannot listen on %s: %s" % (address, error.strerror)) from None
        raise CannotStart(reason + "; choose another --port, or --port 0 for a free one") from None


def app_config(options):
    """Return the application's settings from the options: ``--ephemeral`` keeps everything in memory."""
    config = {setting.key: getattr(options, setting.dest) for setting in SETTINGS if setting.app and setting.flag}
    if options.ephemeral:
        config["STORAGE"] = "memory"
    return config


def serve(options):
    """Build the app and serve it until SIGINT or SIGTERM; return the exit status."""
    try:
        config = app_settings(os.environ, app_config(options))
        if config["STORAGE"] == "files":
            prepared_data_dir(config["DATA_DIR"])
        app = create_app(config)
        server = listening_server(app, options)
    except (CannotStart, OSError, state.InvalidState, StorageError, AccountsFileError, UpstreamSettingError) as error:
        print(
            "hubserver: cannot start: %s" % (error if isinstance(error, CannotStart) else _words(error)),
            file=sys.stderr,
        )
        return 1
    try:
        run(
            server, lambda: print("hubserver listening on %s" % url_of(options.host, server.effective_port), flush=True)
        )
    finally:
        close(app)
    return 0


def _words(error):
    return error.strerror if isinstance(error, OSError) and error.strerror else str(error)


def configure_logging(options):
    """Send the access log and messages to standard error, at the level asked for."""
    level = logging.WARNING if options.quiet else getattr(logging, options.log_level.upper())
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s %(message)s", force=True)
    access = logging.getLogger("hubserver.access")
    access.handlers = [logging.StreamHandler(sys.stderr)]
    access.handlers[0].setFormatter(logging.Formatter("%(message)s"))
    access.propagate = False
    access.setLevel(level)


def collect_garbage(argv):
    """``hubserver gc --data-dir D``: remove the blobs no repository holds; report what was freed."""
    data_dir = BY_KEY["DATA_DIR"]
    parser = argparse.ArgumentParser(prog=PROG + " gc", description=collect_garbage.__doc__.split(": ", 1)[1])
    parser.add_argument(
        "--data-dir",
        default=os.environ.get(data_dir.env, data_dir.default),
        help="the data directory (%s; default ./data)" % data_dir.env,
    )
    args = parser.parse_args(argv)
    storage = open_storage("files", args.data_dir, Clock())
    try:
        count, freed = gc.collect(storage.store, storage.blobs)
    except StorageError as error:
        print("hubserver gc: nothing removed: %s" % error, file=sys.stderr)
        return 1
    print("removed %d unreferenced blob(s), %d bytes" % (count, freed))
    return 0


def main(argv=None):
    """Run the server until SIGINT or SIGTERM (or the gc command); return the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["gc"]:
        return collect_garbage(argv[1:])
    options = parse(argv)
    configure_logging(options)
    return serve(options)
