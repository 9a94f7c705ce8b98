"""PII and secrets in many shapes: (text a user might send, the sensitive part).

Values are synthetic (test card numbers, documentation IP ranges, fake keys).
"""

CORPUS: list[tuple[str, str]] = [
    # emails
    ("my email is john.doe@example.com", "john.doe@example.com"),
    ("Contact: JANE_SMITH+orders@Mail.Example.co.uk please", "JANE_SMITH+orders@Mail.Example.co.uk"),
    ("send it to a.b-c@sub.domain.org", "a.b-c@sub.domain.org"),
    ("<mailto:ceo@company.io>", "ceo@company.io"),
    ("user=first.last@corp-mail.net;", "first.last@corp-mail.net"),
    # phones
    ("call me at +1 (415) 555-0132", "555-0132"),
    ("my number: 415-555-0198", "415-555-0198"),
    ("tel +44 20 7946 0958", "7946 0958"),
    ("ring 0049 30 901820 thanks", "30 901820"),
    ("mobile (212) 555 0175", "555 0175"),
    ("phone:+33612345678", "33612345678"),
    ("whatsapp 415.555.0111", "415.555.0111"),
    # cards
    ("card 4111 1111 1111 1111 exp 12/29", "4111 1111 1111 1111"),
    ("pay with 5500-0000-0000-0004", "5500-0000-0000-0004"),
    ("amex 378282246310005", "378282246310005"),
    ("visa:4012888888881881", "4012888888881881"),
    ("discover 6011 0009 9013 9424", "6011 0009 9013 9424"),
    ("my card is 3530111333300000 ok", "3530111333300000"),
    # SSNs
    ("SSN 123-45-6789", "123-45-6789"),
    ("social security number 078 05 1120", "078 05 1120"),
    ("ssn:219-09-9999.", "219-09-9999"),
    # IPs
    ("my IP is 192.168.10.23", "192.168.10.23"),
    ("server 203.0.113.195 is down", "203.0.113.195"),
    ("from 10.0.0.1:8080", "10.0.0.1"),
    ("ipv6 2001:db8:85a3::8a2e:370:7334 here", "2001:db8:85a3::8a2e:370:7334"),
    ("link-local fe80::1ff:fe23:4567:890a", "fe80::1ff:fe23:4567:890a"),
    ("full 2001:0db8:0000:0000:0000:ff00:0042:8329", "2001:0db8:0000:0000:0000:ff00:0042:8329"),
    # API keys and tokens
    ("my key is sk-proj-AbCdEf1234567890GhIjKlMn", "sk-proj-AbCdEf1234567890GhIjKlMn"),
    ("OPENAI_API_KEY=sk-9f8e7d6c5b4a39281706f5e4d3c2b1a0", "sk-9f8e7d6c5b4a39281706f5e4d3c2b1a0"),
    ("anthropic sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345", "sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345"),
    ("aws AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
    ("github ghp_1234567890abcdefghijABCDEFGHIJ123456", "ghp_1234567890abcdefghijABCDEFGHIJ123456"),
    ("pat github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "github_pat_11ABCDEFG0123456789_abcdefghijklmnop"),
    ("slack xoxb-123456789012-abcdefghijkl", "xoxb-123456789012-abcdefghijkl"),
    ("google AIzaSyA1234567890abcdefghijklmnopqrstuv", "AIzaSyA1234567890abcdefghijklmnopqrstuv"),
    ("stripe sk_live_51Habcdefghijklmn0123", "sk_live_51Habcdefghijklmn0123"),
    ("gitlab glpat-abcdefghij0123456789", "glpat-abcdefghij0123456789"),
    ("Authorization: Bearer eyAbcDef123456.ghIjkl789", "eyAbcDef123456.ghIjkl789"),
    ("use bearer 0123456789abcdefABCDEF", "0123456789abcdefABCDEF"),
    ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
     "eyJzdWIiOiIxMjM0NTY3ODkwIn0"),
    ("password=hunter2hunter2", "hunter2hunter2"),
    ("my passwd: CorrectHorse!9", "CorrectHorse!9"),
    ("api_key: 'zq8Xk2LmN4pR7tV1'", "zq8Xk2LmN4pR7tV1"),
    ("secret=Sup3rS3cretValue", "Sup3rS3cretValue"),
    ("token: tk_7f3a9b2c4d5e6f70", "tk_7f3a9b2c4d5e6f70"),
    ("db postgres://admin:pa55w0rd@db.internal:5432/app", "pa55w0rd"),
    ("Basic dXNlcjpwYXNzd29yZDEyMzQ=", "dXNlcjpwYXNzd29yZDEyMzQ="),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7s8d9f\n-----END RSA PRIVATE KEY-----", "MIIEowIBAAKCAQEA7s8d9f"),
    # IBAN
    ("iban DE89 3704 0044 0532 0130 00", "3704 0044 0532 0130"),
    ("GB82WEST12345698765432 is my account", "GB82WEST12345698765432"),
    # mixed in longer text
    ("Hi, I'm Ann (ann.lee@example.net, +1 415 555 0100), order A12345 never arrived",
     "ann.lee@example.net"),
    ("refund to card 4242424242424242 and email bob@example.com", "4242424242424242"),
    ("login from 198.51.100.7 with token=abcd1234efgh5678", "198.51.100.7"),
]
