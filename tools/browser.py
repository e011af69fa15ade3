"""Headless Chromium for hubserver's pages: the DOM a person would see, and screenshots.

Chromium is started with the flags that keep it off the network (this machine,
and a user's test run, should reach nothing but 127.0.0.1), in a fresh profile.
"""

import shutil
import subprocess
import tempfile

OFFLINE_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def chromium():
    """Return the path of Chromium, or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _run(*arguments, timeout=60):
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [chromium(), *OFFLINE_FLAGS, "--user-data-dir=" + profile, *arguments],
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def dump_dom(url):
    """Return the page's DOM after Chromium loaded it."""
    result = _run("--dump-dom", url)
    if result.returncode != 0:
        raise RuntimeError(result.stderr)
    return result.stdout


def screenshot(url, path, width=1280, height=800):
    """Save a PNG of the page at ``width`` x ``height`` CSS pixels."""
    result = _run("--screenshot=%s" % path, "--window-size=%d,%d" % (width, height), url)
    if result.returncode != 0:
        raise RuntimeError(result.stderr)
