"""What the controls under ``/_hub/`` take and answer: marshmallow schemas.

Their fields are the hub API's own DRF-like fields (``hubserver.schemas``), so a
control's error answers have the same shape and wording as the hub API's.
"""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from hubserver import clock
from hubserver.schemas import REQUIRED, Flag, Share, Text, Whole, valid_stored_namespace

# What comes in


def valid_stamp(value):
    if not clock.is_timestamp(value):
        raise ValidationError("Enter a time stamp like 2015-06-07T10:41:31.882Z (UTC, milliseconds, Z).")


class FaultMatchSchema(Schema):
    """Which requests a fault rule matches; every key is optional."""

    method = Text(allow_blank=False)
    path = Text(allow_blank=False, metadata={"description": "a glob with fnmatch rules; * also crosses /"})
    namespace = Text(allow_blank=False)


class FaultActionSchema(Schema):
    """What a fault rule does to a request it matches."""

    status = Whole(validate=validate.Range(min=100, max=599, error="Ensure this value is between 100 and 599."))
    body = fields.Raw(allow_none=True)
    delay_ms = Whole(validate=validate.Range(min=0, max=600_000, error="Ensure this value is between 0 and 600000."))
    reset_connection = Flag()

    @validates_schema
    def _does_something(self, data, **kwargs):
        if not ({"status", "delay_ms"} & set(data) or data.get("reset_connection")):
            raise ValidationError("Give status, delay_ms or reset_connection.", "non_field_errors")
        if data.get("reset_connection") and ("status" in data or "body" in data):
            raise ValidationError("A reset connection has no status or body.", "reset_connection")
        if "body" in data and "status" not in data:
            raise ValidationError("A body needs a status.", "body")


class FaultSchema(Schema):
    """Body of POST /_hub/faults."""

    match = fields.Nested(FaultMatchSchema, load_default=dict)
    action = fields.Nested(FaultActionSchema, required=True, error_messages={"required": REQUIRED})
    times = Whole(validate=validate.Range(min=1, error="Ensure this value is greater than or equal to 1."))
    probability = Share(
        validate=validate.Range(min=0, max=1, min_inclusive=False, error="Ensure 0 < probability <= 1.")
    )

    @validates_schema
    def _times_or_probability(self, data, **kwargs):
        if "times" in data and "probability" in data:
            raise ValidationError("Give times or probability, not both.", "non_field_errors")


class ClockChangeSchema(Schema):
    """Body of PUT /_hub/clock: exactly one of now, advance_ms and frozen."""

    now = Text(validate=valid_stamp)
    advance_ms = Whole(validate=validate.Range(min=0, error="Ensure this value is greater than or equal to 0."))
    frozen = Flag()

    @validates_schema
    def _exactly_one(self, data, **kwargs):
        if len(data) != 1:
            raise ValidationError("Give exactly one of now, advance_ms and frozen.", "non_field_errors")


class JournalQuerySchema(Schema):
    """Query of GET /_hub/requests."""

    method = Text(allow_blank=False)
    path_prefix = Text()
    namespace = Text()
    limit = Whole(validate=validate.Range(min=0, error="Ensure this value is greater than or equal to 0."))


class ResetQuerySchema(Schema):
    """Query of POST /_hub/reset."""

    namespace = Text(allow_blank=False, validate=valid_stored_namespace)


# What goes out: what the document promises (the views build these answers as
# plain dicts; the schemathesis run checks they agree).


class HealthSchema(Schema):
    status = fields.String()


class ClockSchema(Schema):
    now = fields.String()
    frozen = fields.Boolean()


class JournalEntrySchema(Schema):
    time = fields.String()
    method = fields.String()
    path = fields.String()
    query = fields.String()
    status = fields.Integer(allow_none=True)
    namespace = fields.String(allow_none=True)
    body = fields.Raw(allow_none=True)


class JournalSchema(Schema):
    count = fields.Integer()
    requests = fields.List(fields.Nested(JournalEntrySchema))


class FaultRuleSchema(Schema):
    id = fields.Integer()
    match = fields.Dict()
    action = fields.Dict()
    times = fields.Integer(allow_none=True)
    probability = fields.Float(allow_none=True)
    times_left = fields.Integer(allow_none=True)


class FaultListSchema(Schema):
    faults = fields.List(fields.Nested(FaultRuleSchema))


class StateSchema(Schema):
    """A /_hub/state document: the namespace documents as their files hold them."""

    format = fields.Integer()
    namespaces = fields.List(fields.Dict())


# Built once and reused by every request.
FAULT = FaultSchema()
CLOCK_CHANGE = ClockChangeSchema()
JOURNAL_QUERY = JournalQuerySchema()
RESET_QUERY = ResetQuerySchema()
