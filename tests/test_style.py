"""The code keeps the house style: ruff's checks and formatting, as pyproject.toml sets them."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import PROJECT

RUFF = Path(sys.executable).with_name("ruff")

pytestmark = pytest.mark.skipif(not RUFF.exists() and shutil.which("ruff") is None, reason="ruff is not installed")


@pytest.mark.parametrize("arguments", [["check"], ["format", "--check"]], ids=["check", "format"])
def test_ruff_finds_nothing_to_change(arguments):
    ruff = str(RUFF if RUFF.exists() else shutil.which("ruff"))
    result = subprocess.run([ruff, *arguments, "--no-cache", "."], cwd=PROJECT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
