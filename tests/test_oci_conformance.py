"""The OCI distribution spec's own conformance program against a real server: no failure, no skip.

The program is ``../shared/oci/conformance`` beside the checkout (a static
binary of opencontainers/distribution-spec's ``conformance/``). Each run is
one set of its tests against a fresh server: the suite's defaults, and every
optional API and data set on (sparse manifests need ``--sparse-manifests``),
with accounts off and on (the Bearer flow). Where the program is missing,
these tests skip, saying where it is looked for.
"""

import json
import os
import re
import subprocess

import pytest

from helpers import PROJECT, running_server

CONFORMANCE = PROJECT.parent / "shared" / "oci" / "conformance"
DEFAULTS = {"OCI_VERSION": "1.1", "OCI_DATA_SHA512": "true", "OCI_DATA_NONDISTRIBUTABLE": "true"}
EVERYTHING = {
    "OCI_VERSION": "dev",
    "OCI_API_BLOBS_DIGEST_HEADER": "true",
    "OCI_API_BLOBS_MOUNT_ANONYMOUS": "true",
    "OCI_API_BLOBS_UPLOAD_CANCEL": "true",
    "OCI_API_MANIFESTS_DIGEST_HEADER": "true",
    "OCI_API_MANIFESTS_TAG_PARAM": "true",
    "OCI_DATA_SPARSE": "true",
    "OCI_DATA_SHA512": "true",
    "OCI_DATA_NONDISTRIBUTABLE": "true",
    "OCI_DATA_EMPTY_BLOB": "true",
}
USER, PASSWORD = "tester", "conformance-password"
COUNT = re.compile(r"^\s*(Pass|FAIL|Skip|Error)\.+:\s+(\d+)\s*$", re.MULTILINE)

pytestmark = pytest.mark.skipif(
    not os.access(CONFORMANCE, os.X_OK), reason="the OCI conformance program is not at %s" % CONFORMANCE
)


@pytest.mark.parametrize("accounts", [False, True], ids=["accounts off", "accounts on"])
@pytest.mark.parametrize(
    ("tests", "server_options"),
    [(DEFAULTS, []), (EVERYTHING, ["--sparse-manifests"])],
    ids=["the suite's defaults", "everything on"],
)
def test_the_conformance_suite_reports_no_failure_and_no_skip(tmp_path, tests, server_options, accounts):
    environment = {**os.environ, **tests}
    if accounts:
        users = tmp_path / "users.json"
        users.write_text(json.dumps({"users": {USER: {"password": PASSWORD, "orgs": ["myorg"]}}}))
        server_options = [*server_options, "--users", str(users)]
        environment.update(OCI_USERNAME=USER, OCI_PASSWORD=PASSWORD)
    with running_server(tmp_path / "data", "--quiet", *server_options) as (_, url):
        environment.update(
            OCI_REGISTRY=url.split("//", 1)[1],
            OCI_TLS="disabled",
            OCI_REPO1="myorg/myrepo",
            OCI_REPO2="myorg/other",
            OCI_RESULTS_DIR=str(tmp_path / "results"),
            OCI_LOG="warn",
        )
        run = subprocess.run(
            [str(CONFORMANCE)], env=environment, cwd=tmp_path, capture_output=True, text=True, timeout=600
        )
    counts = {name: int(count) for name, count in COUNT.findall(run.stdout)}
    failed = [line for line in run.stderr.splitlines() + run.stdout.splitlines() if "failed test" in line]
    assert (run.returncode, counts.get("FAIL"), counts.get("Error"), counts.get("Skip")) == (0, 0, 0, 0), failed[:20]
    assert counts["Pass"] > 800
