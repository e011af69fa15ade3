"""schemathesis fuzzes the live server from its own OpenAPI document: zero failures.

Two runs on one fresh server, positive and negative data, stateful links where
the document has them: the hub API, then the controls. Fault rules the second
run creates never touch /_hub/ paths, and the first run is over by then.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import running_server

ST = Path(sys.executable).with_name("st")
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"

pytestmark = pytest.mark.skipif(not ST.exists() and shutil.which("st") is None, reason="schemathesis is not installed")


@pytest.mark.parametrize("paths", ["^/v1/", "^/_hub/"])
def test_schemathesis_finds_no_failure(tmp_path, paths):
    with running_server(tmp_path / "data") as (process, url):
        result = subprocess.run(
            [
                str(ST if ST.exists() else shutil.which("st")),
                "run",
                url + "/openapi.json",
                "--checks",
                CHECKS,
                "--mode",
                "all",
                "--max-examples",
                "50",
                "--seed",
                "20141119",
                "--include-path-regex",
                paths,
                "--no-color",
                "--report-dir",
                str(tmp_path / "report"),
                "--generation-database",
                "none",
            ],
            capture_output=True,
            text=True,
            timeout=280,
            cwd=tmp_path,  # whatever it keeps stays out of the checkout
        )
    assert result.returncode == 0, result.stdout[-6000:]
