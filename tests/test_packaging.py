"""hubserver as another project gets it: a wheel and an sdist, installed into a venv of their own.

The wheel and the sdist are built offline from a copy of this checkout (what
git would commit), and the wheel is installed into a fresh virtual environment
outside the checkout, its dependencies taken from this environment (wheels.py):
no network. There, the ``hubserver`` command, ``python -m hubserver`` and the
``hub`` fixture of a project that configures nothing must work.
"""

import ast
import importlib.metadata
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import zipfile

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import hubserver

from helpers import LISTENING, PROJECT, send
from wheels import requirement_closure, write_wheel

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

PYPROJECT = tomllib.loads((PROJECT / "pyproject.toml").read_text("utf-8"))

pytestmark = pytest.mark.skipif(
    shutil.which("git") is None or not (PROJECT / ".git").exists(), reason="needs a git checkout"
)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Build the sdist and the wheel from a copy of the checkout; return (sdist, wheel)."""
    folder = tmp_path_factory.mktemp("build")
    source = folder / "source"
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=PROJECT,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        if (PROJECT / name).is_file():  # a file deleted but not yet committed is listed, and absent
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(PROJECT / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(folder / "dist"), str(source)],
        check=True,
        capture_output=True,
    )
    (sdist,) = (folder / "dist").glob("*.tar.gz")
    (wheel,) = (folder / "dist").glob("*.whl")
    return sdist, wheel


@pytest.fixture(scope="module")
def venv(built, tmp_path_factory):
    """A fresh virtual environment outside the checkout, with the wheel, pytest and pytest-xdist installed."""
    folder = tmp_path_factory.mktemp("elsewhere")
    wheels = folder / "wheels"
    wheels.mkdir()
    needed = requirement_closure(["hubserver", "pytest", "pytest-xdist"])
    del needed["hubserver"]  # this environment's hubserver is the checkout; the built wheel goes in instead
    for distribution in needed.values():
        write_wheel(distribution, wheels)
    subprocess.run([sys.executable, "-m", "venv", str(folder / "venv")], check=True)
    bin_folder = folder / "venv" / "bin"
    subprocess.run(
        [
            str(bin_folder / "pip"),
            "install",
            "--quiet",
            "--no-index",
            "--find-links",
            str(wheels),
            str(built[1]),
            "pytest",
            "pytest-xdist",
        ],
        check=True,
        capture_output=True,
    )
    return bin_folder


def top_level_names(wheel):
    with zipfile.ZipFile(wheel) as archive:
        return {name.split("/")[0] for name in archive.namelist() if not name.split("/")[0].endswith(".dist-info")}


def test_the_wheel_holds_only_hubserver_and_the_plugin_at_its_top(built):
    assert top_level_names(built[1]) == {"hubserver", "pytest_hubserver.py"}


def test_the_wheel_holds_the_templates_the_stylesheet_and_the_licence(built):
    with zipfile.ZipFile(built[1]) as archive:
        names = set(archive.namelist())
        metadata = archive.read("hubserver-%s.dist-info/METADATA" % hubserver.__version__).decode()
        entry_points = archive.read("hubserver-%s.dist-info/entry_points.txt" % hubserver.__version__).decode()
    templates = {path.name for path in (PROJECT / "hubserver" / "ui" / "templates").iterdir()}
    assert {"hubserver/ui/templates/" + name for name in templates} <= names
    assert "hubserver/ui/static/hubserver.css" in names
    assert "hubserver-%s.dist-info/licenses/LICENSE" % hubserver.__version__ in names
    assert "License-Expression: MIT" in metadata
    assert "hubserver = hubserver.cli:main" in entry_points
    assert "[pytest11]\npytest_hubserver = pytest_hubserver" in entry_points


def test_the_sdist_holds_the_sources_and_builds_the_same_files(built):
    sdist, wheel = built
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for name in [
        "pyproject.toml",
        "LICENSE",
        "README.md",
        "CHANGELOG.md",
        "pytest_hubserver.py",
        "hubserver/__init__.py",
        "hubserver/ui/templates/base.html",
        "hubserver/ui/static/hubserver.css",
    ]:
        assert name in names, name
    with zipfile.ZipFile(wheel) as archive:  # the build made the wheel from the sdist
        packaged = {name for name in archive.namelist() if not name.split("/")[0].endswith(".dist-info")}
    assert packaged <= names


def test_the_installed_command_starts_and_answers(venv, tmp_path):
    process = subprocess.Popen(
        [str(venv / "hubserver"), "--port", "0", "--data-dir", "data"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        match = LISTENING.fullmatch(process.stdout.readline())
        assert match, process.stderr.read()
        url = match.group(1)
        assert send(url, "POST", "/v1/repositories/madams/", {"repo_name": "repo"}).status == 201
        page = send(url, "GET", "/ui/madams/repo", headers={"Accept": "text/html"})
        assert page.status == 200 and b"madams/repo" in page.body
        assert (tmp_path / "data" / "madams.json").exists()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.stdout.close()
        process.stderr.close()


def test_version_is_one_number_everywhere(venv):
    printed = subprocess.run([str(venv / "hubserver"), "--version"], capture_output=True, text=True, check=True).stdout
    assert printed == "hubserver %s\n" % hubserver.__version__
    installed = subprocess.run(
        [str(venv / "python"), "-c", "import hubserver; print(hubserver.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert installed == hubserver.__version__ + "\n"
    changelog = (PROJECT / "CHANGELOG.md").read_text("utf-8")
    assert re.search(r"^## %s " % re.escape(hubserver.__version__), changelog, re.M), "CHANGELOG.md starts this version"


def test_the_three_ways_to_run_it_give_the_same_help(venv, tmp_path):
    ways = [
        [sys.executable, str(PROJECT / "hubserver.py"), "--help"],
        [str(venv / "python"), "-m", "hubserver", "--help"],
        [str(venv / "hubserver"), "--help"],
    ]
    helps = [subprocess.run(way, cwd=tmp_path, capture_output=True, text=True, check=True).stdout for way in ways]
    assert helps[0].startswith("usage: hubserver ")
    assert helps[0] == helps[1] == helps[2]


FOREIGN_TEST = """
import json
import os
import urllib.request


def create(url, name):
    request = urllib.request.Request(url + "/v1/repositories/madams/", data=json.dumps({"repo_name": name}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    return urllib.request.urlopen(request).status


def record(hub):
    with open(os.path.join(os.environ["SEEN"], os.environ.get("PYTEST_XDIST_WORKER", "main")), "a") as seen:
        seen.write(hub.url + "\\n")


def test_create(hub):
    record(hub)
    assert create(hub.url, "repo") == 201


def test_each_test_starts_from_nothing(hub):
    record(hub)
    assert hub.request("GET", "/v1/repositories/madams/repo")[0] == 404
    assert create(hub.url, "repo") == 201


def test_faults(hub):
    record(hub)
    hub.add_fault(match={"method": "POST"}, status=503, times=1)
    assert hub.request("POST", "/v1/repositories/madams/", {"repo_name": "repo"})[0] == 503
    assert create(hub.url, "repo") == 201


def test_the_clock(hub):
    record(hub)
    hub.freeze("2015-06-07T10:41:31.882Z")
    status, body = hub.request("POST", "/v1/repositories/madams/", {"repo_name": "repo"})
    assert (status, body["creation_time"]) == (201, "2015-06-07T10:41:31.882Z")
"""


@pytest.mark.parametrize("arguments", [[], ["-n", "2"]], ids=["pytest", "pytest -n 2"])
def test_a_foreign_project_gets_the_hub_fixture_with_no_configuration(venv, tmp_path, arguments):
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_my_client.py").write_text(FOREIGN_TEST)
    seen = tmp_path / "seen"
    seen.mkdir()
    result = subprocess.run(
        [str(venv / "pytest"), "-q", "-p", "no:cacheprovider", *arguments],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "SEEN": str(seen)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout
    urls = {worker.name: set(worker.read_text().split()) for worker in seen.iterdir()}
    assert all(len(worker_urls) == 1 for worker_urls in urls.values())  # one server a session (a worker's session)
    if arguments:
        assert set(urls) <= {"gw0", "gw1"}
        assert len(set.union(*urls.values())) == len(urls)  # each worker its own server


def test_every_run_time_dependency_is_pinned_inside_its_declared_range():
    declared = {
        canonicalize_name(Requirement(line).name): Requirement(line) for line in PYPROJECT["project"]["dependencies"]
    }
    pinned = {}
    for line in (PROJECT / "requirements.txt").read_text("utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            (pin,) = [spec.version for spec in requirement.specifier if spec.operator == "=="]
            pinned[canonicalize_name(requirement.name)] = pin
    for name, requirement in declared.items():
        assert name in pinned, "%s is declared in pyproject.toml but not pinned in requirements.txt" % name
        assert requirement.specifier.contains(pinned[name]), "%s==%s is outside %s" % (name, pinned[name], requirement)


def test_every_module_hubserver_imports_is_a_declared_dependency_or_the_standard_library():
    imported = set()
    for path in (PROJECT / "hubserver").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"hubserver"}
    declared = {canonicalize_name(Requirement(line).name) for line in PYPROJECT["project"]["dependencies"]}
    providers = importlib.metadata.packages_distributions()
    assert {canonicalize_name(providers[module][0]) for module in third_party} == declared
