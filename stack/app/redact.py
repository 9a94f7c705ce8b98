"""Remove PII and secrets from text before it is logged or put on a span.

Patterns run in order: secrets first (they contain digits that the phone and
card patterns would otherwise half-match), then addresses, then numbers.
Each match becomes `[REDACTED:<kind>]`. Erring on the side of redacting a
harmless number is intended.
"""

from __future__ import annotations

import re

_RULES: tuple[tuple[str, str], ...] = (
    ("bearer", r"(?i:\bbearer\s+[A-Za-z0-9._~+/=-]{8,})"),
    ("basic_auth", r"(?i:\bbasic\s+[A-Za-z0-9+/=]{12,})"),
    ("jwt", r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"),
    ("private_key", r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"),
    ("api_key", r"\b(?:sk|pk|rk)[-_](?:live|test|proj|ant)[-_][A-Za-z0-9_-]{8,}"),
    ("api_key", r"\bsk-[A-Za-z0-9_-]{16,}"),
    ("api_key", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    ("api_key", r"\bgh[pousr]_[A-Za-z0-9]{20,}"),
    ("api_key", r"\bgithub_pat_[A-Za-z0-9_]{20,}"),
    ("api_key", r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    ("api_key", r"\bAIza[0-9A-Za-z_-]{30,}"),
    ("api_key", r"\bglpat-[A-Za-z0-9_-]{16,}"),
    ("secret", r"(?i:\b(?:api[_-]?key|secret|token|passw(?:or)?d|pwd|access[_-]?key)\b\s*[:=]\s*[\"']?[^\s\"',;]{4,})"),
    ("url_credentials", r"(?i:\b[a-z][a-z0-9+.-]*://[^\s/:@]+:[^\s/@]+@)"),
    ("email", r"(?i:\b[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b)"),
    ("ipv6", r"(?i:(?<!\w)(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}(?!\w))"),
    ("ipv6", r"(?i:(?<!\w)(?:[0-9a-f]{1,4}:){1,6}:(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,5})?(?!\w))"),
    ("ipv6", r"(?i:(?<![\w:])::(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,6})?(?!\w))"),
    ("ipv4", r"\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b"),
    ("ssn", r"\b\d{3}[- ]\d{2}[- ]\d{4}\b"),
    ("card", r"\b\d(?:[ -]?\d){12,18}\b"),
    ("iban", r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?\b"),
    ("phone", r"(?<![\w+])\+?\(?\d(?:[\s().-]{0,2}\d){7,14}\b"),
)
_PATTERNS = tuple((kind, re.compile(pattern)) for kind, pattern in _RULES)
# Every rule needs a digit, an `@`, a `:` or `=`, or one of these words: text
# without any of them (most span attributes) skips the rules entirely.
_MAYBE_SENSITIVE = re.compile(
    r"[0-9@:=]|(?i:bearer|basic)|eyJ|BEGIN|\b(?:sk|pk|rk)[-_]|AKIA|ASIA|\bgh[pousr]_|github_pat|xox|AIza|glpat")


def redact(text: str) -> str:
    if not _MAYBE_SENSITIVE.search(text):
        return text
    for kind, pattern in _PATTERNS:
        text = pattern.sub(f"[REDACTED:{kind}]", text)
    return text


def redact_value(value: object) -> object:
    """Redact strings, recursively inside lists and dicts; leave numbers and bools alone."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, (list, tuple)):
        return [redact_value(v) for v in value]
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    return value
