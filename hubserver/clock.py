"""The one clock every time stamp comes from, and the one way stamps are written.

Stamps are UTC, ISO 8601 with milliseconds and ``Z``: ``2014-11-19T05:54:22.741Z``.
Because that form has a fixed width, comparing two stamps as strings compares
the instants they name.

The clock runs in real time, or stands frozen at a stamp (for tests that want
the same answers and files on every run), moved only when told.
"""

import re
import threading
from datetime import datetime, timedelta, timezone

_STAMP_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z", re.ASCII)
_ONE_MILLISECOND = timedelta(milliseconds=1)
LATEST = "9999-12-31T23:59:59.999Z"  # the last instant the stamp's four-digit year can write


class BeyondStamps(ValueError):
    """A moment the stamp format cannot write: after the end of year 9999."""

    def __init__(self):
        super().__init__("The clock cannot go past %s, the last time a stamp can write." % LATEST)


def format_timestamp(moment):
    """Render an aware datetime as a stamp, truncated to the millisecond."""
    utc = moment.astimezone(timezone.utc)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (
        utc.year,
        utc.month,
        utc.day,
        utc.hour,
        utc.minute,
        utc.second,
        utc.microsecond // 1000,
    )


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
    """Real UTC time as stamps, or a frozen stamp that moves only when told."""

    def __init__(self, frozen_at=None):
        """Start in real time, or frozen at the stamp ``frozen_at``."""
        self._start = None if frozen_at is None else format_timestamp(parse_timestamp(frozen_at))
        self._frozen = self._start  # the frozen stamp, or None in real time
        self._lock = threading.Lock()

    @property
    def frozen(self):
        """Tell whether the clock stands still."""
        return self._frozen is not None

    def now(self):
        """Return the current time as a stamp."""
        frozen = self._frozen
        return frozen if frozen is not None else format_timestamp(datetime.now(timezone.utc))

    def later_than(self, previous):
        """Return now; in real time, at least one millisecond after ``previous``.

        A frozen clock gives exactly its own time: a test that freezes it wants
        exactly that stamp.
        """
        now = self.now()
        if self.frozen or previous is None or now > previous:
            return now
        if previous == LATEST:
            return LATEST  # at the very end, a stamp can go no further
        return format_timestamp(parse_timestamp(previous) + _ONE_MILLISECOND)

    def freeze(self, stamp):
        """Stop the clock at ``stamp``."""
        with self._lock:
            self._frozen = format_timestamp(parse_timestamp(stamp))

    def advance(self, milliseconds):
        """Move a frozen clock forward; ValueError if it is running, BeyondStamps past year 9999."""
        with self._lock:
            if self._frozen is None:
                raise ValueError("The clock is not frozen.")
            try:
                moved = parse_timestamp(self._frozen) + timedelta(milliseconds=milliseconds)
            except OverflowError:
                raise BeyondStamps() from None
            if moved.year > 9999:
                raise BeyondStamps()
            self._frozen = format_timestamp(moved)

    def unfreeze(self):
        """Return to real time."""
        with self._lock:
            self._frozen = None

    def reset(self):
        """Go back to how the clock started: frozen where it started, or real time."""
        with self._lock:
            self._frozen = self._start
