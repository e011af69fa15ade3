"""The compiled answers give exactly what marshmallow's own dump of their schema gives."""

import pytest

from hubserver import schemas
from hubserver.storage import document


def stored(**changes):
    repository = document.new_repository("repo", "2015-05-13T01:04:48.246Z", description="d")
    repository.update(changes)
    return {**repository, "namespace": "madams", "is_repo_starred": False}


SAMPLES = [
    stored(),
    stored(pulled_at="2015-06-07T10:41:31.881Z", download=103, starred_by=["bob", "eve"], is_public=False),
    stored(tags=[{"tag": "latest", "image_id": "a" * 64}], upload=4, pushed_at="2015-05-24T00:54:26.452Z"),
]


@pytest.mark.parametrize(
    "answer",
    [schemas.REPOSITORY_CREATED, schemas.REPOSITORY_UPDATED, schemas.REPOSITORY_DETAIL],
    ids=lambda answer: type(answer.schema).__name__,
)
@pytest.mark.parametrize("sample", SAMPLES)
def test_compiled_answers_equal_marshmallow_dumps(answer, sample):
    compiled = answer.dump(sample)
    assert compiled == answer.schema.dump(sample)
    assert list(compiled) == list(answer.schema.dump(sample))


def test_the_compiled_page_equals_the_marshmallow_page():
    page = {"count": 3, "next": "http://x/?page=2", "previous": None, "results": SAMPLES}
    assert schemas.REPOSITORY_PAGE.dump(page) == schemas.REPOSITORY_PAGE.schema.dump(page)


def test_tags_compile_too():
    tags = [{"tag": "latest", "image_id": "a" * 64}, {"tag": "v1", "image_id": "b" * 64}]
    assert schemas.TAG.dump_many(tags) == schemas.TAG.schema.dump(tags, many=True)


def test_a_field_type_without_a_compiled_dump_is_refused():
    from marshmallow import Schema, fields

    with pytest.raises(TypeError):
        schemas.Answer(Schema.from_dict({"when": fields.DateTime()})())
