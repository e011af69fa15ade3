"""Searching a namespace's repositories: ``name=`` and ``ordering=``, as on hosted hubs."""

# What each ordering sorts by: its stored key.
ORDERINGS = {"name": "repo_name", "last_updated": "updated", "pull_count": "download"}


class InvalidOrdering(ValueError):
    """An ordering that is not one of ORDERINGS, optionally with a leading ``-``."""

    def __init__(self):
        super().__init__(
            "Select a valid ordering: name, last_updated or pull_count, each optionally with a"
            " leading - (descending), several joined by commas."
        )


def parse_ordering(text):
    """Return [(stored key, descending), ...] for an ``ordering`` value; [] for none."""
    keys = []
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        descending = part.startswith("-")
        key = ORDERINGS.get(part.lstrip("-") if descending else part)
        if key is None or part.startswith("--"):
            raise InvalidOrdering()
        keys.append((key, descending))
    return keys


def select(repositories, name=None, ordering=()):
    """Return the repositories whose name contains ``name`` (any case), in ``ordering``.

    Without an ordering, or between equals, creation order stands.
    """
    if name:
        wanted = name.casefold()
        repositories = [repository for repository in repositories if wanted in repository["repo_name"].casefold()]
    if ordering:
        repositories = list(repositories)
        for key, descending in reversed(ordering):  # stable sorts, least significant first
            repositories.sort(key=lambda repository: repository[key], reverse=descending)
    return repositories
