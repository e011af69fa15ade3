"""The repository rules: each change of a namespace as an edit of its repositories by name.

Nothing here touches a file, a lock or Flask. A backend (storage.backend)
holds a namespace's repositories as a ``Repositories``, and applies an
``Edit`` to a ``Changes`` over them: the edit reads and changes that mapping
as it would a dict, checks before it changes anything (so an edit that raises
leaves the mapping as it found it, and its error is its own), and returns its
result. Each edit says what it changes (``repo_name``), whether that
repository must exist before it is queued (``must_exist``), and what record
of the change a backend that keeps a log writes (``pushed_tag``: the tag
alone, or None: the whole repository, or its removal). Stored repositories
are shared snapshots: an edit builds new dicts and lists and never edits one
that a reader may hold.
"""

from hubserver.names import digest_of_image, image_id_of, is_digest_reference
from hubserver.storage import document
from hubserver.storage.errors import ManifestNotFound, RepositoryExists, RepositoryNotFound, TagNotFound

UPDATABLE_FIELDS = ("description", "full_description", "is_public", "logo")


class Repositories:
    """One version of a namespace's repositories: by name, and in creation order.

    ``by_name`` is the namespace's mapping, which a backend may update in
    place once a batch is written (``Changes.apply``); the repository dicts
    in it are never edited. The sequences in creation order are made when
    first asked for.
    """

    __slots__ = ("_all", "_public", "by_name")

    def __init__(self, by_name):
        self.by_name = by_name
        self._all = self._public = None

    def in_order(self):
        """Return every repository, in creation order."""
        if self._all is None:
            self._all = tuple(self.by_name.values())  # one C call: no change can come between
        return self._all

    def public(self):
        """Return the public repositories, in creation order."""
        if self._public is None:
            self._public = tuple(repository for repository in self.in_order() if repository["is_public"])
        return self._public


EMPTY = Repositories({})  # a namespace that holds nothing; never changed

_GONE = object()  # in Changes: the repository was deleted


class Changes:
    """A batch's changes to a mapping of repositories by name, kept beside it until they are written.

    The batch's edits read and change this as they would a dict, and the
    mapping stays as it was: a batch that fails to be written leaves nothing
    behind, and none is copied whole. ``apply`` then makes the changes to
    the mapping, in the order they were made, so that the order of creation
    is what a dict would have (a name deleted and made again goes last).
    """

    def __init__(self, by_name):
        self._by_name = by_name
        self._latest = {}  # name -> repository, or _GONE
        self._steps = []  # (name, repository or _GONE), in order

    def get(self, name, default=None):
        found = self._latest.get(name)
        if found is None:
            return self._by_name.get(name, default)
        return default if found is _GONE else found

    def __contains__(self, name):
        return self.get(name) is not None

    def __getitem__(self, name):
        found = self.get(name)
        if found is None:
            raise KeyError(name)
        return found

    def __setitem__(self, name, repository):
        self._latest[name] = repository
        self._steps.append((name, repository))

    def __delitem__(self, name):
        self[name]  # KeyError for a name that is not there, as a dict raises
        self._latest[name] = _GONE
        self._steps.append((name, _GONE))

    def __bool__(self):
        return bool(self._steps)

    def merged(self):
        """Return a new dict: the mapping with the changes made."""
        return self._made_in(dict(self._by_name))

    def apply(self):
        """Make the changes to the mapping itself; return it."""
        return self._made_in(self._by_name)

    def _made_in(self, by_name):
        for name, repository in self._steps:
            if repository is _GONE:
                del by_name[name]
            else:
                by_name[name] = repository
        return by_name


class Edit:
    """One change to the repository ``repo_name`` of ``namespace``: ``change(repositories)`` makes it."""

    __slots__ = ("change", "must_exist", "namespace", "pushed_tag", "repo_name")

    def __init__(self, namespace, repo_name, change, must_exist=False, pushed_tag=None):
        self.namespace = namespace
        self.repo_name = repo_name
        self.change = change
        self.must_exist = must_exist
        self.pushed_tag = pushed_tag  # (tag, image_id) when the change is that tag's push alone

    def __call__(self, repositories):
        return self.change(repositories)


def existing(repositories, namespace, repo_name):
    """Return a repository of ``repositories``; RepositoryNotFound if there is none."""
    repository = repositories.get(repo_name)
    if repository is None:
        raise RepositoryNotFound(namespace, repo_name)
    return repository


def tag_of(repositories, namespace, repo_name, tag):
    """Return one tag entry of a repository; TagNotFound if it has no such tag."""
    for entry in existing(repositories, namespace, repo_name)["tags"]:
        if entry["tag"] == tag:
            return entry
    raise TagNotFound(namespace, repo_name, tag)


def manifest_of(repository, namespace, reference):
    """Return the manifest a tag or a digest names in a repository; ManifestNotFound if there is none."""
    digest = reference
    if not is_digest_reference(reference):
        entry = next((entry for entry in repository["tags"] if entry["tag"] == reference), None)
        digest = None if entry is None else digest_of_image(entry["image_id"])
    found = next((known for known in repository["manifests"] if known["digest"] == digest), None)
    if found is None:
        raise ManifestNotFound(namespace, repository["repo_name"], reference)
    return found


class Edits:
    """The edits of the hub's rules, stamped by ``clock``."""

    def __init__(self, clock):
        self._clock = clock

    def _stamped(self, repositories, namespace, repo_name):
        """Replace a repository in ``repositories`` by a copy stamped as updated; return it."""
        repository = dict(existing(repositories, namespace, repo_name))
        repository["updated"] = self._clock.later_than(repository["updated"])
        repositories[repo_name] = repository
        return repository

    def _pushed_to(self, repositories, repo_name):
        """Return the repository a push goes to, made (public, no description) if it is not there yet."""
        return repositories.get(repo_name) or document.new_repository(repo_name, self._clock.now())

    def create(self, namespace, repo_name, description="", full_description="", is_public=True):
        """Create a repository; RepositoryExists if the name is taken."""

        def add(repositories):
            if repo_name in repositories:
                raise RepositoryExists(namespace, repo_name)
            repository = document.new_repository(repo_name, self._clock.now(), description, full_description, is_public)
            repositories[repo_name] = repository
            return repository

        return Edit(namespace, repo_name, add)

    def update(self, namespace, repo_name, changes):
        """Change some of description, full_description, is_public and logo; TypeError for another field."""
        unknown = set(changes) - set(UPDATABLE_FIELDS)
        if unknown:
            raise TypeError("not updatable: %s" % ", ".join(sorted(unknown)))

        def update(repositories):
            repository = self._stamped(repositories, namespace, repo_name)
            repository.update(changes)
            return repository

        return Edit(namespace, repo_name, update, must_exist=True)

    def delete(self, namespace, repo_name):
        """Delete a repository and its tags."""

        def delete(repositories):
            existing(repositories, namespace, repo_name)
            del repositories[repo_name]

        return Edit(namespace, repo_name, delete, must_exist=True)

    def put_tag(self, namespace, repo_name, tag, image_id):
        """Point ``tag`` at ``image_id``, counting a push; the result is (tag, created)."""

        def put(repositories):
            return self._tag_in(repositories, namespace, repo_name, tag, image_id)

        return Edit(namespace, repo_name, put, must_exist=True, pushed_tag=(tag, image_id))

    def _tag_in(self, repositories, namespace, repo_name, tag, image_id):
        repository = self._stamped(repositories, namespace, repo_name)
        repositories[repo_name], created = document.with_tag(repository, tag, image_id, repository["updated"])
        return {"tag": tag, "image_id": image_id}, created

    def delete_tag(self, namespace, repo_name, tag):
        """Delete one tag; TagNotFound if there is no such tag."""

        def delete(repositories):
            tag_of(repositories, namespace, repo_name, tag)
            repository = self._stamped(repositories, namespace, repo_name)
            _keep_tags(repository, [old for old in repository["tags"] if old["tag"] != tag])

        return Edit(namespace, repo_name, delete, must_exist=True)

    def star(self, namespace, repo_name, user, starred):
        """Add (``starred``) or take back ``user``'s star; stars do not change ``updated``."""

        def star(repositories):
            repository = dict(existing(repositories, namespace, repo_name))
            others = [name for name in repository["starred_by"] if name != user]
            if starred and user not in repository["starred_by"]:
                repository["starred_by"] = others + [user]
            elif not starred:
                repository["starred_by"] = others
            repositories[repo_name] = repository

        return Edit(namespace, repo_name, star, must_exist=True)

    def count_pull(self, namespace, repo_name):
        """Count a pull: ``download`` up by one, ``pulled_at`` now; ``updated`` stays."""

        def pull(repositories):
            repository = dict(existing(repositories, namespace, repo_name))
            repository.update(download=repository["download"] + 1, pulled_at=self._clock.now())
            repositories[repo_name] = repository

        return Edit(namespace, repo_name, pull, must_exist=True)

    # Pushes through /v2/: a repository that does not exist yet is made by its first blob or manifest.

    def record_manifest(self, namespace, repo_name, manifest, tags=()):
        """Keep a pushed manifest ({digest, media_type, size}); point each of ``tags`` at it (each a push)."""

        def record(repositories):
            repository = self._pushed_to(repositories, repo_name)
            if all(known["digest"] != manifest["digest"] for known in repository["manifests"]):
                repository = {**repository, "manifests": [*repository["manifests"], dict(manifest)]}
            repositories[repo_name] = repository
            for tag in tags:
                self._tag_in(repositories, namespace, repo_name, tag, image_id_of(manifest["digest"]))

        return Edit(namespace, repo_name, record)

    def record_fetched(self, namespace, repo_name, manifest, tag=None):
        """Keep a manifest the mirror fetched; point ``tag`` at it, as the upstream's (``fetched_tags``)."""
        record = self.record_manifest(namespace, repo_name, manifest, () if tag is None else (tag,))

        def fetched(repositories):
            record(repositories)
            if tag is not None:
                repository = repositories[repo_name]
                repositories[repo_name] = {**repository, "fetched_tags": [*repository["fetched_tags"], tag]}

        return Edit(namespace, repo_name, fetched)

    def link_blob(self, namespace, repo_name, digest):
        """Record that the blob ``digest`` was uploaded or mounted into a repository."""

        def link(repositories):
            repository = self._pushed_to(repositories, repo_name)
            if digest not in repository["blobs"]:
                repository = {**repository, "blobs": [*repository["blobs"], digest]}
            if repository is not repositories.get(repo_name):
                repositories[repo_name] = repository

        return Edit(namespace, repo_name, link)

    def unlink_blob(self, namespace, repo_name, digest):
        """Forget that a blob was uploaded or mounted into a repository; the result tells whether it was."""

        def unlink(repositories):
            repository = existing(repositories, namespace, repo_name)
            if digest not in repository["blobs"]:
                return False
            repositories[repo_name] = {
                **repository,
                "blobs": [known for known in repository["blobs"] if known != digest],
            }
            return True

        return Edit(namespace, repo_name, unlink, must_exist=True)

    def delete_manifest(self, namespace, repo_name, digest):
        """Forget a manifest and every tag pointing at it; ManifestNotFound if unknown."""

        def delete(repositories):
            current = existing(repositories, namespace, repo_name)
            if all(known["digest"] != digest for known in current["manifests"]):
                raise ManifestNotFound(namespace, repo_name, digest)
            image_id = image_id_of(digest)
            tagged = any(entry["image_id"] == image_id for entry in current["tags"])
            repository = self._stamped(repositories, namespace, repo_name) if tagged else dict(current)
            repository["manifests"] = [known for known in current["manifests"] if known["digest"] != digest]
            _keep_tags(repository, [entry for entry in current["tags"] if entry["image_id"] != image_id])
            repositories[repo_name] = repository

        return Edit(namespace, repo_name, delete, must_exist=True)


def _keep_tags(repository, tags):
    """Set a repository's (copied) tags to ``tags``; the upstream's tags are those of them it had."""
    names = {entry["tag"] for entry in tags}
    repository["tags"] = tags
    repository["fetched_tags"] = [tag for tag in repository["fetched_tags"] if tag in names]
