"""What comes in and what goes out: marshmallow schemas that declare the contract.

Incoming fields behave like Django REST Framework's (the original service is a
DRF service): the same coercions and the same error messages. Outgoing schemas
list exactly the keys, in exactly the order, that each seed endpoint answers.
"""

import operator
from types import MappingProxyType

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from hubserver import names

# Error messages, worded as DRF words them.
REQUIRED = "This field is required."
NULL = "This field may not be null."
BLANK = "This field may not be blank."
TOO_LONG = "Ensure this field has no more than {max} characters."
NOT_A_DICT = "Invalid data. Expected a dictionary, but got {type}."

LOGO_FILE = "/static/images/user/default-logo.png"


class Text(fields.String):
    """A string as DRF's CharField takes it: numbers become text, whitespace is trimmed."""

    default_error_messages = {
        "required": REQUIRED,
        "null": NULL,
        "invalid": "Not a valid string.",
        "blank": BLANK,
    }

    def __init__(self, *, allow_blank=True, trim_whitespace=True, **kwargs):
        super().__init__(**kwargs)
        self.allow_blank = allow_blank
        self.trim_whitespace = trim_whitespace

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        text = super()._deserialize(value, attr, data, **kwargs)
        if self.trim_whitespace:
            text = text.strip()
        if not text and not self.allow_blank:
            raise self.make_error("blank")
        return text


class Flag(fields.Boolean):
    """A boolean as DRF's BooleanField takes it ("true", "1", "on", ... in forms)."""

    default_error_messages = {"required": REQUIRED, "null": NULL, "invalid": "Must be a valid boolean."}


class Whole(fields.Integer):
    """A whole number as DRF's IntegerField takes it, with DRF's messages."""

    default_error_messages = {"required": REQUIRED, "null": NULL, "invalid": "A valid integer is required."}

    def __init__(self, **kwargs):
        super().__init__(strict=False, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class Share(fields.Float):
    """A number as DRF's FloatField takes it, with DRF's messages."""

    default_error_messages = {"required": REQUIRED, "null": NULL, "invalid": "A valid number is required."}


def _name_rule(check, message):
    def validator(value):
        if not check(value):
            raise ValidationError(message)

    return validator


NAME_SHAPE = "lowercase letters and digits, in runs joined by single '.', '_' or '-'"
valid_namespace = _name_rule(
    names.is_new_namespace,
    "Enter a valid namespace: %d to %d characters, %%s; not a name Windows keeps for a device"
    " (con, prn, aux, nul, com1 to com9, lpt1 to lpt9)." % names.NAMESPACE_LENGTH % NAME_SHAPE,
)
valid_stored_namespace = _name_rule(
    names.is_namespace,
    "Enter a valid namespace: %d to %d characters, lowercase letters and digits in runs joined by '.', '_', '__'"
    " or dashes; not a name Windows keeps for a device." % names.STORED_NAMESPACE_LENGTH,
)
valid_repo_name = _name_rule(
    names.is_new_repo_name,
    "Enter a valid repository name: %d to %d characters, %%s." % names.REPO_NAME_LENGTH % NAME_SHAPE,
)
valid_tag = _name_rule(
    names.is_tag,
    "Enter a valid tag: 1 to 128 ASCII letters, digits, '_', '.' or '-', not starting with '.' or '-'.",
)
valid_image_id = _name_rule(names.is_image_id, "Enter a valid image id: 64 lowercase hexadecimal digits.")


def _limited_text(limit, **kwargs):
    return Text(validate=validate.Length(max=limit, error=TOO_LONG), **kwargs)


# Incoming bodies


class RepositoryCreateSchema(Schema):
    """Body of POST /v1/repositories/<namespace>/."""

    repo_name = Text(required=True, allow_blank=False, validate=valid_repo_name)
    namespace = Text(allow_blank=False, validate=valid_namespace)
    description = _limited_text(names.TEXT_LIMITS["description"], load_default="")
    full_description = _limited_text(names.TEXT_LIMITS["full_description"], load_default="")
    is_public = Flag(load_default=True)

    @validates_schema(skip_on_field_errors=True)
    def _repo_path_fits(self, data, **kwargs):
        if not names.is_repo_path(data["namespace"], data["repo_name"]):
            raise ValidationError(
                "namespace/repo_name must be at most %d characters." % names.REPO_PATH_MAX_LENGTH,
                "repo_name",
            )


class RepositoryUpdateSchema(Schema):
    """Body of PUT and PATCH /v1/repositories/<namespace>/<repo_name>."""

    repo_name = Text()
    namespace = Text()
    description = _limited_text(names.TEXT_LIMITS["description"])
    full_description = _limited_text(names.TEXT_LIMITS["full_description"])
    is_public = Flag()
    logo = _limited_text(names.TEXT_LIMITS["logo"])


class TagWriteSchema(Schema):
    """Body of PUT /v1/repositories/<namespace>/<repo_name>/tags/<tag>."""

    tag = Text(allow_blank=False, validate=valid_tag)
    image_id = Text(required=True, allow_blank=False, validate=valid_image_id)


class TokenRequestSchema(Schema):
    """Body of POST /v1/generate-api-token/."""

    username = Text(
        required=True, allow_blank=False, validate=validate.Length(max=names.USERNAME_MAX_LENGTH, error=TOO_LONG)
    )
    password = Text(required=True, allow_blank=False, trim_whitespace=False)


def load(schema, body, url_values=MappingProxyType({})):
    """Load a request body; ``url_values`` are the URL's names, which the body may repeat but not change.

    Raises ValidationError with every field's errors, in DRF's shape.
    """
    if body is None:
        raise ValidationError({"non_field_errors": [NULL]})
    if not isinstance(body, dict):
        raise ValidationError({"non_field_errors": [NOT_A_DICT.format(type=type(body).__name__)]})
    errors = {}
    try:
        data = schema.load({**url_values, **body})
    except ValidationError as error:
        errors, data = dict(error.messages), error.valid_data
    for key, expected in url_values.items():
        if key not in errors and data.get(key, expected) != expected:
            errors[key] = ['Must match the URL, which says "%s".' % expected]
    if errors:
        raise ValidationError(errors)
    return data


# Outgoing answers. Each output key, once, with where its value comes from;
# each answer is a list of keys in the order the seed shows them.

_OUTPUT_FIELDS = {
    "repo_name": fields.String,
    "namespace": fields.String,
    "repo_path": lambda: fields.Function(lambda repo: "%s/%s" % (repo["namespace"], repo["repo_name"])),
    "logo_file": lambda: fields.Constant(LOGO_FILE),
    "is_automated": fields.Boolean,
    "description": fields.String,
    "full_description": fields.String,
    "creation_time": lambda: fields.String(attribute="created"),
    "creation_at": lambda: fields.String(attribute="created"),
    "created_at": lambda: fields.String(attribute="created"),
    "updated_time": lambda: fields.String(attribute="updated"),
    "updated_at": lambda: fields.String(attribute="updated"),
    "is_public": fields.Boolean,
    "logo": fields.String,
    "repo_starred_count": lambda: fields.Function(lambda repo: len(repo["starred_by"])),
    "download": fields.Integer,
    "upload": fields.Integer,
    "pulled_at": lambda: fields.String(allow_none=True),
    "pushed_at": lambda: fields.String(allow_none=True),
    "is_repo_starred": fields.Boolean,
    "image_id": fields.String,
    "tag": fields.String,
}


def _answer_schema(name, keys):
    return Schema.from_dict({key: _OUTPUT_FIELDS[key]() for key in keys}, name=name)


RepositoryCreatedSchema = _answer_schema(
    "RepositoryCreated",
    [
        "repo_name",
        "namespace",
        "repo_path",
        "is_automated",
        "description",
        "creation_time",
        "updated_time",
        "is_public",
        "logo",
    ],
)
RepositoryListItemSchema = _answer_schema(
    "RepositoryListItem",
    [
        "repo_name",
        "namespace",
        "repo_path",
        "is_automated",
        "description",
        "creation_at",
        "updated_at",
        "is_public",
        "logo",
        "repo_starred_count",
        "full_description",
        "download",
        "upload",
        "pulled_at",
        "pushed_at",
    ],
)
RepositoryUpdatedSchema = _answer_schema(
    "RepositoryUpdated", ["repo_name", "namespace", "repo_path", "description", "is_public", "logo"]
)
RepositoryDetailSchema = _answer_schema(
    "RepositoryDetail",
    [
        "namespace",
        "repo_name",
        "repo_path",
        "logo_file",
        "description",
        "full_description",
        "repo_starred_count",
        "created_at",
        "updated_at",
        "is_public",
        "logo",
        "is_automated",
        "download",
        "upload",
        "pulled_at",
        "pushed_at",
        "is_repo_starred",
    ],
)
TagSchema = _answer_schema("Tag", ["image_id", "tag"])


class RepositoryPageSchema(Schema):
    """One page of a namespace's repositories, DRF page-number pagination."""

    count = fields.Integer()
    next = fields.String(allow_none=True)
    previous = fields.String(allow_none=True)
    results = fields.List(fields.Nested(RepositoryListItemSchema))


# Answers of the tokens and the errors: what the document promises (the
# views build them as plain dicts; the schemathesis run checks they agree).


class TokenSchema(Schema):
    token = fields.String(metadata={"description": "40 lowercase hex digits"})
    username = fields.String()


class DetailSchema(Schema):
    """Every error not tied to a field: 401, 403, 404, 405, 409, 413, 415, 500, 503, 507."""

    detail = fields.String()


class Answer:
    """An answer schema, with a dump compiled from its fields.

    marshmallow's own dump is general, and costs tens of microseconds an object
    on the hottest paths. Stored values already have the declared types, so an
    answer needs only each declared key, in order, taken from where the schema
    says. The schema stays the one declaration of the answer.
    """

    def __init__(self, schema):
        self.schema = schema
        self._getters = tuple(
            (field.data_key or name, _getter(name, field)) for name, field in schema.dump_fields.items()
        )

    def dump(self, obj):
        """Return the answer for ``obj``: exactly the schema's keys, in its order."""
        return {key: get(obj) for key, get in self._getters}

    def dump_many(self, objs):
        """Return the answers for ``objs``, as a list."""
        return [self.dump(obj) for obj in objs]


def _getter(name, field):
    if isinstance(field, fields.Function):
        return field.serialize_func
    if isinstance(field, fields.Constant):
        return lambda obj, value=field.constant: value
    if isinstance(field, fields.List) and isinstance(field.inner, fields.Nested):
        items = Answer(field.inner.schema)
        return lambda obj, key=field.attribute or name: items.dump_many(obj[key])
    if type(field) in (fields.String, fields.Integer, fields.Boolean):
        return operator.itemgetter(field.attribute or name)
    raise TypeError("no compiled dump for %s field %r" % (type(field).__name__, name))


# Built once and reused by every request.
TOKEN_REQUEST = TokenRequestSchema()
REPOSITORY_CREATE = RepositoryCreateSchema()
REPOSITORY_UPDATE = RepositoryUpdateSchema()
TAG_WRITE = TagWriteSchema()
REPOSITORY_CREATED = Answer(RepositoryCreatedSchema())
REPOSITORY_PAGE = Answer(RepositoryPageSchema())
REPOSITORY_LIST_ITEM = Answer(RepositoryListItemSchema())
REPOSITORY_UPDATED = Answer(RepositoryUpdatedSchema())
REPOSITORY_DETAIL = Answer(RepositoryDetailSchema())
TAG = Answer(TagSchema())
