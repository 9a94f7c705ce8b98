"""Keep every label value inside the catalog's bounds.

A label with `values` maps anything outside the set to `other`. A label with
`max_cardinality` admits the first distinct values it sees and maps the rest
to `other` (so the series count can never grow past the cap, whatever callers
send). `other` itself counts against the cap. A label the catalog does not
declare has no allowed values at all: it is always `other`, never raw.
"""

from __future__ import annotations

import re
import threading

from slokit.model import LabelDef

from slokit_app.redact import looks_sensitive

OTHER = "other"
_PLAIN_ID = re.compile(r"[a-z]+[0-9]*(?:[-_](?:[a-z]+[0-9]*|[0-9]+))*")
MAX_ID_CHARS = 48
MAX_ID_DIGITS = 6


def plain_id(value: str) -> bool:
    """A value safe to emit as a capped label or log as an id."""
    return (len(value) <= MAX_ID_CHARS and _PLAIN_ID.fullmatch(value) is not None
            and sum(c.isdigit() for c in value) <= MAX_ID_DIGITS
            and not looks_sensitive(value))


class LabelBound:
    def __init__(self, definition: LabelDef | None):
        if definition is None:
            self._allowed: frozenset[str] | None = frozenset()
        else:
            self._allowed = frozenset(definition.values) if definition.values is not None else None
        self._cap = definition.max_cardinality if definition else None
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def bound(self, value: object) -> str:
        text = OTHER if value is None else str(value)
        if self._allowed is not None:
            return text if text in self._allowed else OTHER
        if self._cap is None:
            return OTHER  # neither a value set nor a cap: nothing is allowed raw
        if text in self._seen:
            return text
        if not plain_id(text):
            return OTHER
        with self._lock:
            # One slot stays free for `other`.
            if len(self._seen) < self._cap - 1:
                self._seen.add(text)
                return text
        return OTHER


class LabelBounds:
    def __init__(self, labels: dict[str, LabelDef]):
        self._labels = {name: LabelBound(d) for name, d in labels.items()}
        self._undeclared = LabelBound(None)

    def bound(self, label: str, value: object) -> str:
        return self._labels.get(label, self._undeclared).bound(value)
