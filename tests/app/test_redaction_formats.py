"""Each secret and PII format the redactor knows, with a look-alike that must keep its kind out.

Values are synthetic: documentation examples, test card numbers, made-up keys
of the right shape. A positive case asserts that the value is gone and that it
was redacted under the right kind; a negative case asserts that the look-alike
is not redacted under that kind (and, where nothing else applies, unchanged).
"""

from __future__ import annotations

import pytest

from slokit_app.redact import _iban_ok, luhn_ok, redact

AZURE_SECRET = "abc8Q~Zx9Qw3Er7Ty1Ui5Op2AsDf6Gh8Jk0Lm4Np"
UNCHANGED = object()

# (kind, text with the value, the value, look-alike, UNCHANGED or None: the look-alike may be
# redacted under another kind, e.g. a non-Luhn 16-digit number as a phone)
FORMATS = [
    ("api_key", "aws AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE", "aws AKIAIOSFODNN7EXAMP", UNCHANGED),
    ("api_key", "session ASIAY34FZKBOKMUTVV7A", "ASIAY34FZKBOKMUTVV7A", "ASIA is a continent", UNCHANGED),
    ("secret", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
     "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "set aws_secret_access_key in the console", UNCHANGED),
    ("api_key", "gcp AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY", "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
     "AIza is a prefix", UNCHANGED),
    ("api_key", "oauth ya29.a0AfH6SMBx3kzN8Q2vL7pR1tY9wE4uI6oP", "ya29.a0AfH6SMBx3kzN8Q2vL7pR1tY9wE4uI6oP",
     "ya29.short", UNCHANGED),
    ("api_key", "client GOCSPX-1a2B3c4D5e6F7g8H9i0JkLmNoPq", "GOCSPX-1a2B3c4D5e6F7g8H9i0JkLmNoPq",
     "GOCSPX- prefix", UNCHANGED),
    ("api_key", f"azure {AZURE_SECRET} ok", AZURE_SECRET, "abc8Q~short", UNCHANGED),
    ("secret", "AccountName=demo;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZ"
     "FPTOtr/KBHBeksoGMGw==;EndpointSuffix=core.windows.net", "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6I",
     "the AccountKey setting is required", UNCHANGED),
    ("api_key", "openai sk-proj-AbCdEf1234567890GhIjKlMn", "sk-proj-AbCdEf1234567890GhIjKlMn",
     "we use sk-learn", UNCHANGED),
    ("api_key", "anthropic sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345", "sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345",
     "sk-ant is a prefix", UNCHANGED),
    ("api_key", "hf hf_aBcDeFgHiJkLmNoPqRsTuVwXyZ01234567", "hf_aBcDeFgHiJkLmNoPqRsTuVwXyZ01234567",
     "hf_small model", UNCHANGED),
    ("api_key", "gh ghp_1234567890abcdefghijABCDEFGHIJ123456", "ghp_1234567890abcdefghijABCDEFGHIJ123456",
     "ghp_short", UNCHANGED),
    ("api_key", "pat github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
     "github_pat_ is the prefix", UNCHANGED),
    ("api_key", "slack xoxb-123456789012-abcdefghijkl", "xoxb-123456789012-abcdefghijkl", "xoxo hugs", UNCHANGED),
    ("api_key", "stripe sk_live_51Habcdefghijklmn0123", "sk_live_51Habcdefghijklmn0123", "sk_live docs", UNCHANGED),
    ("api_key", "gitlab glpat-abcdefghij0123456789", "glpat-abcdefghij0123456789", "glpat- prefix", UNCHANGED),
    ("webhook_url", "post to https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX now",
     "T00000000/B00000000", "see https://slack.com/help", UNCHANGED),
    ("webhook_url", "https://discord.com/api/webhooks/123456789012345678/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcd",
     "AbCdEfGhIjKlMnOpQrStUvWxYz", "https://discord.com/channels/general", UNCHANGED),
    ("jwt", "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
     "eyJzdWIiOiIxMjM0NTY3ODkwIn0", "eyJ.abc.def", UNCHANGED),
    ("private_key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
     "b3BlbnNzaC1rZXktdjEAAAAA", "-----BEGIN PUBLIC KEY-----", UNCHANGED),
    ("private_key", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC (cut)", "MIIEvQIBADANBgkqhkiG9w0",
     "a private key is secret", UNCHANGED),
    ("bearer", "Authorization: Bearer abcdefghijklmnopqrst", "abcdefghijklmnopqrst", "bearer bonds", UNCHANGED),
    ("basic_auth", "Basic dXNlcjpwYXNzd29yZDEyMzQ=", "dXNlcjpwYXNzd29yZDEyMzQ=", "basic question", UNCHANGED),
    ("secret", "password=hunter2hunter2", "hunter2hunter2", "password reset link", UNCHANGED),
    ("secret", "https://api.example.com/v1?api_key=abc123def456&page=2", "abc123def456",
     "https://api.example.com/v1?page=2", UNCHANGED),
    ("url_credentials", "postgres://admin:pa55w0rd@db.internal/app", "pa55w0rd", "https://example.com/path", UNCHANGED),
    ("email", "mail john.doe@example.com", "john.doe@example.com", "user at example dot com", UNCHANGED),
    ("card", "card 4539 1488 0343 6467", "4539 1488 0343 6467", "card 4539 1488 0343 6468", None),
    ("card", "amex 378282246310005", "378282246310005", "ref 378282246310006", None),
    ("card_extra", "card 5425233430109903 cvv 123", " cvv 123", "order 123 arrived", UNCHANGED),
    ("card_extra", "pay 5425-2334-3010-9903 12/27 881", "12/27 881", "on 12/27 at noon", UNCHANGED),
    ("cvv", "the CVV: 987", "987", "CVS pharmacy 987", UNCHANGED),
    ("card_expiry", "expiry 09/28", "09/28", "09/28 was a Thursday", UNCHANGED),
    ("iban", "iban DE89 3704 0044 0532 0130 00", "3704 0044 0532 0130", "iban DE89 3704 0044 0532 0130 01", None),
    ("iban", "GB82WEST12345698765432 is mine", "GB82WEST12345698765432", "GB00WEST12345698765432", None),
    ("iban", "FR14 2004 1010 0505 0001 3M02 606", "2004 1010 0505 0001", "FR14 2004 1010 0505 0001 3M02 607", None),
    ("phone", "call +1 (415) 555-0132", "(415) 555-0132", "call 3 times", UNCHANGED),
    ("phone", "uk +44 20 7946 0958", "20 7946 0958", "room 20 7", UNCHANGED),
    ("phone", "de +49 30 901820", "30 901820", "item 30 9", UNCHANGED),
    ("phone", "fr +33 6 12 34 56 78", "6 12 34 56 78", "size 6 12", UNCHANGED),
    ("phone", "in +91 98765 43210", "98765 43210", "pin 9876", UNCHANGED),
    ("phone", "jp +81 3-1234-5678", "3-1234-5678", "page 3-12", UNCHANGED),
    ("phone", "br +55 11 91234-5678", "91234-5678", "step 55 11", UNCHANGED),
    ("ipv4", "from 203.0.113.195", "203.0.113.195", "version 1.2.3", UNCHANGED),
    ("ipv6", "ipv6 2001:db8:85a3::8a2e:370:7334 here", "2001:db8:85a3::8a2e:370:7334", "at 12:30", UNCHANGED),
    ("ssn", "SSN 123-45-6789", "123-45-6789", "id 666-45-6789", None),
    ("national_id", "nino AB 12 34 56 C", "AB 12 34 56 C", "AB 12 34 56 E", UNCHANGED),
    ("national_id", "sin 046 454 286", "046 454 286", "code 046 454 287", None),
    ("national_id", "dni 12345678Z", "12345678Z", "ref 12345678A", UNCHANGED),
    ("national_id", "pan ABCDE1234F", "ABCDE1234F", "ABCDE12345", UNCHANGED),
    ("national_id", "passport number X1234567", "X1234567", "passport photo", UNCHANGED),
    ("address", "ship to 221B Baker Street today", "221B Baker Street", "221 bakers", UNCHANGED),
    ("address", "Musterstraße 12, Berlin", "Musterstraße 12", "Musterstraße is long", UNCHANGED),
    ("address", "postcode SW1A 1AA", "SW1A 1AA", "model SW1A", UNCHANGED),
    ("name", "My name is Jane Roe", "Jane Roe", "my name is not important", UNCHANGED),
    ("secret", "token Zx9Qw3Er7Ty1Ui5Op2AsDf", "Zx9Qw3Er7Ty1Ui5Op2AsDf", "ThisIsOrdinaryCamelCaseText", UNCHANGED),
    ("secret", "key a8f3k2m9q7w1e5r4t6y0u3i8o2p7l6k5j4", "a8f3k2m9q7w1e5r4t6y0u3i8o2p7l6k5j4",
     "trace 4bf92f3577b34da6a3ce929d0e0e4736", UNCHANGED),
]


def _ids():
    return [f"{kind}-{i}" for i, (kind, *_rest) in enumerate(FORMATS)]


@pytest.mark.parametrize("kind,text,value,lookalike,expect", FORMATS, ids=_ids())
def test_each_format_is_redacted_under_its_kind(kind, text, value, lookalike, expect):
    assert value in text
    out = redact(text)
    assert value not in out, out
    assert f"[REDACTED:{kind}]" in out, out


@pytest.mark.parametrize("kind,text,value,lookalike,expect", FORMATS, ids=_ids())
def test_each_lookalike_keeps_the_kind_out(kind, text, value, lookalike, expect):
    out = redact(lookalike)
    assert f"[REDACTED:{kind}]" not in out, out
    if expect is UNCHANGED:
        assert out == lookalike


def test_the_checksummed_lookalikes_really_fail_their_checksum():
    assert luhn_ok("4539148803436467") and not luhn_ok("4539148803436468")
    assert _iban_ok("GB82WEST12345698765432") and not _iban_ok("GB00WEST12345698765432")


def test_every_kind_of_the_brief_is_covered():
    kinds = {kind for kind, *_ in FORMATS}
    assert {"api_key", "secret", "webhook_url", "jwt", "private_key", "card", "card_extra", "cvv", "iban",
            "phone", "email", "ipv4", "ipv6", "ssn", "national_id", "address", "name"} <= kinds


def test_a_secret_split_by_a_redaction_leaves_no_fragment():
    """The CVV and expiry beside a card go with it (the issue: short leftovers survived)."""
    out = redact("card 4539 1488 0343 6467 exp 11/29 cvv 314 thanks")
    assert out == "card [REDACTED:card][REDACTED:card_extra] thanks"
    assert redact("5425 2334 3010 9903 123") == "[REDACTED:card][REDACTED:card_extra]"
