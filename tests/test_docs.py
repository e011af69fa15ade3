"""The reference cannot drift: every route, option and setting appears in docs/api.md."""

import re
import tempfile

import pytest

import hubserver
from hubserver import cli, limits, serving
from hubserver.controls import journal
from hubserver.settings import SETTINGS

from helpers import PROJECT

REFERENCE = (PROJECT / "docs" / "api.md").read_text("utf-8")


def documented_form(rule):
    """Return a rule as the reference writes it: with its trailing slash, without converters,
    and with both shapes of a registry name written ``<name>``."""
    is_file = "." in rule.rsplit("/", 1)[-1]  # /static/hubserver.css has no slash form
    rule = re.sub(r"<\w+:(\w+)>", r"<\1>", rule if is_file else rule.rstrip("/") + "/")
    return re.sub(r"^/v2/(<namespace>/)?<repo_name>/", "/v2/<name>/", rule)


def routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint != "static":
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, documented_form(rule.rule)


with tempfile.TemporaryDirectory() as folder:
    ROUTES = sorted(set(routes(hubserver.create_app({"DATA_DIR": folder}))))


@pytest.mark.parametrize("method, path", ROUTES)
def test_every_route_is_in_the_endpoint_table(method, path):
    rows = [line for line in REFERENCE.splitlines() if "`%s`" % path in line and line.startswith("|")]
    assert any(re.search(r"\b%s\b" % method, row) for row in rows), "%s %s is not documented" % (method, path)


@pytest.mark.parametrize("action", cli.build_parser()._actions, ids=lambda action: action.dest)
def test_every_option_is_documented(action):
    for flag in action.option_strings:
        assert "`%s`" % flag in REFERENCE, flag


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda setting: setting.key)
def test_every_setting_is_documented_with_its_variable_and_flag(setting):
    variable = re.compile(r"`%s\b" % setting.env)  # `HUB_PORT`, or `HUB_QUIET=true`
    rows = [line for line in REFERENCE.splitlines() if line.startswith("|") and variable.search(line)]
    assert rows, "%s is not in an options table" % setting.env
    if setting.flag:
        assert any("`%s`" % setting.flag in row for row in rows), "%s is not beside %s" % (setting.flag, setting.env)
    if setting.app:
        assert "| `%s` |" % setting.key in REFERENCE, "%s is not in the table of create_app's settings" % setting.key


def test_ci_runs_the_readme_test_command():
    readme = (PROJECT / "README.md").read_text("utf-8")
    commands = [line.strip() for line in readme.splitlines() if line.startswith("    python3 -m venv")]
    assert len(commands) == 2, "the README's first screen shows the run and test commands"
    run_command, test_command = commands
    assert run_command.endswith("hubserver.py")
    assert test_command in (PROJECT / ".ci" / "run").read_text("utf-8").splitlines()


def test_the_limits_stated_are_the_limits_enforced():
    stated = REFERENCE.split("## Limits", 1)[1].split("\n## ", 1)[0]
    for phrase in (
        "| %d s, then the connection is closed without an answer |" % serving.HEADER_TIMEOUT,
        "| %d s, then it is closed |" % serving.IDLE_TIMEOUT,
        "| open connections | %d;" % serving.CONNECTION_LIMIT,
        "| %d MiB, as in the CNCF registry |" % (limits.MANIFEST_LIMIT // 2**20),
        "| %d MiB, or `--max-body-size` if that is larger |" % (limits.STATE_LIMIT // 2**20),
        "at most %d KiB (else `null`), all kept bodies together at most %d MiB"
        % (journal.BODY_LIMIT // 1024, journal.BODIES_LIMIT // 2**20),
        "a query is cut to %d KiB" % (journal.QUERY_LIMIT // 1024),
    ):
        assert phrase in " ".join(stated.split()), phrase
