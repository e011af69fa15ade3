"""The whole store as one document: the state export, and seeds read from files.

A state document is ``{"format": 1, "namespaces": [<namespace document>, ...]}``;
a seed is a namespace file, a folder of them, or a state document.
"""

import json
from pathlib import Path

from hubserver.storage import document
from hubserver.text import holds_lone_surrogate

STATE_FORMAT = 1
STATE_KEYS = ("format", "namespaces")


class InvalidState(Exception):
    """A state or seed breaks the format; ``problems`` lists what, and where."""

    def __init__(self, problems):
        super().__init__("; ".join(problems))
        self.problems = problems


def parse_state(state):
    """Return {namespace: repositories by name} from a state document; InvalidState if broken."""
    if not isinstance(state, dict) or sorted(state) != sorted(STATE_KEYS):
        raise InvalidState(["a state is an object with exactly the keys format and namespaces"])
    if type(state["format"]) is not int or state["format"] != STATE_FORMAT:
        raise InvalidState(["format %r is not %d" % (state["format"], STATE_FORMAT)])
    if not isinstance(state["namespaces"], list):
        raise InvalidState(["namespaces is not a list"])
    return _check_all(("namespaces[%d]" % index, item) for index, item in enumerate(state["namespaces"]))


def _check_all(labelled_documents):
    namespaces, problems = {}, []
    for label, item in labelled_documents:
        try:
            repositories = document.check(None, item)
        except document.BrokenDocument as error:
            problems.append("%s: %s" % (label, error))
            continue
        if item["namespace"] in namespaces:
            problems.append("%s: namespace %s appears twice" % (label, item["namespace"]))
        if holds_lone_surrogate(item):
            problems.append("%s: it holds a lone surrogate, which is not text" % label)
        namespaces[item["namespace"]] = repositories
    if problems:
        raise InvalidState(problems)
    return namespaces


def _load(path):
    try:
        return json.loads(Path(path).read_bytes().decode("utf-8"))
    except (OSError, ValueError, RecursionError) as error:
        raise InvalidState(["%s: %s" % (path, error)]) from None


def read_seed(path):
    """Return {namespace: repositories by name} from a seed path; InvalidState if unusable.

    The path is a namespace file, a folder of namespace files (``*.json``), or
    a state export. It is only ever read.
    """
    path = Path(path)
    if path.is_dir():
        return _check_all((str(file), _load(file)) for file in sorted(path.glob("*.json")))
    loaded = _load(path)
    if isinstance(loaded, dict) and "namespaces" in loaded:
        return parse_state(loaded)
    return _check_all([(str(path), loaded)])


def export_state(store):
    """Return the state document of everything ``store`` holds, namespaces sorted by name."""
    return {
        "format": STATE_FORMAT,
        "namespaces": [store.export_namespace(name) for name in store.namespace_names()],
    }


def restore(store, namespaces, only=None):
    """Make ``store`` hold exactly ``namespaces`` ({name: repositories}); other namespaces go.

    With ``only``, a namespace name, that namespace alone is restored. A
    namespace that already holds what it should is not written again.
    """
    names = [only] if only is not None else sorted(set(store.namespace_names()) | set(namespaces))
    store.replace_namespaces({name: namespaces.get(name) for name in names})
