"""Fault rules: answer a matching request with an error, a delay or a dropped connection."""

import random
import threading
from fnmatch import fnmatchcase


class FaultRules:
    """The fault rules in force, oldest first."""

    def __init__(self, chance=random.random):
        self._rules = []
        self._next_id = 1
        self._lock = threading.Lock()
        self._chance = chance

    def add(self, match, action, times=None, probability=None):
        """Add a rule; return it as listed, with its ``id``."""
        with self._lock:
            rule = {
                "id": self._next_id,
                "match": match,
                "action": action,
                "times": times,
                "probability": probability,
                "times_left": times,
            }
            self._next_id += 1
            self._rules.append(rule)
            return dict(rule)

    def rules(self):
        """Return the rules, oldest first."""
        with self._lock:
            return [dict(rule) for rule in self._rules]

    def remove(self, rule_id):
        """Remove one rule; tell whether there was such a rule."""
        with self._lock:
            kept = [rule for rule in self._rules if rule["id"] != rule_id]
            removed = len(kept) != len(self._rules)
            self._rules = kept
            return removed

    def clear(self):
        """Remove every rule."""
        with self._lock:
            self._rules = []

    def action_for(self, method, path, namespace):
        """Return the action the oldest matching rule takes on this request, or None.

        A rule with ``times`` counts down and goes once spent; one with a
        ``probability`` acts on that share of the requests it matches.
        """
        if not self._rules:
            return None  # the usual request: no rules at all (a list is read whole or not at all)
        with self._lock:
            rule = next((rule for rule in self._rules if _matches(rule["match"], method, path, namespace)), None)
            if rule is None:
                return None
            if rule["probability"] is not None and self._chance() >= rule["probability"]:
                return None
            if rule["times_left"] is not None:
                rule["times_left"] -= 1
                if rule["times_left"] == 0:
                    self._rules.remove(rule)
            return rule["action"]


def _matches(match, method, path, namespace):
    return (
        ("method" not in match or match["method"].upper() == method)
        and ("path" not in match or fnmatchcase(path, match["path"]))
        and ("namespace" not in match or match["namespace"] == namespace)
    )
