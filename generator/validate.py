"""Semantic checks across files: references into the catalog, uniqueness, bounds.

The models check the shape of each file; this module checks what the files
mean together: every metric an SLO names is in the catalog with the right
type and labels, thresholds are real bucket boundaries, windows fit into each
other, names are unique, and the catalog keeps cardinality bounded. All
problems are collected and returned at once.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

from slokit import codes as C
from slokit import naming as N
from slokit.errors import WARNING, Diagnostic
from slokit.load import PathKey, Source
from slokit.lookalike import lookalike_problem
from slokit.messages import did_you_mean
from slokit.model import (
    COUNTER_SERIES,
    HISTOGRAM_SERIES,
    SUMMARY_SERIES,
    LabelMatch,
    SLO,
    Budget,
    Catalog,
    MetricDef,
    RawSLI,
    Route,
    Selector,
    ServiceSpec,
    Tier,
    duration_seconds,
    resolve_series,
)
from slokit.promql import compile_regex, number, parse_selectors, plain_rate_selector
from slokit.units import in_unit, is_duration, same_bound

if TYPE_CHECKING:
    from slokit.project import Project, ServiceFile

MINUTE = 60
MIN_WINDOW = 5 * MINUTE
MAX_WINDOW = 366 * 86400
MAX_SERIES_PER_METRIC = 100_000
MAX_BUCKETS = 50
# Below this much full outage per window, an objective gets a warning.
TIGHT_BUDGET_SECONDS = 5 * MINUTE

# Labels whose values are unbounded or personal. They explode the number of
# series (one per user, conversation or request) and leak PII into a system
# that keeps everything for weeks; traces and logs are built for them.
FORBIDDEN_LABELS = frozenset({
    "user", "user_id", "userid", "username", "user_name", "user_email", "customer_email",
    "conversation", "conversation_id", "session", "session_id", "chat_id", "thread_id", "message_id",
    "request_id", "trace_id", "traceid", "span_id", "spanid", "correlation_id",
    "prompt", "prompt_text", "completion", "completion_text", "response_text", "question", "query", "message",
    "email", "email_address", "phone", "phone_number", "ip", "ip_address", "client_ip", "remote_addr", "url",
})
FORBIDDEN_SUFFIXES = ("_user_id", "_session_id", "_conversation_id", "_request_id", "_trace_id", "_span_id",
                      "_email", "_ip")
# Labels Prometheus itself gives meaning to.
RESERVED_CATALOG_LABELS = frozenset({"le", "quantile"})
# Labels slokit sets on recording rules and alerts (names from naming.py). A
# group_by label or user label of the same name would be overwritten, and the
# groups it should keep apart would collide.
IDENTITY_LABELS = frozenset({N.LABEL_SERVICE, N.LABEL_SLO, N.LABEL_BUDGET, N.LABEL_SEVERITY, N.LABEL_TEAM,
                             N.LABEL_LONG_WINDOW})
# ... plus the labels of the slo:info series, which carries the file's labels too.
RESERVED_ALERT_LABELS = IDENTITY_LABELS | {N.LABEL_OBJECTIVE, N.LABEL_WINDOW, N.LABEL_SLI_KIND, "alertname"}
# Units whose name must end the metric name (Prometheus naming conventions).
SUFFIX_UNITS = frozenset({"seconds", "bytes", "usd", "tokens", "info"})
NON_BASE_UNITS = {
    "ms": "seconds", "milliseconds": "seconds", "microseconds": "seconds", "minutes": "seconds",
    "hours": "seconds", "kilobytes": "bytes", "megabytes": "bytes", "kb": "bytes", "mb": "bytes",
    "cents": "usd", "percent": "ratio",
}
# Label values end up inside PromQL strings, YAML and file contents. Keep
# them to characters that need no escaping beyond regex quoting of `.`.
LABEL_VALUE_PATTERN = re.compile(r"^[\w.:@/-]+$")


def fmt_number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def fmt_seconds(seconds: float) -> str:
    parts, rest = [], int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    frac = seconds - int(seconds)
    return ("".join(parts) or "0s") if not frac else f"{seconds:g}s"


@dataclass
class _Report:
    """Collects diagnostics for one source file."""

    source: Source
    diags: list[Diagnostic] = field(default_factory=list)

    def error(self, path: PathKey, message: str, hint: str = "", at_key: bool = False, code: str = C.INVALID) -> None:
        self.diags.append(self.source.diagnostic(path, message, hint, at_key, code))

    def warn(self, path: PathKey, message: str, hint: str = "", at_key: bool = False, code: str = C.INVALID) -> None:
        """A problem worth fixing that does not make the outputs wrong: reported, fails only with --strict."""
        self.diags.append(self.source.diagnostic(path, message, hint, at_key, code, WARNING))


def label_value_problem(value: str) -> str:
    """Why `value` cannot be a label value, or ''."""
    if value == "":
        return "is empty"
    if any(c in value for c in "\n\r\t"):
        return "contains a line break or tab"
    lookalike = lookalike_problem(value)
    if lookalike:
        return lookalike
    if not LABEL_VALUE_PATTERN.match(value):
        bad = next(c for c in value if not LABEL_VALUE_PATTERN.match(c))
        return f"contains {bad!r}"
    return ""


# --------------------------------------------------------------------------
# Catalog
# --------------------------------------------------------------------------


def forbidden_label(name: str) -> bool:
    lowered = name.lower()
    return lowered in FORBIDDEN_LABELS or lowered.endswith(FORBIDDEN_SUFFIXES)


def _forbidden_message(name: str) -> tuple[str, str]:
    return (f"label {name!r} is not allowed in metrics: its values are unbounded (one series per user, "
            f"conversation, request or prompt) and may carry personal data",
            "put it on traces and logs (a span attribute or log field) instead; metric labels must be bounded, "
            "such as tenant, feature or model")


def check_catalog(catalog: Catalog, source: Source) -> list[Diagnostic]:
    r = _Report(source)
    for name, label in catalog.labels.items():
        path = ("labels", name)
        if forbidden_label(name):
            r.error(path, *_forbidden_message(name), at_key=True, code=C.FORBIDDEN_LABEL)
        elif name in RESERVED_CATALOG_LABELS or name.startswith("__"):
            r.error(path, f"label name {name!r} is reserved by Prometheus", "choose another name", at_key=True,
                    code=C.RESERVED_NAME)
        if label.values is not None:
            if not label.values:
                r.error(path + ("values",), f"label {name!r} has no values", "list every value, e.g. [ok, other]",
                        code=C.BAD_LABEL_VALUE)
            seen: set[str] = set()
            for i, value in enumerate(label.values):
                problem = label_value_problem(value)
                if problem:
                    r.error(path + ("values", i), f"value {value!r} of label {name!r} {problem}",
                            "label values use letters, digits and _ . : @ / -", code=C.BAD_LABEL_VALUE)
                elif value in seen:
                    r.error(path + ("values", i), f"value {value!r} of label {name!r} is listed twice",
                            "remove the duplicate", code=C.DUPLICATE_NAME)
                seen.add(value)
    for name, metric in catalog.metrics.items():
        _check_metric(r, catalog, name, metric)
    return r.diags


def _check_metric(r: _Report, catalog: Catalog, name: str, metric: MetricDef) -> None:
    path = ("metrics", name)
    _check_metric_name(r, catalog, name, metric)
    seen: set[str] = set()
    for i, label in enumerate(metric.labels):
        lpath = path + ("labels", i)
        if label in seen:
            r.error(lpath, f"label {label!r} is listed twice on {name}", "remove the duplicate", code=C.DUPLICATE_NAME)
        seen.add(label)
        if forbidden_label(label):
            r.error(lpath, *_forbidden_message(label), code=C.FORBIDDEN_LABEL)
        elif label == "le" and metric.type == "histogram":
            r.error(lpath, "a histogram cannot carry a label named 'le'", "Prometheus uses `le` for its buckets",
                    code=C.RESERVED_NAME)
        elif label not in catalog.labels:
            r.error(lpath, f"label {label!r} of {name} is not declared under `labels:`",
                    did_you_mean(label, catalog.labels) or f"declare it under `labels:` with its values or "
                    f"max_cardinality", code=C.UNKNOWN_LABEL)
    if metric.type == "histogram":
        _check_buckets(r, name, metric)
    elif metric.buckets is not None:
        r.error(path + ("buckets",), f"only histograms have buckets, and {name} is a {metric.type}",
                "remove `buckets`, or make it `type: histogram`", code=C.BAD_BUCKETS)
    series = _max_series(catalog, metric)
    if series > MAX_SERIES_PER_METRIC and not metric.third_party:
        r.error(path, f"{name} may produce up to {series} series, more than {MAX_SERIES_PER_METRIC}",
                "drop a label, lower a max_cardinality, or use fewer buckets", code=C.TOO_MANY_SERIES)


def _check_metric_name(r: _Report, catalog: Catalog, name: str, metric: MetricDef) -> None:
    """Prometheus naming conventions, as advice: any valid name works, so breaking one is a warning
    (an error with --strict). A third-party metric is not the team's to rename: no advice at all."""
    path = ("metrics", name)
    if name.startswith("__"):
        r.error(path, f"metric name {name!r} starts with '__'", "names starting with '__' are reserved",
                at_key=True, code=C.RESERVED_NAME)
    if metric.type == "histogram":
        for suffix in HISTOGRAM_SERIES:
            if name + suffix in catalog.metrics:
                r.error(("metrics", name + suffix), f"metric {name + suffix} collides with a series of "
                        f"histogram {name}", "rename it", at_key=True, code=C.METRIC_CONVENTION)
    if metric.third_party:
        return
    advise = _Advice(r, path)
    third = " (or mark it `third_party: true` if the team does not own it)"
    if ":" in name:
        advise(f"metric name {name!r} contains ':', which the Prometheus convention keeps for recording rules",
               f"an instrumented metric is usually named without colons{third}")
    if metric.type == "counter" and not name.endswith("_total"):
        advise(f"counter {name} does not end in _total, as the Prometheus convention has counters do",
               f"rename it {name}_total{third}")
    if metric.type != "counter" and name.endswith("_total"):
        advise(f"{metric.type} {name} ends in _total, which the Prometheus convention keeps for counters",
               f"drop the suffix{third}")
    if metric.type in ("histogram", "summary"):
        for suffix in HISTOGRAM_SERIES if metric.type == "histogram" else SUMMARY_SERIES:
            if name.endswith(suffix):
                advise(f"{metric.type} {name} ends in {suffix}, a suffix Prometheus adds to {metric.type} series "
                       f"(its series would be {name}{suffix}, ...)", f"drop the suffix{third}")
    unit = metric.unit
    if unit in NON_BASE_UNITS:
        advise(f"unit {unit!r} is not a base unit (the Prometheus convention is {NON_BASE_UNITS[unit]})",
               f"slokit works in {unit}: thresholds are written in {unit} or as a duration such as `le: 500ms`; "
               f"for a metric the team owns, prefer {NON_BASE_UNITS[unit]}{third}", ("unit",))
    elif unit in SUFFIX_UNITS and not name.removesuffix("_total").endswith("_" + unit):
        stem = name.removesuffix("_total")
        suggestion = f"{stem}_{unit}" + ("_total" if name.endswith("_total") else "")
        advise(f"metric {name} has unit {unit!r}, but its name does not end in _{unit} (the Prometheus convention "
               "makes the unit the name's suffix)", f"rename it {suggestion}{third}")


@dataclass
class _Advice:
    """A naming-convention warning at a catalog metric (its key, or one of its fields)."""

    r: _Report
    path: PathKey

    def __call__(self, message: str, hint: str, field: PathKey = ()) -> None:
        self.r.warn(self.path + field, message, hint, at_key=not field, code=C.METRIC_CONVENTION)


def _check_buckets(r: _Report, name: str, metric: MetricDef) -> None:
    path = ("metrics", name, "buckets")
    buckets = metric.buckets
    if not buckets:
        r.error(path if buckets is not None else ("metrics", name), f"histogram {name} needs `buckets`",
                "list the bucket upper bounds, e.g. [0.1, 0.25, 0.5, 1, 2.5, 5]", code=C.BAD_BUCKETS)
        return
    if len(buckets) > MAX_BUCKETS:
        r.error(path, f"histogram {name} has {len(buckets)} buckets, more than {MAX_BUCKETS}",
                "every bucket is a series per label combination; keep the ones SLOs and dashboards need",
                code=C.BAD_BUCKETS)
    for i, (a, b) in enumerate(zip(buckets, buckets[1:]), start=1):
        if not b > a:
            r.error(path + (i,), f"buckets of {name} must be strictly increasing: {fmt_number(b)} follows "
                    f"{fmt_number(a)}", "sort them and remove duplicates", code=C.BAD_BUCKETS)
    for i, b in enumerate(buckets):
        if not math.isfinite(b):
            r.error(path + (i,), f"bucket {b} of {name} is not a finite number", "+Inf is implied; remove it",
                    code=C.BAD_BUCKETS)


def _max_series(catalog: Catalog, metric: MetricDef) -> int:
    total = 1
    for label in metric.labels:
        definition = catalog.labels.get(label)
        if definition is not None:
            total *= len(definition.values) if definition.values is not None else definition.max_cardinality or 1
    if metric.type == "histogram":
        total *= len(metric.buckets or []) + 3  # the buckets, +Inf, _count and _sum
    return total


def _selected(match: object, declared: list[str]) -> list[str] | None:
    """The declared values a selector's filter on one label selects (all with no filter), or None
    for a regex RE2 refuses."""
    if match is None:
        return list(declared)
    if isinstance(match, LabelMatch):
        return match.selects(declared)
    values = match if isinstance(match, list) else [match]
    return [v for v in declared if v in values]


def _matches_all(match: object) -> bool:
    return isinstance(match, LabelMatch) and match.regex == ".*" and not match.excluded


def _match_text(match: object) -> str:
    """A label filter as it is written in a spec."""
    def flow(values: list[str]) -> str:
        return "[" + ", ".join(values) + "]"
    if isinstance(match, LabelMatch):
        parts = ([f"regex: {json.dumps(match.regex)}"] if match.regex is not None else [])
        if match.not_ is not None:
            parts.append(f"not: {flow(match.excluded) if isinstance(match.not_, list) else match.not_}")
        return "{" + ", ".join(parts) + "}"
    return flow(match) if isinstance(match, list) else str(match)


# --------------------------------------------------------------------------
# One service file
# --------------------------------------------------------------------------


@dataclass
class _ServiceCheck:
    spec: ServiceSpec
    catalog: Catalog
    r: _Report
    used_metrics: set[str] = field(default_factory=set)
    file_tiers_sound: list[bool] = field(default_factory=list)

    # -- references into the catalog ------------------------------------

    def metric(self, name: str, path: PathKey, want: str, why: str, alternative: str) -> MetricDef | None:
        """The catalog metric `name`, if it exists and has type `want`."""
        metric = self.catalog.metrics.get(name)
        base, suffix = resolve_series(name, self.catalog) if metric is None else (name, "")
        if metric is None and base is not None:
            # x_count / x_sum of a histogram or summary are counters; x_bucket counts per bucket.
            of = f"the {suffix} series of {self.catalog.metrics[base].type} {base}"
            self.used_metrics.add(base)
            if want == "counter" and suffix in COUNTER_SERIES:
                return self.catalog.metrics[base]
            self.r.error(path, f"{why}, but {name} is {of}",
                         f"count its observations with {base}_count" if want == "counter" else
                         f"name the {self.catalog.metrics[base].type} itself: {base}", code=C.WRONG_METRIC_TYPE)
            return None
        if metric is None:
            self.r.error(path, f"unknown metric {name!r}",
                         did_you_mean(name, self.catalog.metrics) or "add it to the metric catalog first",
                         code=C.UNKNOWN_METRIC)
            return None
        self.used_metrics.add(name)
        if metric.type != want:
            if want == "counter" and metric.type in ("histogram", "summary"):
                alternative = (f"name one of its counter series: {name}_count (its observations) or {name}_sum "
                               f"(the sum of their values); or {alternative}")
            self.r.error(path, f"{why}, but {name} is a {metric.type}", alternative, code=C.WRONG_METRIC_TYPE)
            return None
        return metric

    def label_value(self, label: str, value: str, path: PathKey) -> None:
        definition = self.catalog.labels.get(label)
        if definition is None:
            return
        if definition.values is not None:
            if value not in definition.values:
                self.r.error(path, f"value {value!r} is not allowed for label {label!r}",
                             did_you_mean(value, definition.values) or f"allowed: {', '.join(definition.values)}",
                             code=C.BAD_LABEL_VALUE)
            return
        problem = label_value_problem(value)
        if problem:
            self.r.error(path, f"value {value!r} of label {label!r} {problem}",
                         "label values use letters, digits and _ . : @ / -", code=C.BAD_LABEL_VALUE)

    def label_on(self, label: str, metric_name: str, path: PathKey, at_key: bool = False, context: str = "") -> bool:
        metric = self.catalog.metrics[metric_name]
        if label in metric.labels:
            return True
        if forbidden_label(label):
            self.r.error(path, *_forbidden_message(label), at_key=at_key, code=C.FORBIDDEN_LABEL)
        elif label not in self.catalog.labels:
            self.r.error(path, f"{context}unknown label {label!r}",
                         did_you_mean(label, metric.labels) or did_you_mean(label, self.catalog.labels)
                         or f"labels of {metric_name}: {', '.join(metric.labels) or 'none'}", at_key,
                         code=C.UNKNOWN_LABEL)
        else:
            self.r.error(path, f"{context}label {label!r} is not on metric {metric_name}",
                         did_you_mean(label, metric.labels)
                         or f"labels of {metric_name}: {', '.join(metric.labels) or 'none'}", at_key,
                         code=C.UNKNOWN_LABEL)
        return False

    def base_metric(self, name: str) -> str:
        """The catalog metric of a series name (x for x_count), or the name itself."""
        return resolve_series(name, self.catalog)[0] or name

    def match(self, metric_name: str, match: dict, path: PathKey) -> None:
        metric_name = self.base_metric(metric_name)
        for label, value in match.items():
            lpath = path + (label,)
            if not self.label_on(label, metric_name, lpath, at_key=True):
                continue
            if isinstance(value, LabelMatch):
                self.label_match(label, value, lpath)
                continue
            values = value if isinstance(value, list) else [value]
            if not values:
                self.r.error(lpath, f"empty list for label {label!r} matches nothing", "list at least one value",
                             code=C.BAD_LABEL_VALUE)
            for i, v in enumerate(values):
                self.label_value(label, v, lpath + (i,) if isinstance(value, list) else lpath)
            self._against_scope(label, values, lpath)

    def label_match(self, label: str, m: LabelMatch, path: PathKey) -> None:
        """`{regex: ..., not: [...]}`: a regex that RE2 compiles; against declared values, one that selects some."""
        definition = self.catalog.labels.get(label)
        declared = definition.values if definition is not None else None
        excluded = m.excluded
        npath = path + ("not",)
        if m.regex is None and m.not_ is None:
            self.r.error(path, f"the match of label {label!r} has neither `regex` nor `not`",
                         "write a value, a list of values, {regex: \"5..\"} or {not: [value, ...]}",
                         code=C.BAD_VALUE)
            return
        if m.not_ is not None and not excluded:
            self.r.error(npath, f"empty `not` list for label {label!r} excludes nothing", "list at least one value, "
                         "or remove `not`", code=C.BAD_LABEL_VALUE)
        for i, v in enumerate(excluded):
            self.label_value(label, v, npath + (i,) if isinstance(m.not_, list) else npath)
        selected = list(declared) if declared is not None else None
        if m.regex is not None:
            compiled, problem = compile_regex(m.regex)
            if compiled is None:
                self.r.error(path + ("regex",), f"regex {m.regex!r} for label {label!r} is not valid RE2: {problem}",
                             "Prometheus regexes are RE2 (no lookaround or backreferences), anchored at both ends; "
                             "e.g. \"5..\" or \"gpt-4.*\"", code=C.BAD_REGEX)
                return
            if selected is not None:
                selected = [v for v in selected if compiled.fullmatch(v)]
                if not selected:
                    self.r.error(path + ("regex",), f"regex {m.regex!r} selects none of the declared values of label "
                                 f"{label!r} ({', '.join(declared)})",
                                 "Prometheus anchors the regex: it must match the whole value (\"5..\" matches 503, "
                                 "not 5030); fix it, or declare the values it should select", code=C.SELECTS_NOTHING)
                    return
        if selected is not None and excluded:
            left = [v for v in selected if v not in excluded]
            if not left:
                self.r.error(npath if m.regex is None else path, f"this selects no value of label {label!r}: every "
                             f"{'value the regex selects' if m.regex is not None else 'declared value'} is excluded "
                             f"by `not`", "remove values from `not`", code=C.SELECTS_NOTHING)
                return
            selected = left
        if selected is not None:
            self._against_scope(label, selected, path)

    def _against_scope(self, label: str, values: list[str], path: PathKey) -> None:
        scope = self.spec.scope.get(label)
        if scope is None:
            return
        allowed = set(scope if isinstance(scope, list) else [scope])
        if values and not allowed.intersection(values):
            self.r.error(path, f"{label} {', '.join(values)} lies outside the service scope "
                         f"{label}: [{', '.join(sorted(allowed))}], so this matches nothing",
                         "remove the filter or widen `scope`", code=C.BAD_SCOPE)

    def selector(self, sel: Selector, path: PathKey, why: str, alternative: str) -> MetricDef | None:
        metric = self.metric(sel.metric, path + ("metric",), "counter", why, alternative)
        if metric is not None:
            self.match(sel.metric, sel.match, path + ("match",))
        return metric

    def part_of_total(self, part: Selector, total: Selector, role: str, path: PathKey) -> None:
        """Warn when `good`/`bad` on the same series as `total` selects events `total` leaves out.

        Decided label by label where the answer is certain: for a label with declared values, the
        values each side selects are compared; for a label with only a cap, only a part with no
        filter at all against a filtered total (two different filters on unknown values are not
        compared). The ratio is still computed, so this is a warning: it fails with --strict."""
        if part.metric != total.metric:
            return
        metric = self.catalog.metrics.get(self.base_metric(total.metric))
        for label, wanted in total.match.items():
            if metric is None or label not in metric.labels or label not in self.catalog.labels:
                continue  # reported by match()
            declared = self.catalog.labels[label].values
            written = part.match.get(label)
            if declared is None:
                if written is not None or _matches_all(wanted):
                    continue
                extra = "any value"
            else:
                in_total, in_part = _selected(wanted, declared), _selected(written, declared)
                if in_total is None or in_part is None:
                    continue  # a bad regex, reported by label_match()
                left_out = [v for v in in_part if v not in in_total]
                if not left_out:
                    continue
                extra = ", ".join(left_out)
            ratio = "error" if role == "bad" else "success"
            at = path + (role, "match", label) if written is not None else path + (role, "match")
            self.r.warn(at, f"{role} counts {label} {extra}, which total leaves out ({label}: "
                        f"{_match_text(wanted)}): {role} events must be a subset of total's, or the {ratio} ratio "
                        "is off (it can pass 100%)",
                        f"give {role} the same filter as total: {label}: {_match_text(wanted)}",
                        at_key=written is not None, code=C.NOT_A_SUBSET)

    def group_by(self, labels: list[str], metrics: Iterable[str], path: PathKey, what: str) -> None:
        seen: set[str] = set()
        for i, label in enumerate(labels):
            lpath = path + (i,)
            if label in seen:
                self.r.error(lpath, f"{what} label {label!r} is listed twice", "remove the duplicate",
                             code=C.DUPLICATE_NAME)
                continue
            seen.add(label)
            if label in IDENTITY_LABELS:
                self.r.error(lpath, f"{what} cannot use {label!r}", f"slokit sets the {label!r} label itself",
                             code=C.RESERVED_NAME)
                continue
            for name in sorted(set(metrics)):
                if not self.label_on(label, name, lpath):
                    break

    # -- SLOs -------------------------------------------------------------

    def slo(self, i: int, slo: SLO) -> None:
        path = ("slos", i)
        ratio_typo = self.objective_as_ratio(slo.objective, path + ("objective",))
        self.alert_labels(slo.labels, path + ("labels",))
        if slo.record_labels:
            for name in slo.labels:
                if name in slo.group_by:
                    self.r.error(path + ("labels", name), f"label {name!r} is also in group_by; with record_labels "
                                 "it would overwrite the group's value on every recorded series",
                                 "rename the label, or set record_labels: false", at_key=True,
                                 code=C.DUPLICATE_NAME)
        window_ok = self.window(slo.window, path + ("window",), "window")
        self.guard_on_ratio(slo, path)
        metrics = self.sli(slo, path + ("sli",))
        if metrics is not None:
            self.group_by(slo.group_by, metrics, path + ("group_by",), "group_by")
        # Tier arithmetic on a 0.995% objective would only repeat the mistake in other words.
        self.alerting(slo, path, window_ok and not ratio_typo)
        if window_ok and not ratio_typo:
            self.tight_objective(slo, path)

    def tight_objective(self, slo: SLO, path: PathKey) -> None:
        """Warn when the error budget is a few minutes of full outage: one bad deploy spends all of it."""
        outage = duration_seconds(slo.window) * (100 - slo.objective) / 100
        if outage < TIGHT_BUDGET_SECONDS:
            self.r.warn(path + ("objective",), f"objective {slo.objective:g}% over {slo.window} leaves an error "
                        f"budget of {fmt_seconds(round(outage))} of full outage",
                        "a single bad deploy or provider incident spends all of it; check that the users need "
                        "this, or lengthen the window", code=C.TIGHT_OBJECTIVE)

    def sli(self, slo: SLO, path: PathKey) -> list[str] | None:
        """Check the SLI; return the metrics it reads (None when they are not all known)."""
        sli = slo.sli
        if sli.ratio is not None:
            ratio, rpath = sli.ratio, path + ("ratio",)
            why = "ratio SLIs count events with counters"
            hint = "use a threshold SLI for a histogram: threshold: {metric: ..., le: <bucket>}"
            role = "good" if ratio.good is not None else "bad"
            part = self.selector(ratio.good or ratio.bad, rpath + (role,), why, hint)
            total = self.selector(ratio.total, rpath + ("total",), why, hint)
            if part is None or total is None:
                return None
            self.part_of_total(ratio.good or ratio.bad, ratio.total, role, rpath)
            return [self.base_metric((ratio.good or ratio.bad).metric), self.base_metric(ratio.total.metric)]
        if sli.threshold is not None:
            return self.threshold(sli.threshold, path + ("threshold",))
        return self.raw(sli.raw, path + ("raw",))

    def threshold(self, th, path: PathKey) -> list[str] | None:
        metric = self.metric(th.metric, path + ("metric",), "histogram",
                             "threshold SLIs need a histogram", "use a ratio SLI for counters")
        if metric is None:
            return None
        self.match(th.metric, th.match, path + ("match",))
        side = "le" if th.le is not None else "gt"
        written = th.bound
        bound = in_unit(written, metric.unit)
        if bound is None:
            self.r.error(path + (side,), f"{side}: {written} is a duration, but {th.metric} has unit {metric.unit!r}, "
                         "not a time", f"write the bound as a number in {metric.unit}, or fix the metric's `unit` in "
                         "the catalog (seconds, milliseconds, ...)", code=C.UNIT_MISMATCH)
            return [th.metric]
        # A duration is shown with what it became in the metric's unit: `le: 500ms (0.5 seconds)`.
        shown = f"{written} ({number(bound)} {metric.unit})" if is_duration(written) else number(bound)
        buckets = metric.buckets or []
        if not any(same_bound(bound, b) or math.isclose(float(bound), b, rel_tol=1e-9, abs_tol=0)
                   for b in buckets):
            below = [b for b in buckets if b < bound]
            above = [b for b in buckets if b > bound]
            if below and above:
                nearest = f"the nearest buckets are {fmt_number(below[-1])} and {fmt_number(above[0])}"
            elif below:
                nearest = f"the largest bucket is {fmt_number(below[-1])}"
            else:
                nearest = f"the smallest bucket is {fmt_number(above[0])}" if above else "it has no buckets"
            self.r.error(path + (side,), f"{side}: {shown} is not a bucket boundary of {th.metric}; "
                         f"{nearest}",
                         f"use one of them, or add {number(bound)} to the buckets of {th.metric} in the "
                         f"catalog (between buckets the SLI could only be interpolated)", code=C.BAD_BUCKETS)
        return [th.metric]

    def raw(self, raw: RawSLI, path: PathKey) -> list[str] | None:
        metrics: list[str] = []
        ok = True
        for role in ("good", "bad", "total", "error_ratio"):
            expr = getattr(raw, role)
            if expr is None:
                continue
            found = self.promql(expr, path + (role,), role)
            if found is None:
                ok = False
            else:
                metrics += found
        if ok:
            self.untested_raw(raw, path)
        return metrics if ok else None

    def untested_raw(self, raw: RawSLI, path: PathKey) -> None:
        """Say so when the generated rule tests cannot feed a raw SLI (never a silently empty test)."""
        plain = raw.error_ratio is None and all(
            plain_rate_selector(expr) is not None for expr in (raw.good or raw.bad, raw.total) if expr is not None)
        if not plain:
            self.r.warn(path, "this raw SLI is not a single rate(selector[{{window}}]) per role, so the generated "
                        "rule tests cannot derive its input: the SLO's rules are untested",
                        "write a typed ratio or threshold SLI where one fits, or write its tests by hand in "
                        "alerts/tests/ (slokit test runs them too)", code=C.UNTESTED_RAW_SLI)

    def promql(self, expr: str, path: PathKey, role: str) -> list[str] | None:
        """Parse one raw expression; return the catalog metrics it reads, or None."""
        if "{{window}}" not in expr:
            self.r.error(path, f"raw SLI `{role}` must use [{{{{window}}}}] as its range",
                         "e.g. rate(llm_requests_total{status=\"ok\"}[{{window}}]); slokit fills in each window",
                         code=C.BAD_PROMQL)
            return None
        if expr.count("{{window}}") != expr.count("[{{window}}]") + expr.count("[{{window}}:"):
            self.r.error(path, f"raw SLI `{role}` uses {{{{window}}}} outside a range",
                         "write it only as a range selector, e.g. rate(llm_requests_total[{{window}}])",
                         code=C.BAD_PROMQL)
            return None
        selectors = parse_selectors(expr.replace("{{window}}", "5m"))
        if isinstance(selectors, str):
            self.r.error(path, f"raw SLI `{role}` is not valid PromQL: {selectors}",
                         "check it with promtool or in the Prometheus UI, writing 5m for {{window}}", code=C.BAD_PROMQL)
            return None
        if "#" in _without_strings(expr):
            # The expression is wrapped in `sum by (...) (...)`: a comment would
            # swallow the closing parenthesis.
            self.r.error(path, f"raw SLI `{role}` contains a # comment",
                         "move the comment into a YAML comment above the key", code=C.BAD_PROMQL)
            return None
        if not selectors:
            self.r.error(path, f"raw SLI `{role}` reads no metric", "use a rate of a catalog metric", code=C.BAD_PROMQL)
            return None
        metrics, ok = [], True
        for name, matchers in selectors:
            if name is None:
                self.r.error(path, f"raw SLI `{role}` selects series without a fixed metric name",
                             "name the metric, e.g. llm_requests_total{...}", code=C.BAD_PROMQL)
                ok = False
                continue
            metric_name, series = resolve_series(name, self.catalog)
            if metric_name is None:
                self.r.error(path, f"raw SLI `{role}` reads unknown metric {name!r}",
                             did_you_mean(name, self.catalog.metrics) or "add it to the metric catalog first",
                             code=C.UNKNOWN_METRIC)
                ok = False
                continue
            self.used_metrics.add(metric_name)
            metrics.append(metric_name)
            for label, op, value in matchers:
                if label == "__name__" or (label == "le" and series == "_bucket"):
                    continue
                if not self.label_on(label, metric_name, path, context=f"raw SLI `{role}`: "):
                    ok = False
                elif op == "=":
                    self.label_value(label, value, path)
        return metrics if ok else None

    def alerting(self, slo: SLO, path: PathKey, window_ok: bool) -> None:
        alerting = slo.alerting
        if alerting is not None:
            self.shared_alerting(alerting, path + ("alerting",))
        if alerting is not None and alerting.tiers is not None:
            tiers, tpath, where = alerting.tiers, path + ("alerting", "tiers"), ""
            sound = self.tier_list(tiers, tpath)
        elif self.spec.alerting is not None and self.spec.alerting.tiers is not None:
            tiers, tpath, where = self.spec.alerting.tiers, ("alerting", "tiers"), f" (for SLO {slo.name!r})"
            sound = self.file_tiers_sound
        else:
            if window_ok:
                self.default_tiers(slo, path)
            return
        if window_ok:
            for i, tier in enumerate(tiers):
                if sound[i]:
                    self.tier_fits(tier, tpath + (i,), slo, where)

    def severity_enabled(self, slo: SLO, severity: str) -> bool:
        """An SLO's own `page:`/`ticket:` setting wins over the file's."""
        if slo.alerting is not None and severity in slo.alerting.model_fields_set:
            return getattr(slo.alerting, severity).enabled
        if self.spec.alerting is not None:
            return getattr(self.spec.alerting, severity).enabled
        return True

    def tier_list(self, tiers: list[Tier], path: PathKey) -> list[bool]:
        """Check the windows of each tier on its own; return which tiers are sound."""
        sound = []
        seen: set[tuple[str, int]] = set()
        for i, tier in enumerate(tiers):
            tpath = path + (i,)
            ok = self.window(tier.long_window, tpath + ("long_window",), "long_window")
            long_s = duration_seconds(tier.long_window)
            if ok and tier.short_window is not None:
                ok = self.window(tier.short_window, tpath + ("short_window",), "short_window")
                if ok and duration_seconds(tier.short_window) >= long_s:
                    self.r.error(tpath + ("short_window",), f"short_window {tier.short_window} must be shorter "
                                 f"than long_window {tier.long_window}", "the workbook uses 1/12 of the long window",
                                 code=C.BAD_TIER)
                    ok = False
            elif ok and (long_s % (12 * MINUTE) or long_s < 12 * MIN_WINDOW):
                self.r.error(tpath + ("long_window",), f"the default short window (long_window / 12 = "
                             f"{fmt_seconds(long_s / 12)}) must be a whole number of minutes and at least 5m",
                             "set short_window explicitly", code=C.BAD_TIER)
                ok = False
            if (tier.severity, long_s) in seen:
                self.r.error(tpath, f"two {tier.severity} tiers with long_window {tier.long_window}", "remove one",
                             code=C.DUPLICATE_NAME)
            seen.add((tier.severity, long_s))
            sound.append(ok)
        return sound

    def tier_fits(self, tier: Tier, path: PathKey, slo: SLO, where: str) -> None:
        """Checks of a sound tier against the SLO it alerts on."""
        if duration_seconds(tier.long_window) > duration_seconds(slo.window):
            self.r.error(path + ("long_window",),
                         f"long_window {tier.long_window}{where} is longer than the SLO window {slo.window}",
                         "shorten long_window", code=C.BAD_TIER)
            return
        needed = self.error_ratio_needed(tier, slo)
        if needed > 1 and self.severity_enabled(slo, tier.severity):
            self.r.error(path + ("budget_percent",),
                         f"{tier.severity} tier {tier.budget_percent:g}%/{tier.long_window}{where} can never fire: "
                         f"with objective {slo.objective:g}% it needs an error ratio of {needed * 100:.0f}%",
                         "lower budget_percent or lengthen long_window", code=C.BAD_TIER)
            return
        self.burn_below_one(tier.severity, tier.budget_percent, tier.long_window, path + ("budget_percent",), slo,
                            where, "raise budget_percent or shorten long_window")

    def burn_below_one(self, severity: str, budget_percent: float, long_window: str, path: PathKey, slo: SLO,
                       where: str, hint: str) -> None:
        """A tier below burn rate 1 fires while the SLO is on track: the budget would last the whole window."""
        from slokit.promql import number
        from slokit.windows import burn_factor

        if not self.severity_enabled(slo, severity):
            return
        factor = burn_factor(Decimal(str(budget_percent)), duration_seconds(slo.window), duration_seconds(long_window))
        if factor < 1:
            self.r.error(path, f"{severity} tier {budget_percent:g}%/{long_window}{where} fires at a burn rate of "
                         f"{number(factor)} (< 1): it alerts while the SLO is on track to meet its objective", hint,
                         code=C.BAD_TIER)

    @staticmethod
    def error_ratio_needed(tier: Tier, slo: SLO) -> float:
        """The error ratio at which the tier fires: burn rate x error budget."""
        burn = tier.budget_percent / 100 * duration_seconds(slo.window) / duration_seconds(tier.long_window)
        return burn * (100 - slo.objective) / 100

    def default_tiers(self, slo: SLO, path: PathKey) -> None:
        """The default tiers, scaled to the SLO window as the plan scales them, must fit and be able to fire."""
        from slokit.windows import format_duration, resolve_tiers

        window = duration_seconds(slo.window)
        tiers = resolve_tiers(window, None)
        longest = max(t.long_s for t in tiers)
        if longest > window:
            self.r.error(path + ("window",), f"window {slo.window} is too short for the default alert tiers "
                         f"(scaled to it, their longest window is {format_duration(longest)})",
                         "use a window of days, e.g. 7d, or set `alerting.tiers` that fit into it", code=C.BAD_WINDOW)
            return
        budget = (100 - slo.objective) / 100
        dead = [t for t in tiers if float(t.burn_factor) * budget > 1 and self.severity_enabled(slo, t.severity)]
        if dead:
            names = " and ".join(f"{t.severity} {float(t.budget_percent):g}%/{t.long_window}" for t in dead)
            ratios = " and ".join(f"{float(t.burn_factor) * budget * 100:.0f}%" for t in dead)
            several = len(dead) > 1
            self.r.error(path + ("objective",), f"with objective {slo.objective:g}% the default alert tier"
                         f"{'s' if several else ''} {names} can never fire ({'they need' if several else 'it needs'} "
                         f"an error ratio of {ratios})",
                         "set `alerting.tiers` with smaller budget_percent or longer windows, or turn the "
                         "severity off (enabled: false)", code=C.BAD_TIER)
            return
        for t in tiers:
            self.burn_below_one(t.severity, float(t.budget_percent), t.long_window, path + ("window",), slo,
                                " (a default tier scaled to the window)",
                                "set `alerting.tiers` that fit the window, or use a window of days")

    def guard_on_ratio(self, slo: SLO, path: PathKey) -> None:
        """An `error_ratio` SLI counts no events, so a minimum-traffic guard would compare ratios with events."""
        if slo.sli.raw is None or slo.sli.raw.error_ratio is None:
            return
        for where, alerting in ((path + ("alerting",), slo.alerting), (("alerting",), self.spec.alerting)):
            if alerting is not None and alerting.min_events_per_hour:
                self.r.error(where + ("min_events_per_hour",), f"SLO {slo.name!r} has an error_ratio SLI, which "
                             "counts no events: min_events_per_hour cannot apply to it",
                             "write the SLI as bad (or good) and total rates, or drop the guard", code=C.BAD_VALUE)
                return

    def objective_as_ratio(self, objective: float, path: PathKey) -> bool:
        """`objective: 0.995` is the OpenSLO habit (a ratio); slokit reads percent, so it would mean 0.995%."""
        if objective <= 1:
            from slokit.promql import number

            self.r.error(path, f"objective {objective:g} is a percentage here: {objective:g}% of events good",
                         f"did you mean {number(Decimal(str(objective)) * 100)}? objective is written in percent, "
                         "e.g. 99.5",
                         code=C.OUT_OF_RANGE)
            return True
        return False

    def shared_alerting(self, alerting, path: PathKey) -> None:
        """What an `alerting:` block says for both severities."""
        self.route(alerting.page, path + ("page",))
        self.route(alerting.ticket, path + ("ticket",))
        self.alert_labels(alerting.labels, path + ("labels",))
        values = alerting.severity_values
        if values is not None:
            vpath = path + ("severity_values",)
            for severity in ("page", "ticket"):
                problem = label_value_problem(getattr(values, severity))
                if problem:
                    self.r.error(vpath + (severity,), f"severity value {getattr(values, severity)!r} {problem}",
                                 "label values use letters, digits and _ . : @ / -",
                                 code=C.BAD_LABEL_VALUE)
            if values.page == values.ticket:
                self.r.error(vpath, f"page and ticket alerts would both say severity={values.page!r}",
                             "give each tier its own word, e.g. {page: critical, ticket: warning}; routing and "
                             "inhibition tell the tiers apart by it",
                             code=C.DUPLICATE_NAME)

    def runbook_url_once(self) -> None:
        """A shared `annotations.runbook_url` would replace every route's `runbook_url` field: say so."""
        spec = self.spec
        blocks = [(("alerting",), spec.alerting)] + [(("slos", i, "alerting"), s.alerting)
                                                    for i, s in enumerate(spec.slos)]
        if not any(b is not None and (b.page.runbook_url or b.ticket.runbook_url) for _, b in blocks):
            return
        for path, block in blocks:
            if block is not None and "runbook_url" in block.annotations:
                self.r.error(path + ("annotations", "runbook_url"), "runbook_url is set twice: as an annotation "
                             "here and as `runbook_url` of a route in this file", "keep one; `runbook_url` is the "
                             "usual place", at_key=True, code=C.DUPLICATE_NAME)

    def route(self, route: Route, path: PathKey) -> None:
        if route.runbook_url is not None:
            self.url(route.runbook_url, path + ("runbook_url",), "runbook_url")
            if "runbook_url" in route.annotations:
                # Either would have to be dropped; say so instead of choosing.
                self.r.error(path + ("annotations", "runbook_url"), "runbook_url is set twice: as `runbook_url` "
                             "and as an annotation", "keep one; `runbook_url` is the usual place", at_key=True, code=C.DUPLICATE_NAME)
        self.alert_labels(route.labels, path + ("labels",))

    def alert_labels(self, labels: dict[str, str], path: PathKey) -> None:
        for name, value in labels.items():
            if name in RESERVED_ALERT_LABELS or name.startswith("__"):
                self.r.error(path + (name,), f"label {name!r} is set by slokit", "choose another label name",
                             at_key=True, code=C.RESERVED_NAME)
            if any(c in value for c in "\n\r\t") or value == "":
                self.r.error(path + (name,), f"value of label {name!r} is empty or contains a line break or tab",
                             "write a short single-line value", code=C.BAD_LABEL_VALUE)
            elif lookalike_problem(value):
                self.r.error(path + (name,), f"value of label {name!r} {lookalike_problem(value)}",
                             "alerts are told apart and silenced by their labels: write the value with characters "
                             "that can be seen and typed, in one script", code=C.BAD_LABEL_VALUE)

    def url(self, url: str, path: PathKey, what: str) -> None:
        if not re.match(r"^https?://[^\s\"'<>`]+$", url):
            self.r.error(path, f"{what} must be an http(s) URL without spaces or quotes, got {url[:60]!r}",
                         "e.g. https://runbooks.example.com/my-service", code=C.BAD_URL)

    def window(self, text: str, path: PathKey, what: str) -> bool:
        seconds = duration_seconds(text)
        if seconds % MINUTE:
            self.r.error(path, f"{what} {text} is not a whole number of minutes",
                         "use a Prometheus duration such as 30d, 28d or 7d (evaluation runs every minute)",
                         code=C.BAD_WINDOW)
        elif seconds < MIN_WINDOW:
            self.r.error(path, f"{what} {text} is shorter than 5m", "rate() over less than 5m is too noisy",
                         code=C.BAD_WINDOW)
        elif seconds > MAX_WINDOW:
            self.r.error(path, f"{what} {text} is longer than 366d", "use a window of at most a year, e.g. 30d",
                         code=C.BAD_WINDOW)
        else:
            return True
        return False

    # -- budgets ------------------------------------------------------------

    def budget(self, i: int, budget: Budget) -> None:
        path = ("budgets", i)
        self.window(budget.window, path + ("window",), "window")
        why = "budgets add up a counter's increase"
        metric = self.metric(budget.metric, path + ("metric",), "counter", why,
                             "choose a counter such as llm_cost_usd_total")
        if metric is not None:
            self.match(budget.metric, budget.match, path + ("match",))
            self.group_by(budget.by, [self.base_metric(budget.metric)], path + ("by",), "by")
        if budget.regression is not None:
            rpath = path + ("regression",)
            self.selector(budget.regression.per, rpath + ("per",), "regressions divide by a counter of events",
                          "choose a counter such as llm_requests_total")
            self.window(budget.regression.offset, rpath + ("offset",), "offset")
        if budget.alerting is not None:
            self.route(budget.alerting, path + ("alerting",))
            if budget.alerting.alert_name is not None:
                self.r.error(path + ("alerting", "alert_name"), "a budget's alerts keep their names "
                             "(SLOBudgetProjectedOverrun, SLOCostRegression)",
                             "remove alert_name here; route on the `budget` label instead", at_key=True,
                             code=C.RESERVED_NAME)

    # -- the whole file ---------------------------------------------------

    def run(self) -> None:
        spec = self.spec
        if spec.owner is None and ("owner",) not in self.r.source.positions:  # absent, not merely invalid
            self.r.warn(("service",), f"service {spec.service!r} has no owner, so its alerts carry no `team` label",
                        "add `owner: <team>` so Alertmanager can route the alerts to the team that owns them",
                        at_key=True, code=C.MISSING_OWNER)
        self.alert_labels(spec.labels, ("labels",))
        self.runbook_url_once()
        self.url(spec.grafana_url, ("grafana_url",), "grafana_url")
        if spec.alerting is not None:
            self.shared_alerting(spec.alerting, ("alerting",))
            self.file_tiers_sound = self.tier_list(spec.alerting.tiers or [], ("alerting", "tiers"))
        self.unique([s.name for s in spec.slos], "slos", "SLO name")
        self.unique([b.name for b in spec.budgets], "budgets", "budget name")
        for i, slo in enumerate(spec.slos):
            self.slo(i, slo)
        for i, budget in enumerate(spec.budgets):
            self.budget(i, budget)
        self.scope()

    def unique(self, names: list[str], key: str, what: str) -> None:
        first: dict[str, int] = {}
        for i, name in enumerate(names):
            if name in first:
                line, col = self.r.source.position((key, first[name], "name"))
                self.r.error((key, i, "name"), f"duplicate {what} {name!r} (first defined at line {line}, "
                             f"column {col})", "names must be unique within the file; rename one",
                             code=C.DUPLICATE_NAME)
            else:
                first[name] = i

    def scope(self) -> None:
        for label, value in self.spec.scope.items():
            path = ("scope", label)
            if label not in self.catalog.labels:
                self.r.error(path, f"unknown label {label!r} in scope",
                             did_you_mean(label, self.catalog.labels) or "scope labels are catalog labels",
                             at_key=True, code=C.UNKNOWN_LABEL)
                continue
            values = value if isinstance(value, list) else [value]
            if not values:
                self.r.error(path, f"empty list for scope label {label!r} matches nothing", "list at least one value",
                             code=C.BAD_SCOPE)
            for i, v in enumerate(values):
                self.label_value(label, v, path + (i,) if isinstance(value, list) else path)
            carriers = [m for m in sorted(self.used_metrics) if label in self.catalog.metrics[m].labels]
            if self.used_metrics and not carriers:
                self.r.error(path, f"scope label {label!r} is on none of the metrics this service uses",
                             "a scope label filters only metrics that carry it; remove it or fix the label",
                             at_key=True, code=C.BAD_SCOPE)


# --------------------------------------------------------------------------
# PromQL of raw SLIs
# --------------------------------------------------------------------------


_PROMQL_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')


def _without_strings(expr: str) -> str:
    """`expr` with its PromQL string literals removed (a '#' inside a label value is not a comment)."""
    return _PROMQL_STRING.sub('""', expr)


# --------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------


def check_service(service: "ServiceFile", catalog: Catalog) -> list[Diagnostic]:
    check = _ServiceCheck(service.spec, catalog, _Report(service.source))
    check.run()
    return check.r.diags


def check_unique_services(services: Iterable["ServiceFile"],
                          changed: frozenset[str] = frozenset()) -> list[Diagnostic]:
    """A service defined twice is reported at the file the change added or modified, else at the later path."""
    first: dict[str, "ServiceFile"] = {}
    diags = []
    for service in sorted(services, key=lambda s: (s.source.path in changed, s.source.path)):
        name = service.spec.service
        if name in first:
            other = first[name].source
            line, col = other.position(("service",))
            diags.append(service.source.diagnostic(
                ("service",), f"service {name!r} is already defined in {other.path}:{line}:{col}",
                "service names must be unique across files; rename one or merge the files", code=C.DUPLICATE_SERVICE))
        else:
            first[name] = service
    return diags


def validate_project(project: "Project") -> list[Diagnostic]:
    diags = check_catalog(project.catalog, project.catalog_source)
    for service in project.services:
        diags += check_service(service, project.catalog)
    diags += check_unique_services(project.services, project.changed)
    return sorted(set(diags))
