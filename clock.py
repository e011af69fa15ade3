"""The one clock every time stamp comes from, and the one way stamps are written.

Stamps are UTC, ISO 8601 with milliseconds and ``Z``: ``2014-11-19T05:54:22.741Z``.
Because that form has a fixed width, comparing two stamps as strings compares
the instants they name.
"""

import re
from datetime import datetime, timedelta, timezone

_STAMP_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z", re.ASCII)
_ONE_MILLISECOND = timedelta(milliseconds=1)


def format_timestamp(moment):
    """Render an aware datetime as a stamp, truncated to the millisecond."""
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (utc.microsecond // 1000)


def parse_timestamp(stamp):
    """Read a stamp back into an aware datetime; ValueError if it is not one."""
    if not isinstance(stamp, str) or not _STAMP_PATTERN.fullmatch(stamp):
        raise ValueError("not a time stamp of the form 2014-11-19T05:54:22.741Z: %r" % (stamp,))
    return datetime.fromisoformat(stamp[:-1]).replace(tzinfo=timezone.utc)


def is_timestamp(value):
    """Tell whether ``value`` is a well-formed stamp."""
    try:
        parse_timestamp(value)
    except ValueError:
        return False
    return True


class Clock:
    """Real UTC time, as stamps."""

    def now(self):
        """Return the current time as a stamp."""
        return format_timestamp(datetime.now(timezone.utc))

    def later_than(self, previous):
        """Return now, or one millisecond after ``previous`` if now is not later."""
        now = self.now()
        if previous is None or now > previous:
            return now
        return format_timestamp(parse_timestamp(previous) + _ONE_MILLISECOND)
