"""Installed distributions written back out as wheels, so that a fresh venv installs with no network.

A test that installs hubserver's wheel into a new virtual environment needs its
dependencies too. Rather than fetch them, it takes them from the environment
the tests run in: each installed distribution's files, as its RECORD lists
them, go back into a wheel with a RECORD of their own.
"""

import base64
import hashlib
import importlib.metadata
import re
import zipfile

from packaging.markers import default_environment
from packaging.requirements import Requirement

# What an installer adds to a distribution's metadata, and is no part of a wheel.
INSTALLER_FILES = {"INSTALLER", "REQUESTED", "RECORD", "direct_url.json"}


def requirement_closure(names):
    """Return the installed distributions that ``names`` need, themselves included, by normalized name."""
    environment = {**default_environment(), "extra": ""}
    found, pending = {}, list(names)
    while pending:
        distribution = importlib.metadata.distribution(pending.pop())
        name = _normalized(distribution.metadata["Name"])
        if name in found:
            continue
        found[name] = distribution
        for line in distribution.requires or ():
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate(environment):
                pending.append(requirement.name)
    return found


def write_wheel(distribution, folder):
    """Write ``distribution`` as a wheel into ``folder``; return the wheel's path."""
    name = _normalized(distribution.metadata["Name"]).replace("-", "_")
    info = "%s-%s.dist-info" % (name, distribution.version)
    path = folder / ("%s-%s-%s.whl" % (name, distribution.version, _tag(distribution)))
    records = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as wheel:
        for file in distribution.files:
            if _belongs_in_wheel(file):
                data = file.locate().read_bytes()
                archived = file.as_posix() if not file.parts[0].endswith(".dist-info") else info + "/" + file.name
                wheel.writestr(archived, data)
                digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                records.append("%s,sha256=%s,%d" % (archived, digest, len(data)))
        records.append(info + "/RECORD,,")
        wheel.writestr(info + "/RECORD", "\n".join(records) + "\n")
    return path


def _belongs_in_wheel(file):
    if file.parts[0] == ".." or "__pycache__" in file.parts:  # scripts (made again from the metadata), caches
        return False
    return not (file.parts[0].endswith(".dist-info") and file.name in INSTALLER_FILES)


def _tag(distribution):
    """Return the wheel's compatibility tag, such as ``py3-none-any``, from its WHEEL file."""
    tags = [
        line.split(":", 1)[1].strip()
        for line in distribution.read_text("WHEEL").splitlines()
        if line.startswith("Tag:")
    ]
    pythons = ".".join(dict.fromkeys(tag.split("-")[0] for tag in tags))
    _, abi, platform = tags[0].split("-")
    return "%s-%s-%s" % (pythons, abi, platform)


def _normalized(name):
    return re.sub(r"[-_.]+", "-", name).lower()
