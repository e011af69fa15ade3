"""Property tests: random sequences of store operations against a plain in-memory model.

The store and the model must give the same answers; so must a second store on
the same directory that has read along all the time (what another process
sees, reading only what each log grew by), and a fresh one. Compaction comes
at random steps, by either store, and writes exactly the model encoded.
"""

import shutil
import tempfile

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from hubserver.clock import Clock
from hubserver.storage import NamespaceStore, RepositoryExists, RepositoryNotFound, TagNotFound, document

NAMES = st.sampled_from(["aa", "bb", "cc", "d-d", "e.e"])
TAGS = st.sampled_from(["latest", "v1", "_x", "1.0"])
IMAGES = st.sampled_from(["a" * 64, "b" * 64, "c" * 64])
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)
STAMP = "2015-06-07T10:41:31.882Z"


class StoreAgainstModel(RuleBasedStateMachine):
    """Drive a store with a frozen clock, and a model of what it should hold."""

    def __init__(self):
        super().__init__()
        self.folder = tempfile.mkdtemp()
        self.store = NamespaceStore(self.folder, Clock(STAMP))
        self.other = NamespaceStore(self.folder, Clock(STAMP))  # another process, reading along
        self.model = {}  # repo_name -> repository, in creation order

    def teardown(self):
        shutil.rmtree(self.folder)

    def outcome(self, action):
        try:
            return action()
        except (RepositoryExists, RepositoryNotFound, TagNotFound) as error:
            return type(error)

    @rule(name=NAMES, description=TEXT, public=st.booleans())
    def create(self, name, description, public):
        got = self.outcome(
            lambda: self.store.create_repository("madams", name, description=description, is_public=public)
        )
        if name in self.model:
            assert got is RepositoryExists
        else:
            self.model[name] = document.new_repository(name, STAMP, description=description, is_public=public)
            assert got == self.model[name]

    @rule(name=NAMES, description=TEXT, logo=TEXT)
    def update(self, name, description, logo):
        got = self.outcome(lambda: self.store.update_repository("madams", name, description=description, logo=logo))
        if name not in self.model:
            assert got is RepositoryNotFound
        else:
            self.model[name] = {**self.model[name], "description": description, "logo": logo}
            assert got == self.model[name]

    @rule(name=NAMES)
    def delete(self, name):
        got = self.outcome(lambda: self.store.delete_repository("madams", name))
        assert got is (RepositoryNotFound if name not in self.model else None)
        self.model.pop(name, None)

    @rule(name=NAMES, tag=TAGS, image=IMAGES)
    def put_tag(self, name, tag, image):
        got = self.outcome(lambda: self.store.put_tag("madams", name, tag, image))
        if name not in self.model:
            assert got is RepositoryNotFound
            return
        repository = dict(self.model[name])
        entry = {"tag": tag, "image_id": image}
        created = all(old["tag"] != tag for old in repository["tags"])
        repository["tags"] = [entry if old["tag"] == tag else old for old in repository["tags"]] + (
            [entry] if created else []
        )
        repository.update(upload=repository["upload"] + 1, pushed_at=STAMP)
        self.model[name] = repository
        assert got == (entry, created)

    @rule(name=NAMES, tag=TAGS)
    def delete_tag(self, name, tag):
        got = self.outcome(lambda: self.store.delete_tag("madams", name, tag))
        if name not in self.model:
            assert got is RepositoryNotFound
        elif all(old["tag"] != tag for old in self.model[name]["tags"]):
            assert got is TagNotFound
        else:
            assert got is None
            self.model[name] = {
                **self.model[name],
                "tags": [old for old in self.model[name]["tags"] if old["tag"] != tag],
            }

    @rule(by_other=st.booleans())
    def compact(self, by_other):
        (self.other if by_other else self.store).compact("madams")
        path = self.store.namespace_path("madams")
        try:
            with open(path, "rb") as stream:
                written = stream.read()
        except FileNotFoundError:
            assert not self.model
            return
        assert written == document.encode("madams", self.model.values())  # what a fresh write gives

    @invariant()
    def same_answers_everywhere(self):
        assert list(self.store.list_repositories("madams")) == list(self.model.values())
        assert list(self.other.list_repositories("madams")) == list(self.model.values())
        fresh = NamespaceStore(self.folder, Clock(STAMP))  # a process that starts now
        assert list(fresh.list_repositories("madams")) == list(self.model.values())


StoreAgainstModel.TestCase.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)
test_the_store_behaves_like_its_model = StoreAgainstModel.TestCase
