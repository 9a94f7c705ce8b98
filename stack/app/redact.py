"""Remove PII and secrets from text before it is logged or put on a span.

Rules run in order: whole structures first (private keys, webhook URLs,
JWTs), then provider keys and credentials (they contain digits that the
number rules would otherwise half-match), then addresses, then checksummed
numbers (IBAN, card), the short numbers that travel with a card (CVV,
expiry), national ids, phones, and last a generic rule for long random
tokens. Each match becomes `[REDACTED:<kind>]`. A rule may carry a check
(Luhn, IBAN mod 97, SSN ranges, DNI letter) so that look-alikes keep their
kind out; redacting a harmless number under another kind is accepted.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _only_digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _card_ok(text: str) -> bool:
    digits = _only_digits(text)
    return 13 <= len(digits) <= 19 and luhn_ok(digits)


def _iban_ok(text: str) -> bool:
    compact = re.sub(r"\s", "", text).upper()
    if not 15 <= len(compact) <= 34:
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def _ssn_ok(text: str) -> bool:
    digits = _only_digits(text)
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area not in ("000", "666") and not area.startswith("9") and group != "00" and serial != "0000"


def _sin_ok(text: str) -> bool:
    return luhn_ok(_only_digits(text))


_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def _dni_ok(text: str) -> bool:
    return _DNI_LETTERS[int(text[:8]) % 23] == text[8].upper()


def shannon_bits(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _random_token(text: str) -> bool:
    """Long tokens that look random: mixed case with digits, or long lowercase
    alphanumerics. 32 lowercase hex characters (uuids, trace ids) are ids, not secrets."""
    has_upper, has_lower = any(c.isupper() for c in text), any(c.islower() for c in text)
    digits = sum(c.isdigit() for c in text)
    if has_upper and has_lower and digits and shannon_bits(text) >= 3.5:
        return True
    core = re.sub(r"[-_]", "", text)
    if len(core) >= 32 and core.isalnum() and core.lower() == core and digits >= 4 and len(core) - digits >= 4:
        return not (len(core) == 32 and re.fullmatch(r"[0-9a-f]+", core)) and shannon_bits(core) >= 3.5
    return False


@dataclass(frozen=True)
class Rule:
    kind: str
    pattern: re.Pattern[str]
    check: Callable[[str], bool] | None = None
    hints: tuple[str, ...] = ()

    def apply(self, text: str) -> str:
        def replace(match: re.Match[str]) -> str:
            value = match.group("v") if "v" in match.re.groupindex else match.group(0)
            if self.check is not None and not self.check(value):
                return match.group(0)
            start, end = match.span("v") if "v" in match.re.groupindex else match.span(0)
            whole = match.group(0)
            offset = match.start(0)
            return whole[:start - offset] + f"[REDACTED:{self.kind}]" + whole[end - offset:]

        return self.pattern.sub(replace, text)


_STREET = (r"Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|"
           r"Square|Sq|Close|Crescent|Highway|Hwy|Parkway")
_NATIONAL_ID_WORDS = (r"ssn|social security(?: number| no)?|sin|nino|national insurance(?: number| no)?|"
                      r"national id(?:entity)?(?: number| no)?|passport(?: number| no)?|"
                      r"driver'?s? licen[cs]e(?: number| no)?|tax id|tin|aadhaar|dni|nie|nif|bsn|"
                      r"personnummer|steuer-?id|codice fiscale|cpf|curp|id number")

# (kind, pattern, check, hints): a rule runs only when its text holds one of its
# hints (lower-cased literals; "#" is any digit), so most short values skip most rules.
_STREET_HINTS = tuple(sorted({w.lower() for w in _STREET.split("|")}))
_NATIONAL_ID_HINTS = ("ssn", "social security", "sin", "nino", "national", "passport", "driver", "licen", "tax id",
                      "tin", "aadhaar", "dni", "nie", "nif", "bsn", "personnummer", "steuer", "codice", "cpf", "curp",
                      "id number")

_RULES_SPEC: tuple[tuple[str, str, Callable[[str], bool] | None, tuple[str, ...]], ...] = (
    ("private_key", r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
                    r"(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|$)", None, ("-----begin",)),
    ("webhook_url", r"(?i:https?://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]+)", None, ("hooks.slack",)),
    ("webhook_url", r"(?i:https?://(?:canary\.|ptb\.)?discord(?:app)?\.com/api/webhooks/\d+/[A-Za-z0-9_-]+)", None, ("discord",)),
    ("webhook_url", r"(?i:https?://[a-z0-9.-]*(?:webhook\.office\.com|logic\.azure\.com)/\S+)", None, ("webhook.office", "logic.azure")),
    ("jwt", r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*", None, ("eyj",)),
    ("bearer", r"(?i:\bbearer\s+[A-Za-z0-9._~+/=-]{8,})", None, ("bearer",)),
    ("basic_auth", r"(?i:\bbasic\s+[A-Za-z0-9+/=]{12,})", None, ("basic",)),
    ("api_key", r"\b(?:sk|pk|rk)[-_](?:live|test|proj|ant)[-_][A-Za-z0-9_-]{8,}", None, ("sk-", "sk_", "pk-", "pk_", "rk-", "rk_")),
    ("api_key", r"\bsk-[A-Za-z0-9_-]{16,}", None, ("sk-",)),
    ("api_key", r"\bhf_[A-Za-z0-9]{20,}", None, ("hf_",)),
    ("api_key", r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA)[0-9A-Z]{16}\b", None, ("akia", "asia", "agpa", "aida", "aroa", "aipa", "anpa", "anva", "abia", "acca")),
    ("api_key", r"\bgh[pousr]_[A-Za-z0-9]{20,}", None, ("gh",)),
    ("api_key", r"\bgithub_pat_[A-Za-z0-9_]{20,}", None, ("github_pat_",)),
    ("api_key", r"\bxox[abposr]-[A-Za-z0-9-]{10,}", None, ("xox",)),
    ("api_key", r"\bxapp-\d-[A-Za-z0-9-]{10,}", None, ("xapp-",)),
    ("api_key", r"\bAIza[0-9A-Za-z_-]{30,}", None, ("aiza",)),
    ("api_key", r"\bya29\.[0-9A-Za-z_-]{20,}", None, ("ya29.",)),
    ("api_key", r"\bGOCSPX-[A-Za-z0-9_-]{20,}", None, ("gocspx-",)),
    ("api_key", r"\bglpat-[A-Za-z0-9_-]{16,}", None, ("glpat-",)),
    ("api_key", r"\bnpm_[A-Za-z0-9]{30,}", None, ("npm_",)),
    # Azure AD client secrets: three characters, a digit, `Q~`, then 31-34 more.
    ("api_key", r"(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])", None, ("q~",)),
    # Azure storage / service bus connection strings and SAS signatures.
    ("secret", r"(?i:\b(?:AccountKey|SharedAccessKey|SharedAccessSignature)=[^;\s]+)", None, ("accountkey", "sharedaccess")),
    ("secret", r"(?i:[?&](?:sig|signature|token|access_token|api[_-]?key|apikey|key|secret|password|code)=[^&\s#]+)",
     None, ("=",)),
    ("secret", r"(?i:\b\w*?(?:api[_-]?key|secret|token|passw(?:or)?d|pwd|access[_-]?key|private[_-]?key|"
               r"client[_-]?secret|credential)s?\b[\"']?\s*[:=]\s*[\"']?[^\s\"',;]{4,})", None, (":", "=")),
    ("url_credentials", r"(?i:\b[a-z][a-z0-9+.-]*://[^\s/:@]+:[^\s/@]+@)", None, ("://",)),
    ("email", r"(?i:\b[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b)", None, ("@",)),
    ("ipv6", r"(?i:(?<!\w)(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}(?!\w))", None, (":",)),
    ("ipv6", r"(?i:(?<!\w)(?:[0-9a-f]{1,4}:){1,6}:(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,5})?(?!\w))", None, (":",)),
    ("ipv6", r"(?i:(?<![\w:])::(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,6})?(?!\w))", None, (":",)),
    ("ipv4", r"\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b", None, ("#",)),
    ("address", rf"\b\d{{1,5}}[A-Za-z]?,?\s+(?:[A-Z][A-Za-z'.-]*\s+){{1,4}}(?:{_STREET})\b\.?", None, _STREET_HINTS),
    ("address", r"\b[A-ZÄÖÜ][a-zäöüß]+(?:straße|strasse|weg|gasse|platz|allee)\s+\d{1,4}[a-z]?\b", None,
     ("straße", "strasse", "weg", "gasse", "platz", "allee")),
    ("address", r"\b[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}\b", None, ("#",)),  # UK postcode
    ("name", r"(?:\b[Mm]y name is|\b[Nn]ame\s*[:=]|\bI am|\bI'm|\bMrs?\.?|\bMs\.?|\bDr\.?)\s+"
             r"(?P<v>[A-Z][a-z'-]+(?:\s+[A-Z][a-z'-]+){0,3})", None, ("name", "i am", "i'm", "mr", "ms", "dr")),
    ("iban", r"\b[A-Z]{2}\d{2}[A-Z0-9]{11,30}\b", _iban_ok, ("#",)),
    ("iban", r"\b[A-Z]{2}\d{2}(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,3})?\b", _iban_ok, ("#",)),
    # Compact, 4-4-4-4(-3), or Amex 4-6-5; each as one unit so a checksum failure
    # on a longer run cannot hide a card inside it.
    ("card", r"\b\d{13,19}\b", _card_ok, ("#",)),
    ("card", r"\b\d{4}([ -])\d{4}\1\d{4}\1\d{4}\b", _card_ok, ("#",)),  # before the 19-digit form: a CVV may follow
    ("card", r"\b\d{4}([ -])\d{4}\1\d{4}\1\d{4}\1\d{1,3}\b", _card_ok, ("#",)),
    ("card", r"\b\d{4}([ -])\d{6}\1\d{4,5}\b", _card_ok, ("#",)),
    # What travels beside a card: CVV and expiry, with or without their words.
    ("card_extra", r"(?<=\[REDACTED:card\])(?P<v>(?:[\s,;/]*(?i:(?:cvv2?|cvc2?|csc|cid|security code|code|"
                   r"exp(?:iry|ires|iration)?(?: date)?|valid(?: thru| until)?)\s*[:=#]?\s*)?"
                   r"(?:(?:0[1-9]|1[0-2])\s*/\s*(?:\d{4}|\d{2})|\d{3,4})\b)+)", None, ("[redacted:card]",)),
    ("cvv", r"(?i:\b(?:cvv2?|cvc2?|csc|cid|security code)\b\s*[:=#]?\s*\d{3,4}\b)", None, ("cvv", "cvc", "csc", "cid", "security code")),
    ("card_expiry", r"(?i:\b(?:exp(?:iry|ires|iration)?(?: date)?|valid(?: thru| until))\s*[:=]?\s*"
                    r"(?:0[1-9]|1[0-2])\s*/\s*(?:\d{4}|\d{2})\b)", None, ("exp", "valid")),
    ("ssn", r"\b\d{3}([- ])\d{2}\1\d{4}\b", _ssn_ok, ("#",)),
    ("national_id", r"\b\d{3}([- ])\d{3}\1\d{3}\b", _sin_ok, ("#",)),  # Canadian SIN (Luhn)
    ("national_id", r"\b[A-CEGHJ-PR-TW-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b", None, ("#",)),  # UK NINO
    ("national_id", r"\b\d{8}[A-Za-z]\b", _dni_ok, ("#",)),  # Spanish DNI
    ("national_id", r"\b[A-Z]{5}\d{4}[A-Z]\b", None, ("#",)),  # Indian PAN
    # An id after its name: the value must hold a digit within its first four characters.
    ("national_id", rf"(?i:\b(?:{_NATIONAL_ID_WORDS})\b\s*[:#]?\s*(?:no\.?|number)?\s*[:#]?\s*)"
                    r"(?P<v>(?=[A-Za-z]{0,3}\d)[A-Za-z0-9]+(?:[ .-](?=[A-Za-z]{0,3}\d)[A-Za-z0-9]+){0,5})", None, _NATIONAL_ID_HINTS),
    ("phone", r"(?<![\w+])\+?\(?\d(?:[\s().-]{0,2}\d){6,14}\b", None, ("#",)),
    ("secret", r"(?<![A-Za-z0-9+/_=.~-])[A-Za-z0-9+/_=.~-]{20,}(?![A-Za-z0-9+/_=.~-])", _random_token, ("#",)),
)
_RULES = tuple(Rule(kind, re.compile(pattern), check, hints) for kind, pattern, check, hints in _RULES_SPEC)


# One scan finds which hints a text holds; only the rules they name run, in order.
_HINT_SCAN = re.compile("|".join(sorted({re.escape(h) for r in _RULES for h in r.hints if h != "#"}, key=len,
                                        reverse=True)) + r"|\d")
_RULES_BY_HINT: dict[str, frozenset[int]] = {
    hint: frozenset(i for i, r in enumerate(_RULES) if hint in r.hints) for r in _RULES for hint in r.hints}


def _rules_after(text: str, start: int) -> list[int]:
    found = {"#" if m.group(0).isdigit() else m.group(0) for m in _HINT_SCAN.finditer(text.lower())}
    return sorted(i for hint in found for i in _RULES_BY_HINT.get(hint, ()) if i >= start)


def redact(text: str) -> str:
    pending = _rules_after(text, 0)
    while pending:
        index = pending.pop(0)
        redacted = _RULES[index].apply(text)
        if redacted != text:
            # The replacement may bring a hint of its own (`[REDACTED:card]` for the CVV rule).
            text = redacted
            pending = _rules_after(text, index + 1)
    return text


def looks_sensitive(text: str) -> bool:
    """True when any rule would redact something in `text`."""
    return redact(text) != text


def redact_value(value: object) -> object:
    """Redact strings, recursively inside lists and dicts; leave numbers and bools alone."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, (list, tuple)):
        return [redact_value(v) for v in value]
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    return value
