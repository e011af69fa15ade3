"""Start hubserver from its one-file build: the archive's ``__main__.py``.

Importing from a zip compiles every module from source at every start. So the
first start unpacks the archive into a cache folder named after the archive's
sha256 (``$XDG_CACHE_HOME/hubserver/``, else ``~/.cache/hubserver/``) and
compiles it there; every later start of the same archive imports from that
folder, compiled, as from a checkout. Where no cache folder can be made,
hubserver runs from the archive itself, only slower to start. Only the standard
library is used here: nothing of hubserver's is imported until the folder is
chosen.
"""

import hashlib
import os
import sys


def cache_root():
    """Return the folder that holds unpacked archives."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "hubserver")


def unpacked(archive):
    """Return a folder holding ``archive`` unpacked and compiled, made on first use; None if it cannot be."""
    with open(archive, "rb") as file:
        folder = os.path.join(cache_root(), "pyz-" + hashlib.sha256(file.read()).hexdigest()[:32])
    if os.path.isdir(folder):
        return folder
    return unpack(archive, folder)


def unpack(archive, folder):
    """Unpack and compile ``archive`` as ``folder``; return it, or None if it cannot be made."""
    import compileall  # only now: a start that finds the folder made pays for none of these
    import shutil
    import tempfile
    import zipfile

    try:
        os.makedirs(os.path.dirname(folder), exist_ok=True)
        temporary = tempfile.mkdtemp(prefix=".unpacking-", dir=os.path.dirname(folder))
    except OSError:
        return None
    try:
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(temporary)
        compileall.compile_dir(temporary, quiet=2)
        os.rename(temporary, folder)  # whole or not at all: a folder of that name is complete
    except OSError:
        shutil.rmtree(temporary, ignore_errors=True)
        return folder if os.path.isdir(folder) else None  # another start may have made it first
    return folder


def run():
    """Put the unpacked folder (or else the archive) first on the path, and run the command line."""
    archive = os.path.dirname(os.path.abspath(__file__))
    folder = unpacked(archive)
    if folder is not None:
        sys.path = [folder if os.path.abspath(entry) == archive else entry for entry in sys.path]
    from hubserver.cli import main

    return main()


if __name__ == "__main__":
    sys.exit(run())
