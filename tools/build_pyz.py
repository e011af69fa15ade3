"""Build ``dist/hubserver.pyz``: hubserver and every run-time dependency, in one file.

    python tools/build_pyz.py [--output dist/hubserver.pyz]

Run it with the Python whose environment holds the pinned requirements
(``.venv/bin/python tools/build_pyz.py``). The result runs on a bare
interpreter, ``python3 -S -I dist/hubserver.pyz``, Python 3.9 or newer, with
every option of the ``hubserver`` command. Everything in it is pure Python:
markupsafe's compiled speedups are left out, and its own pure-Python fallback
is used. The licence text of hubserver and of every distribution it bundles is
inside, under ``licenses/<distribution>/``. Its ``__main__.py`` is
``tools/pyz_main.py``, which keeps a compiled copy in a cache folder. The
build is reproducible: files in a fixed order, fixed time stamps and modes, so
the same checkout with the same dependencies gives the same bytes wherever it
lies.
"""

import argparse
import importlib.metadata
import io
import sys
import zipfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
PACKAGE = PROJECT / "hubserver"  # hubserver's own code, with its data files
DEPENDENCIES = (
    "flask",
    "werkzeug",
    "jinja2",
    "markupsafe",
    "itsdangerous",
    "click",
    "blinker",
    "marshmallow",
    "packaging",
    "apispec",
    "filelock",
    "waitress",
)
MAIN = Path(__file__).resolve().with_name("pyz_main.py")
LICENCE_NAMES = ("LICENSE", "LICENCE", "COPYING", "NOTICE")
SHEBANG = b"#!/usr/bin/env python3\n"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def own_files():
    """Yield (name in the archive, path) of hubserver's own run-time files."""
    for path in sorted(PACKAGE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            yield path.relative_to(PROJECT).as_posix(), path
    yield "licenses/hubserver/LICENSE", PROJECT / "LICENSE"
    yield "__main__.py", MAIN


def shipped(name):
    """Tell whether a file of a dependency belongs in the archive: pure-Python code and its data."""
    parts = name.split("/")
    if parts[0].endswith((".dist-info", ".data")) or "__pycache__" in parts or parts[0] in ("..", "bin"):
        return False
    return not name.endswith((".so", ".pyd", ".pyc", ".c", ".h"))


def is_licence(name):
    """Tell whether a file of a distribution's metadata is a licence text."""
    parts = name.split("/")
    return parts[0].endswith(".dist-info") and parts[-1].upper().startswith(LICENCE_NAMES)


def dependency_files():
    """Yield (name in the archive, path) of every run-time dependency and its licence texts."""
    for distribution in DEPENDENCIES:
        installed = importlib.metadata.distribution(distribution)
        for name in sorted(str(file) for file in installed.files or ()):
            if shipped(name):
                yield name, Path(installed.locate_file(name))
            elif is_licence(name):
                yield "licenses/%s/%s" % (distribution, name.rsplit("/", 1)[1]), Path(installed.locate_file(name))


def build(output):
    """Write the archive to ``output``; return its size in bytes."""
    entries = dict(dependency_files())
    entries.update(own_files())
    # Folders get entries of their own: zipimport finds a package without an
    # __init__.py (flask.sansio) only through its folder's entry.
    folders = {name.rsplit("/", i)[0] + "/" for name in entries for i in range(1, name.count("/") + 1)}
    buffer = io.BytesIO()
    buffer.write(SHEBANG)
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(set(entries) | folders):
            _add(archive, name, b"" if name in folders else entries[name].read_bytes())
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(buffer.getvalue())
    output.chmod(0o755)
    return output.stat().st_size


def _add(archive, name, data):
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (0o40755 << 16) | 0x10 if name.endswith("/") else 0o644 << 16
    info.create_system = 3  # Unix, whatever the building system is
    archive.writestr(info, data, compresslevel=9)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output",
        type=Path,
        default=PROJECT / "dist" / "hubserver.pyz",
        help="where to write it (default dist/hubserver.pyz)",
    )
    args = parser.parse_args(argv)
    size = build(args.output)
    print("wrote %s (%d bytes)" % (args.output, size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
