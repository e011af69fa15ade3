"""The store: repositories and their tags, read and changed by name, over a NamespaceBackend.

Reads ask the backend for the namespace's current repositories; changes are
the edits of ``storage.model``, applied by the backend. A name that cannot be
a namespace holds nothing, and cannot be changed.
"""

from hubserver.names import is_namespace
from hubserver.storage import document, model
from hubserver.storage.files import FileNamespaces
from hubserver.storage.model import EMPTY


class NamespaceStore:
    """Repositories and their tags, kept by ``backend`` (storage.backend.NamespaceBackend), stamped by ``clock``."""

    def __init__(self, backend, clock):
        self.backend = backend
        self._edits = model.Edits(clock)

    @classmethod
    def on_disk(cls, data_dir, clock, **options):
        """Return a store of the data directory ``data_dir`` (options: those of FileNamespaces)."""
        return cls(FileNamespaces(data_dir, **options), clock)

    def _repositories(self, namespace):
        """Return the current Repositories of ``namespace``."""
        if not is_namespace(namespace):
            return EMPTY  # nothing can exist under a name that is no namespace
        return self.backend.current(namespace)

    # Reads

    def list_repositories(self, namespace, public_only=False):
        """Return the repositories of ``namespace`` (or its public ones), oldest first, as a sequence."""
        repositories = self._repositories(namespace)
        return repositories.public() if public_only else repositories.in_order()

    def get_repository(self, namespace, repo_name):
        """Return one repository; RepositoryNotFound if there is none."""
        return model.existing(self._repositories(namespace).by_name, namespace, repo_name)

    def find_repository(self, namespace, repo_name):
        """Return one repository, or None if there is none."""
        return self._repositories(namespace).by_name.get(repo_name)

    def list_tags(self, namespace, repo_name):
        """Return the tags of a repository in the order they were first written."""
        return self.get_repository(namespace, repo_name)["tags"]

    def get_tag(self, namespace, repo_name, tag):
        """Return one tag; TagNotFound if the repository has no such tag."""
        return model.tag_of(self._repositories(namespace).by_name, namespace, repo_name, tag)

    def namespace_names(self):
        """Return the names of the namespaces that exist, sorted."""
        return self.backend.names()

    def export_namespace(self, namespace):
        """Return the namespace's document, as its file holds it (parsed)."""
        return document.as_document(namespace, self.list_repositories(namespace))

    # Changes

    def create_repository(self, namespace, repo_name, description="", full_description="", is_public=True):
        """Create a repository; RepositoryExists if the name is taken."""
        return self._apply(self._edits.create(namespace, repo_name, description, full_description, is_public))

    def update_repository(self, namespace, repo_name, **changes):
        """Change some of description, full_description, is_public and logo."""
        return self._apply(self._edits.update(namespace, repo_name, changes))

    def delete_repository(self, namespace, repo_name):
        """Delete a repository and its tags."""
        self._apply(self._edits.delete(namespace, repo_name))

    def put_tag(self, namespace, repo_name, tag, image_id):
        """Point ``tag`` at ``image_id``, counting a push; return (tag, created)."""
        return self._apply(self._edits.put_tag(namespace, repo_name, tag, image_id))

    def delete_tag(self, namespace, repo_name, tag):
        """Delete one tag; TagNotFound if there is no such tag."""
        self._apply(self._edits.delete_tag(namespace, repo_name, tag))

    def star_repository(self, namespace, repo_name, user, starred):
        """Add (``starred``) or take back ``user``'s star; stars do not change ``updated``."""
        self._apply(self._edits.star(namespace, repo_name, user, starred))

    def count_pull(self, namespace, repo_name):
        """Count a pull: ``download`` up by one, ``pulled_at`` now; ``updated`` stays."""
        self._apply(self._edits.count_pull(namespace, repo_name))

    def record_manifest(self, namespace, repo_name, manifest, tags=()):
        """Keep a pushed manifest ({digest, media_type, size}); point each of ``tags`` at it.

        A repository that does not exist yet is created (public, empty
        description), as hosted hubs do on a push. Each tag counts as a push
        of that tag.
        """
        self._apply(self._edits.record_manifest(namespace, repo_name, manifest, tags))

    def record_fetched(self, namespace, repo_name, manifest, tag=None):
        """Keep a manifest the mirror fetched from its upstream; point ``tag`` (if any) at it, as the upstream's.

        The repository is made if need be, as by a push; the tag counts as a
        push, and stays the upstream's until it is pushed here.
        """
        self._apply(self._edits.record_fetched(namespace, repo_name, manifest, tag))

    def link_blob(self, namespace, repo_name, digest):
        """Record that the blob ``digest`` was uploaded or mounted into a repository (made if need be)."""
        known = self.find_repository(namespace, repo_name)
        if known is None or digest not in known["blobs"]:  # linked already: nothing to write
            self._apply(self._edits.link_blob(namespace, repo_name, digest))

    def unlink_blob(self, namespace, repo_name, digest):
        """Forget that a blob was uploaded or mounted into a repository; tell whether it was."""
        return self._apply(self._edits.unlink_blob(namespace, repo_name, digest))

    def delete_manifest(self, namespace, repo_name, digest):
        """Forget a manifest and every tag pointing at it; ManifestNotFound if unknown."""
        self._apply(self._edits.delete_manifest(namespace, repo_name, digest))

    def _apply(self, edit):
        """Have the backend apply ``edit``; return its result.

        An edit of a repository that must exist is refused before it is
        queued when there is none, so a request for a name that cannot exist
        never creates a namespace; the edit checks again when it is applied.
        """
        if edit.must_exist:
            self.get_repository(edit.namespace, edit.repo_name)
        if not is_namespace(edit.namespace):
            raise ValueError("not a namespace name: %r" % (edit.namespace,))
        return self.backend.apply(edit.namespace, edit)

    def replace_namespace(self, namespace, repositories):
        """Replace a namespace's state with ``repositories`` (by name), or remove it for None."""
        self.replace_namespaces({namespace: repositories})

    def replace_namespaces(self, replacements):
        """Replace several namespaces at once, all or nothing: {namespace: repositories by name, or None}."""
        self.backend.replace(replacements)

    def close(self):
        """Finish the backend's work at a clean stop."""
        self.backend.close()
