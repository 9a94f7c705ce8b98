"""PII and secret shapes for the live leak test: (cue, value).

The value is the sensitive part alone (at least 8 characters, so that every
8-character fragment of it is meaningful); the cue is the ordinary text a
user would put before it ("my SSN is"), sent along in free-text fields;
a cue with `{v}` is a template the value fills (URLs, connection strings).
Values are synthetic: documentation ranges, test card numbers, keys of the
right shape that were never issued.
"""

CORPUS: list[tuple[str, str]] = [
    # emails
    ("my email is", "john.doe@example.com"),
    ("write to", "JANE_SMITH+orders@Mail.Example.co.uk"),
    ("cc", "a.b-c@sub.domain.org"),
    # phones of several countries
    ("call me at", "+1 (415) 555-0132"),
    ("my number:", "415-555-0198"),
    ("uk office", "+44 20 7946 0958"),
    ("berlin", "+49 30 901820"),
    ("paris mobile", "+33 6 12 34 56 78"),
    ("india", "+91 98765 43210"),
    ("tokyo", "+81 3-1234-5678"),
    ("sao paulo", "+55 11 91234-5678"),
    ("sydney", "+61 2 9374 4000"),
    # cards, with what travels beside them
    ("visa", "4539 1488 0343 6467"),
    ("mastercard", "5425-2334-3010-9903"),
    ("amex", "378282246310005"),
    ("discover", "6011 0009 9013 9424"),
    ("card with extras", "4539148803436467 exp 11/29 cvv 314"),
    # national ids
    ("SSN", "219-09-9999"),
    ("social security number", "078-05-1120"),
    ("NI number", "AB 12 34 56 C"),
    ("SIN", "046 454 286"),
    ("DNI", "12345678Z"),
    ("PAN", "ABCDE1234F"),
    ("passport number", "X1234567"),
    ("I'm", "Jane Roe, SSN 219-09-9999"),
    ("customer Mr {v}, a passport holder", "Johnathan Appleseed"),
    ("her passport number", "K9876543"),
    # IBANs
    ("iban", "DE89 3704 0044 0532 0130 00"),
    ("account", "GB82WEST12345698765432"),
    ("iban", "FR14 2004 1010 0505 0001 3M02 606"),
    ("rekening", "NL91ABNA0417164300"),
    # IP addresses
    ("my IP is", "192.168.10.23"),
    ("server", "203.0.113.195"),
    ("ipv6", "2001:db8:85a3::8a2e:370:7334"),
    ("link-local", "fe80::1ff:fe23:4567:890a"),
    # addresses
    ("ship to", "221B Baker Street"),
    ("deliver to", "1600 Pennsylvania Avenue"),
    ("Anschrift", "Musterstraße 12"),
    ("postcode", "SW1A 1AA"),
    # cloud and provider keys
    ("aws", "AKIAIOSFODNN7EXAMPLE"),
    ("aws_secret_access_key = {v}", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("gcp key", "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"),
    ("gcp oauth", "ya29.a0AfH6SMBx3kzN8Q2vL7pR1tY9wE4uI6oP"),
    ("azure secret", "abc8Q~Zx9Qw3Er7Ty1Ui5Op2AsDf6Gh8Jk0Lm4Np"),
    ("AccountName=demo;AccountKey={v};EndpointSuffix=core.windows.net",
     "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="),
    ("openai", "sk-proj-AbCdEf1234567890GhIjKlMn"),
    ("anthropic", "sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345"),
    ("huggingface", "hf_aBcDeFgHiJkLmNoPqRsTuVwXyZ01234567"),
    ("github", "ghp_1234567890abcdefghijABCDEFGHIJ123456"),
    ("github pat", "github_pat_11ABCDEFG0123456789_abcdefghijklmnop"),
    ("slack bot", "xoxb-123456789012-abcdefghijkl"),
    ("stripe", "sk_live_51Habcdefghijklmn0123"),
    ("gitlab", "glpat-abcdefghij0123456789"),
    # webhook URLs
    ("slack webhook", "https://hooks.slack.com/services/T0A1B2C3D/B9Z8Y7X6W/AbCdEfGhIjKlMnOpQrStUvWx"),
    ("discord webhook", "https://discord.com/api/webhooks/123456789012345678/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcd"),
    # tokens and credentials
    ("jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"),
    ("Authorization: Bearer", "Zm9vYmFyYmF6cXV4MTIzNDU2"),
    ("password={v}", "hunter2hunter2"),
    ("postgres://admin:{v}@db.internal:5432/app", "pa55w0rd"),
    ("pem", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7s8d9fQ2\n-----END RSA PRIVATE KEY-----"),
    ("random token", "Zx9Qw3Er7Ty1Ui5Op2AsDf"),
    ("http://shop.test/v1?api_key={v}&page=2", "Qw3rTy9UiOp1AsDf"),
]


def sentence(cue: str, value: str) -> str:
    """The cue and the value as a user would type them."""
    return cue.replace("{v}", value) if "{v}" in cue else f"{cue} {value}"
