"""hubserver's settings, each declared once: its key, flag, environment variable, type, default and help.

The command line (``cli``) builds its options from this table; the application
factory (``create_app``) takes its defaults from it, then the ``HUB_*``
environment variables, read and checked by each setting's type, then the
caller's mapping; the docs test checks that every one is documented.
"""

from hubserver.clock import parse_timestamp
from hubserver.storage import BACKENDS

BOOLEANS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}
LOG_FORMATS = ("common", "json")
LOG_LEVELS = ("debug", "info", "warning", "error")


class SettingError(ValueError):
    """A value that is not of its setting's type; the message names where it came from and what it must be."""


def port(text):
    """Return a port number, 0 to 65535; ValueError otherwise."""
    number = int(text)
    if not 0 <= number <= 65535:
        raise ValueError(text)
    return number


def positive_int(text):
    """Return a whole number above 0; ValueError otherwise."""
    value = int(text)
    if value <= 0:
        raise ValueError(text)
    return value


def positive_number(text):
    """Return a number above 0; ValueError otherwise."""
    value = float(text)
    if not value > 0:
        raise ValueError(text)
    return value


def boolean(text):
    """Return True or False for 1/0, true/false, yes/no, on/off, in any case; ValueError otherwise."""
    if isinstance(text, bool):
        return text
    try:
        return BOOLEANS[str(text).strip().lower()]
    except KeyError:
        raise ValueError(text) from None


def stamp(text):
    """Return a time stamp unchanged if it is one; ValueError otherwise."""
    parse_timestamp(text)
    return text


def text(value):
    """Return a value as text."""
    return str(value)


def choice(*allowed):
    """Return a type taking one of ``allowed``, in any case."""

    def pick(value):
        if str(value).lower() not in allowed:
            raise ValueError(value)
        return str(value).lower()

    pick.__name__ = "one of " + ", ".join(allowed)
    return pick


# argparse, and SettingError, name a value's type by its function's name.
port.__name__ = "port number (0 to 65535)"
positive_int.__name__ = "positive whole number"
positive_number.__name__ = "positive number"
boolean.__name__ = "boolean (1/0, true/false, yes/no or on/off)"
stamp.__name__ = "time stamp like 2015-06-07T10:41:31.882Z"
text.__name__ = "text"


def _described(kind):
    """Return what a value of ``kind`` is, as a sentence says it: "a port number", "one of json, common"."""
    name = kind.__name__
    return name if name.startswith("one of") else "a " + name


class Setting:
    """One setting. ``flag`` is its command-line option (None: none); ``app``: whether create_app reads it.

    A boolean setting's flag turns it on, or, with ``inverted``, off
    (``--no-admin``).
    """

    def __init__(
        self, key, kind, default, help, flag=None, metavar=None, controls=False, app=True, inverted=False, shown=None
    ):
        self.key = key
        self.shown = default if shown is None else shown  # the default as --help and the docs write it
        self.env = "HUB_" + key
        self.kind = kind
        self.default = default
        self.help = help
        self.flag = flag
        self.metavar = metavar
        self.controls = controls
        self.app = app
        self.inverted = inverted

    @property
    def dest(self):
        return self.key.lower()

    def read(self, value, source):
        """Return ``value`` (text from ``source``, a variable or a flag) as this setting's type; SettingError if not."""
        try:
            return self.kind(value)
        except (ValueError, TypeError):
            raise SettingError("%s=%s is not %s" % (source, value, _described(self.kind))) from None

    def from_environment(self, environ):
        """Return the setting's value from ``environ``, or its default; SettingError naming the variable."""
        if self.env not in environ:
            return self.default
        return self.read(environ[self.env], self.env)


SETTINGS = [
    Setting(
        "HOST",
        text,
        "127.0.0.1",
        "address to listen on; the default serves this machine only",
        flag="--host",
        app=False,
    ),
    Setting("PORT", port, 5000, "port to listen on; 0 takes a free one", flag="--port", app=False),
    Setting(
        "DATA_DIR", text, "data", "folder of the namespace files, created if missing", flag="--data-dir", shown="./data"
    ),
    Setting(
        "MAX_BODY_SIZE",
        positive_int,
        1024 * 1024,
        "largest request body accepted, in bytes",
        flag="--max-body-size",
        metavar="BYTES",
    ),
    Setting("THREADS", positive_int, 8, "requests served at once", flag="--threads", app=False),
    Setting(
        "MAX_BLOB_SIZE",
        positive_int,
        10 * 1024**3,
        "largest blob a /v2/ push may upload, in bytes",
        flag="--max-blob-size",
        metavar="BYTES",
        shown="10 GiB",
    ),
    Setting(
        "USERS",
        text,
        None,
        'turn accounts on with this users file: {"users": {"madams": {"password": "...",'
        ' "orgs": ["acme"], "admin": true}}}',
        flag="--users",
        metavar="FILE",
    ),
    Setting(
        "TOKEN_TTL",
        positive_int,
        300,
        "seconds a /v2/ registry token lives, with accounts on",
        flag="--token-ttl",
        metavar="SECONDS",
    ),
    Setting(
        "LOGIN_RATE",
        positive_int,
        10,
        "failed logins a minute allowed for one user name or from one address, then 429",
        flag="--login-rate",
        metavar="N",
    ),
    Setting(
        "LOG_FORMAT",
        choice(*LOG_FORMATS),
        "common",
        "access log lines: common, or json (one JSON object a line)",
        flag="--log-format",
        app=False,
    ),
    Setting(
        "LOG_LEVEL",
        choice(*LOG_LEVELS),
        "info",
        "least important messages shown: debug, info (the access log), warning or error",
        flag="--log-level",
        app=False,
    ),
    Setting("QUIET", boolean, False, "no access log: warnings and errors only", flag="--quiet", app=False),
    Setting(
        "LOCK_TIMEOUT",
        positive_number,
        10.0,
        "seconds to wait for a namespace's lock before answering 503 (for an upload session's, 429)",
    ),
    Setting("SYNC", boolean, True, "sync every write to disk before answering"),
    Setting(
        "SPARSE_MANIFESTS",
        boolean,
        False,
        "take /v2/ manifests and indexes whose blobs and child manifests were not pushed (the spec's sparse"
        " manifests, for a mirror of some platforms of an index)",
        flag="--sparse-manifests",
    ),
    Setting(
        "UPSTREAM",
        text,
        None,
        "mirror the registry at URL: a pull of what is not here is fetched from it and kept"
        " (e.g. https://registry-1.docker.io)",
        flag="--upstream",
        metavar="URL",
    ),
    Setting(
        "UPSTREAM_TTL",
        positive_number,
        300.0,
        "seconds a tag fetched from the upstream is served before the upstream is asked again",
        flag="--upstream-ttl",
        metavar="SECONDS",
        shown="300",
    ),
    Setting(
        "UPSTREAM_TIMEOUT",
        positive_number,
        10.0,
        "seconds to wait for the upstream to connect or send more, before answering without it",
        flag="--upstream-timeout",
        metavar="SECONDS",
        shown="10",
    ),
    Setting(
        "UPSTREAM_CREDENTIALS",
        text,
        None,
        "file holding USERNAME:PASSWORD for the upstream, on one line (instead of the variables"
        " HUB_UPSTREAM_USERNAME and HUB_UPSTREAM_PASSWORD)",
        flag="--upstream-credentials",
        metavar="FILE",
    ),
    Setting("UPSTREAM_USERNAME", text, None, "user name for the upstream (anonymous without)"),
    Setting("UPSTREAM_PASSWORD", text, None, "password for the upstream, with HUB_UPSTREAM_USERNAME"),
    Setting(
        "STORAGE",
        choice(*BACKENDS),
        "files",
        "where the data lives: files (the data directory) or memory (nothing on disk; what --ephemeral uses)",
    ),
    Setting(
        "SEED",
        text,
        None,
        "namespace file, folder of them, or /_hub/state export to start from and reset to; only ever read",
        flag="--seed",
        metavar="PATH",
        controls=True,
    ),
    Setting(
        "EPHEMERAL",
        boolean,
        False,
        "keep everything in memory (the memory storage) instead of --data-dir:"
        " nothing is written to disk, and it all goes at exit",
        flag="--ephemeral",
        controls=True,
        app=False,
    ),
    Setting(
        "FROZEN_TIME",
        stamp,
        None,
        "start the clock frozen at STAMP, e.g. 2015-06-07T10:41:31.882Z",
        flag="--frozen-time",
        metavar="STAMP",
        controls=True,
    ),
    Setting(
        "JOURNAL_SIZE",
        positive_int,
        1000,
        "requests kept in the journal",
        flag="--journal-size",
        metavar="N",
        controls=True,
    ),
    Setting(
        "ADMIN",
        boolean,
        True,
        "the /_hub/ controls; --no-admin turns them off: every /_hub/ path is a 404",
        flag="--no-admin",
        controls=True,
        inverted=True,
    ),
]
BY_KEY = {setting.key: setting for setting in SETTINGS}
DEFAULTS = {setting.key: setting.default for setting in SETTINGS if setting.app}


def app_settings(environ, config=None):
    """Return every application setting, typed: its default, then ``HUB_*`` of ``environ``, then ``config``.

    A value of ``config`` is read by its setting's type as a variable's is
    (SettingError naming the key); keys that are no setting of the table
    (Flask's own) pass unchanged.
    """
    values = dict(DEFAULTS)
    values.update(from_environment(environ))
    for key, value in (config or {}).items():
        setting = BY_KEY.get(key)
        values[key] = value if setting is None or value is None else setting.read(value, key)
    return values


def from_environment(environ):
    """Return the application settings that ``HUB_*`` variables of ``environ`` set, read by type."""
    return {
        setting.key: setting.from_environment(environ) for setting in SETTINGS if setting.app and setting.env in environ
    }
