"""Stable diagnostic codes.

Every diagnostic carries one of these codes, so CI annotations, SARIF rules
and suppressions can refer to a kind of mistake without matching message
text. A code never changes meaning once released; retired codes are not
reused. docs/diagnostics.md lists them (a test keeps the two in step).

Ranges: SLK0xx reading files and YAML, SLK1xx the shape of a file (keys,
types, ranges), SLK2xx what the files mean together, SLK3xx generated outputs
and rule tests.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    id: str  # "SLK101"
    name: str  # "unknown-key": the SARIF rule name
    summary: str


_ALL = (
    # Reading files and YAML
    Code("SLK001", "unreadable-file", "the file cannot be read (missing, a directory, no permission, not a regular file)"),
    Code("SLK002", "file-too-large", "the file, or all files together, exceed the input size limit"),
    Code("SLK003", "bad-encoding", "the file is not UTF-8 or contains characters YAML does not allow"),
    Code("SLK004", "yaml-syntax", "the file is not valid YAML"),
    Code("SLK005", "yaml-unsupported", "valid YAML that slokit refuses: aliases, tags, duplicate keys, deep nesting, "
         "several documents, numbers that are not finite or too large, control characters"),
    Code("SLK006", "not-a-mapping", "the file is empty or its document is not a mapping of keys to values"),
    Code("SLK007", "no-input", "no spec files or no metric catalog where slokit looked"),
    # The shape of one file
    Code("SLK101", "unknown-key", "a key the spec language does not have (often a typo)"),
    Code("SLK102", "missing-key", "a required key is missing"),
    Code("SLK103", "wrong-type", "a value has the wrong type (text where a number belongs, a list for a mapping)"),
    Code("SLK104", "out-of-range", "a number outside its allowed range (objective, budget_percent, factor, ...)"),
    Code("SLK105", "bad-name", "a name, metric name, label name or duration that does not match its pattern"),
    Code("SLK106", "bad-value", "a value that is not one of the allowed choices or breaks a rule of its field"),
    # What the files mean together
    Code("SLK200", "invalid", "another semantic mistake (see the message)"),
    Code("SLK201", "unknown-metric", "an SLO or budget names a metric the catalog does not declare"),
    Code("SLK202", "unknown-label", "a label that is not declared, or not on the metric it is used with"),
    Code("SLK203", "forbidden-label", "a label whose values are unbounded or personal (user, prompt, trace id, ...)"),
    Code("SLK204", "bad-label-value", "a label value outside its declared set, empty, or with characters that need "
         "escaping"),
    Code("SLK205", "duplicate-name", "a name or list entry given twice in one file"),
    Code("SLK206", "duplicate-service", "the same service is defined in two files"),
    Code("SLK207", "metric-convention", "warning: a metric name, type or unit against Prometheus naming "
         "conventions (an error with --strict; none for `third_party: true`); an error when a metric collides with "
         "a histogram's series"),
    Code("SLK208", "bad-buckets", "histogram buckets missing, unsorted, too many, or a threshold that is not a bucket"),
    Code("SLK209", "too-many-series", "a metric may produce more series than the cardinality limit"),
    Code("SLK210", "bad-window", "a window that is too short, too long, not whole minutes, or does not fit"),
    Code("SLK211", "bad-tier", "an alert tier that cannot fire, fires on any error, or does not fit the window"),
    Code("SLK212", "bad-promql", "a raw SLI expression that is not valid or not allowed PromQL"),
    Code("SLK213", "reserved-name", "a name or label that Prometheus or slokit reserves"),
    Code("SLK214", "bad-url", "a URL that is not a plain http(s) URL"),
    Code("SLK215", "bad-scope", "a service scope that matches nothing or names unknown labels"),
    Code("SLK216", "wrong-metric-type", "a metric used in a way its type does not allow (a gauge as a counter, ...)"),
    Code("SLK217", "tight-objective", "warning: the objective leaves less than 5 minutes of full outage per window"),
    Code("SLK218", "name-collision", "two services, SLOs or budgets would produce the same output path, rule group, "
         "dashboard or folder UID, or recorded series"),
    Code("SLK219", "missing-owner", "warning: a service without `owner`, so its alerts carry no `team` label"),
    Code("SLK220", "bad-regex", "a selector's `regex` that is not valid RE2 (Prometheus's regex language)"),
    Code("SLK221", "selects-nothing", "a selector's regex or `not` that leaves none of the label's declared values"),
    Code("SLK222", "unit-mismatch", "a threshold written as a duration on a histogram whose unit is not a time"),
    Code("SLK223", "untested-raw-sli", "warning: a raw SLI that is not a single rate(selector[{{window}}]), so the "
         "generated rule tests cannot feed it and the SLO is untested"),
    Code("SLK224", "not-a-subset", "warning: a ratio SLI's good or bad selector, on the same series as total, "
         "selects events total leaves out"),
    Code("SLK228", "ruler-limit", "a rule group or project over the Mimir / Cortex ruler limits in slokit.yaml, or a "
         "label a Thanos Ruler external label would replace"),
    # Outputs and rule tests
    Code("SLK301", "stale-output", "a generated file differs from what `slokit generate` would write"),
    Code("SLK302", "rule-test-failed", "`promtool test rules` reported a failing rule test"),
    Code("SLK303", "rule-test-prometheus", "warning: generated rule tests expect another Prometheus major "
         "version than the installed promtool's (range semantics differ)"),
)

CODES: dict[str, Code] = {c.id: c for c in _ALL}
BY_NAME: dict[str, str] = {c.name: c.id for c in _ALL}

# The names the rest of the code uses (C.UNKNOWN_KEY == "SLK101").
UNREADABLE_FILE = "SLK001"
FILE_TOO_LARGE = "SLK002"
BAD_ENCODING = "SLK003"
YAML_SYNTAX = "SLK004"
YAML_UNSUPPORTED = "SLK005"
NOT_A_MAPPING = "SLK006"
NO_INPUT = "SLK007"
UNKNOWN_KEY = "SLK101"
MISSING_KEY = "SLK102"
WRONG_TYPE = "SLK103"
OUT_OF_RANGE = "SLK104"
BAD_NAME = "SLK105"
BAD_VALUE = "SLK106"
INVALID = "SLK200"
UNKNOWN_METRIC = "SLK201"
UNKNOWN_LABEL = "SLK202"
FORBIDDEN_LABEL = "SLK203"
BAD_LABEL_VALUE = "SLK204"
DUPLICATE_NAME = "SLK205"
DUPLICATE_SERVICE = "SLK206"
METRIC_CONVENTION = "SLK207"
BAD_BUCKETS = "SLK208"
TOO_MANY_SERIES = "SLK209"
BAD_WINDOW = "SLK210"
BAD_TIER = "SLK211"
BAD_PROMQL = "SLK212"
RESERVED_NAME = "SLK213"
BAD_URL = "SLK214"
BAD_SCOPE = "SLK215"
WRONG_METRIC_TYPE = "SLK216"
TIGHT_OBJECTIVE = "SLK217"
NAME_COLLISION = "SLK218"
MISSING_OWNER = "SLK219"
BAD_REGEX = "SLK220"
SELECTS_NOTHING = "SLK221"
UNIT_MISMATCH = "SLK222"
UNTESTED_RAW_SLI = "SLK223"
NOT_A_SUBSET = "SLK224"
RULER_LIMIT = "SLK228"
STALE_OUTPUT = "SLK301"
RULE_TEST_FAILED = "SLK302"
RULE_TEST_PROMETHEUS = "SLK303"
