"""Login throttling, as DRF throttles: at most ``rate`` failed logins a minute for a user name or from an address.

Only failures count, so a user who logs in right is never slowed by someone
else's failures against another name from another address. Time is real
monotonic time, not the hub's clock: a frozen clock must not freeze a throttle.
"""

import threading
import time
from collections import deque

from hubserver.accounts.errors import Throttled

WINDOW = 60.0  # seconds
KEYS_LIMIT = 10_000  # names and addresses remembered at most


class LoginThrottle:
    """The recent failed logins, by user name and by client address."""

    def __init__(self, rate, now=time.monotonic):
        self.rate = rate
        self._now = now
        self._failures = {}  # key -> deque of failure times, oldest first
        self._lock = threading.Lock()

    def check(self, username, client):
        """Raise Throttled if the user name or the address has had ``rate`` failures in the last minute."""
        now = self._now()
        with self._lock:
            waits = [self._wait(("user", username), now), self._wait(("client", client), now)]
        wait = max(waits)
        if wait > 0:
            raise Throttled(wait)

    def _wait(self, key, now):
        times = self._failures.get(key)
        if times is None:
            return 0
        while times and times[0] <= now - WINDOW:
            times.popleft()
        if len(times) < self.rate:
            return 0
        return times[-self.rate] + WINDOW - now  # until enough of them are a minute old

    def failed(self, username, client):
        """Count a failed login of ``username`` from ``client``."""
        now = self._now()
        with self._lock:
            if len(self._failures) >= KEYS_LIMIT:
                self._forget_old(now)
            for key in (("user", username), ("client", client)):
                self._failures.setdefault(key, deque(maxlen=self.rate)).append(now)

    def _forget_old(self, now):
        for key in [key for key, times in self._failures.items() if not times or times[-1] <= now - WINDOW]:
            del self._failures[key]
