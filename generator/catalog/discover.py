"""`slokit catalog discover`: catalog entries from the metrics that really exist.

Two sources feed the same `Observed` data: an exposition (a scraped /metrics
page or a file, Prometheus text or OpenMetrics, parsed by prometheus_client)
or a running Prometheus (metadata, series and label values over its HTTP API).
`render_snippet` turns what was observed into a YAML snippet for review; it is
never merged into a catalog, because only a person can tell a bounded label
from one that merely looked bounded in a quiet hour.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

import yaml

from slokit.model import (LABEL_NAME_MAX, LABEL_NAME_PATTERN, LABEL_VALUE_MAX, METRIC_NAME_MAX,
                          METRIC_NAME_PATTERN, TEXT_MAX)
from slokit.validate import RESERVED_CATALOG_LABELS, forbidden_label, label_value_problem

HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
# Prometheus attaches these to every scraped series; they name the target, not the metric.
TARGET_LABELS = frozenset({"job", "instance"})
# Series Prometheus writes about its own scrapes, never application metrics.
SCRAPE_SERIES = frozenset({"up", "scrape_duration_seconds", "scrape_samples_scraped",
                           "scrape_samples_post_metric_relabeling", "scrape_series_added"})
# Name suffixes that really are units, so a unit guessed from one is the metric's unit: the
# Prometheus base units, the time and size units slokit converts or advises on (units.TIME_UNITS,
# validate.NON_BASE_UNITS), and what slokit's own catalogs and presets count in (usd, tokens,
# requests, ...; tests/catalog/test_discover.py keeps this in step with them). Any other last
# word of a name (`gen_ai_client_token_usage`) names the thing measured, not its unit.
KNOWN_UNITS = frozenset({
    "seconds", "bytes", "ratio", "celsius", "meters", "volts", "amperes", "joules", "grams",
    "milliseconds", "microseconds", "nanoseconds", "minutes", "hours", "kilobytes", "megabytes", "percent",
    "usd", "tokens", "tokens_per_second", "requests", "responses", "calls", "retries", "exceptions",
    "preemptions", "elements", "choices", "ratings", "score",
})
# The catalog requires a unit; when neither the source nor the name gives one, this placeholder
# (a valid unit, so the snippet loads) is written with a comment asking the reviewer to set it.
NO_UNIT = "unknown"
DEFAULT_MAX_VALUES = 20
# A comment names at most this many refused label values, each cut to this many characters.
SHOWN_VALUES, SHOWN_VALUE_MAX = 5, 60
# Exposition types the catalog cannot declare, with why (printed as a comment).
UNSUPPORTED = {
    "unknown": "untyped in the exposition; declare it by hand if you know its type",
    "info": "an OpenMetrics info metric; declare it as a gauge named ..._info",
    "stateset": "an OpenMetrics stateset; declare it as a gauge",
}

# Label names that usually carry one value per person, request or text, with why.
_SUSPECT_NAMES = (
    (re.compile(r"(^|_)(user|userid|username|customer|account|member)(_|$)"), "looks like a user id"),
    (re.compile(r"(^|_)(trace|span|traceid|spanid|correlation)(_|$)"), "looks like a trace id"),
    (re.compile(r"(^|_)(session|conversation|thread|chat|request|message)(_?id)?$"), "looks like a session or request id"),
    (re.compile(r"(^|_)(email|mail|phone)(_|$)"), "looks like an email address or phone number"),
    (re.compile(r"(^|_)(prompt|completion|question|query|input|output|text|content)(_text)?$"),
     "looks like prompt or response text"),
    (re.compile(r"(^|_)(ip|addr|client_ip|remote_addr|url)$"), "looks like a client address or URL"),
)
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_HEX_ID = re.compile(r"^[0-9a-f]{16,64}$", re.I)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.I)


class DiscoverError(Exception):
    """A source could not be read or parsed; the message says which and why."""


@dataclass
class Family:
    """One metric family as observed: the catalog name, its type and every label value seen."""

    name: str
    type: str
    help: str = ""
    unit: str = ""
    labels: dict[str, set[str]] = field(default_factory=dict)
    buckets: set[float] = field(default_factory=set)
    samples: int = 0

    def see(self, labels: dict[str, str]) -> None:
        self.samples += 1
        for key, value in labels.items():
            if key == "le" and self.type == "histogram":
                self.buckets.add(_bucket(value))
            elif key == "quantile" and self.type == "summary":
                continue  # the summary's own quantile series, not a label of the metric
            elif key not in TARGET_LABELS and not key.startswith("__") and value != "":
                # An empty value is no label at all to Prometheus (it stores the series without it).
                self.labels.setdefault(key, set()).add(value)


@dataclass
class Observed:
    source: str
    families: dict[str, Family] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # series name -> why it is not in the snippet


def _bucket(le: str) -> float:
    try:
        return float(le)
    except ValueError:
        raise DiscoverError(f"bucket boundary le={le!r} is not a number") from None


# --------------------------------------------------------------------------
# Exposition (text or OpenMetrics)
# --------------------------------------------------------------------------


def is_openmetrics(text: str) -> bool:
    return text.rstrip().endswith("# EOF")


def from_exposition(text: str, source: str) -> Observed:
    """Parse a /metrics page; OpenMetrics when it ends in `# EOF`, else the Prometheus text format."""
    if is_openmetrics(text):
        from prometheus_client.openmetrics.parser import text_string_to_metric_families
    else:
        from prometheus_client.parser import text_string_to_metric_families
    observed = Observed(source)
    try:
        parsed = list(text_string_to_metric_families(text))
    except ValueError as exc:
        raise DiscoverError(f"{source}: not a valid exposition: {exc}") from None
    for fam in parsed:
        kind = {"untyped": "unknown", "gaugehistogram": "histogram"}.get(fam.type, fam.type)
        name = fam.name + "_total" if kind == "counter" else fam.name
        if kind in UNSUPPORTED:
            observed.skipped[name] = UNSUPPORTED[kind]
            continue
        family = observed.families.setdefault(name, Family(name, kind, fam.documentation, fam.unit))
        for sample in fam.samples:
            if kind == "counter" and sample.name.endswith("_created"):
                continue
            family.see(sample.labels)
    return observed


# --------------------------------------------------------------------------
# Prometheus HTTP API
# --------------------------------------------------------------------------


def http_get(url: str, accept: str = "application/json", timeout: float = 30.0) -> str:
    """GET `url` with urllib (the core has no HTTP library dependency); errors become DiscoverError."""
    import urllib.error
    import urllib.request

    if not url.startswith(("http://", "https://")):
        raise DiscoverError(f"{url}: only http:// and https:// URLs are read")
    request = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310 - URL given by the user
            return resp.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        body = exc.read().decode("utf-8", "replace")
        if "json" in accept:
            return body  # Prometheus explains errors in a JSON body
        raise DiscoverError(f"{url}: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError, UnicodeDecodeError) as exc:
        raise DiscoverError(f"{url}: {getattr(exc, 'reason', exc)}") from None


@dataclass
class PromAPI:
    url: str

    def get(self, path: str, params: list[tuple[str, str]] | None = None):
        import json
        import urllib.parse

        address = self.url.rstrip("/") + path + ("?" + urllib.parse.urlencode(params) if params else "")
        try:
            body = json.loads(http_get(address))
        except ValueError:
            raise DiscoverError(f"{address}: the answer is not JSON; is this a Prometheus?") from None
        if body.get("status") != "success":
            raise DiscoverError(f"{address}: {body.get('errorType', 'error')}: {body.get('error', '')}")
        return body["data"]


def from_prometheus(url: str, matches: list[str]) -> Observed:
    """Families from /api/v1/metadata and /api/v1/series, label values from
    /api/v1/label/<name>/values (so a cap reflects all series, not a sample)."""
    api = PromAPI(url)
    metadata = api.get("/api/v1/metadata")
    selectors = matches or ['{__name__=~".+"}']
    series = api.get("/api/v1/series", [("match[]", m) for m in selectors])
    names: dict[str, set[str]] = {}
    for labels in series:
        names.setdefault(labels["__name__"], set()).update(k for k in labels if k != "__name__")
    observed = Observed(url)
    for series_name in sorted(names):
        base, kind, meta = _family_of(series_name, metadata, names)
        if kind is None:
            if series_name not in SCRAPE_SERIES:
                observed.skipped[series_name] = "no metadata (type unknown) in Prometheus"
            continue
        if kind in UNSUPPORTED:
            observed.skipped[base] = UNSUPPORTED[kind]
            continue
        family = observed.families.setdefault(base, Family(base, kind, meta.get("help", ""), meta.get("unit", "")))
        for label in sorted(names[series_name]):
            if label == "le" and kind == "histogram":
                values = api.get("/api/v1/label/le/values", [("match[]", series_name)])
            else:
                values = api.get(f"/api/v1/label/{label}/values", [("match[]", series_name)])
            for value in values:
                family.see({label: value})
    return observed


def _family_of(series: str, metadata: dict, names: dict) -> tuple[str, str | None, dict]:
    """The catalog name, type and metadata of a stored series (a histogram's
    _bucket/_sum/_count map to the histogram; a counter keeps its _total,
    whether the exposition's TYPE line carried it or not, as with OpenMetrics)."""
    for suffix in HISTOGRAM_SUFFIXES:
        base = series.removesuffix(suffix)
        if base != series and base in metadata and metadata[base][0]["type"] in ("histogram", "summary",
                                                                              "gaugehistogram"):
            kind = metadata[base][0]["type"]
            return base, "histogram" if kind == "gaugehistogram" else kind, metadata[base][0]
    if series in metadata:
        return series, metadata[series][0]["type"], metadata[series][0]
    if series.endswith("_total") and series.removesuffix("_total") in metadata:
        meta = metadata[series.removesuffix("_total")][0]
        return series, meta["type"], meta
    if series.endswith("_created"):
        return series, "unknown", {}
    return series, None, {}


# --------------------------------------------------------------------------
# The snippet
# --------------------------------------------------------------------------


def suspect_reason(name: str, values: set[str]) -> str:
    """Why label `name` must not be on a metric, or '' when it looks bounded."""
    if forbidden_label(name):
        return "its name is on slokit's list of unbounded or personal labels"
    for pattern, reason in _SUSPECT_NAMES:
        if pattern.search(name.lower()):
            return reason
    if not values:
        return ""
    checks = ((_UUID, "its values look like UUIDs (one per request or user)"),
              (_HEX_ID, "its values look like trace or span ids (long hex)"),
              (_EMAIL, "its values look like email addresses"))
    for pattern, reason in checks:
        if sum(bool(pattern.match(v)) for v in values) * 2 > len(values):
            return reason
    if sum(len(v) > 60 or len(v.split()) > 4 for v in values) * 2 > len(values):
        return "its values look like free text (prompts or responses)"
    return ""


def guess_unit(family: Family) -> tuple[str, str]:
    """The catalog unit and where it came from: "source" (metadata or `# UNIT`), "name" (a unit
    suffix of the name, see KNOWN_UNITS) or "" (neither: the NO_UNIT placeholder)."""
    if family.unit and re.fullmatch(r"[a-z][a-z0-9_]{0,39}", family.unit):
        return family.unit, "source"
    stem = family.name.removesuffix("_total")
    if stem.endswith("_info"):
        return "info", "name"
    # A whole word (after _ or :), so `_milliseconds` is never `seconds`; longest first, sorted,
    # so the result never depends on the set's order.
    for unit in sorted(KNOWN_UNITS, key=lambda u: (-len(u), u)):
        if re.search(rf"(^|[_:]){unit}$", stem):
            return unit, "name"
    return NO_UNIT, ""


def nice_cap(n: int) -> int:
    """A cardinality cap with headroom over `n` observed values: the next of 10, 20, 50, 100, 200, 500, ..."""
    cap = 10
    while cap < 2 * n:
        cap = cap * 5 // 2 if str(cap).startswith("2") else cap * 2
    return min(cap, 10000)


def value_problem(value: str) -> str:
    """Why the catalog would refuse `value` as a declared label value, or ''."""
    if len(value) > LABEL_VALUE_MAX:
        return f"is longer than {LABEL_VALUE_MAX} characters"
    return label_value_problem(value)


def metric_problem(name: str, families: dict[str, Family]) -> str:
    """Why `name` cannot be a catalog metric (or not yet: nothing observed to declare), or ''."""
    family = families[name]
    if not family.samples:
        # A labelled metric before its first observation: a HELP and TYPE line, no series.
        return "no series yet, so its labels (and buckets) are unknown; run discover again once it has some"
    if family.type == "histogram" and not any(math.isfinite(b) for b in family.buckets):
        return "a histogram with only the +Inf bucket: no bound a threshold SLI could use; declare it by hand"
    if len(name) > METRIC_NAME_MAX or not re.match(METRIC_NAME_PATTERN, name):
        return (f"not a metric name the catalog accepts ([a-zA-Z_:][a-zA-Z0-9_:]*, at most {METRIC_NAME_MAX} "
                "characters); Prometheus 2 stores no other names")
    if name.startswith("__"):
        return "names starting with '__' are reserved by Prometheus"
    for suffix in HISTOGRAM_SUFFIXES:
        base = name.removesuffix(suffix)
        if base != name and base in families and families[base].type == "histogram":
            return f"collides with the {suffix} series of histogram {base}"
    return ""


def label_name_problem(name: str) -> str:
    """Why label `name` cannot be declared in a catalog (besides looking unbounded), or ''."""
    if len(name) > LABEL_NAME_MAX or not re.match(LABEL_NAME_PATTERN, name):
        return f"not a label name the catalog accepts ([a-zA-Z_][a-zA-Z0-9_]*, at most {LABEL_NAME_MAX} characters)"
    if name in RESERVED_CATALOG_LABELS:
        return "the name is reserved by Prometheus (le for histogram buckets, quantile for summaries)"
    return ""


def render_snippet(observed: Observed, max_values: int = DEFAULT_MAX_VALUES) -> str:
    """The YAML snippet: `labels:` then `metrics:`, sorted, with review notes as comments.

    Whatever it declares passes the catalog checks (the tests load every snippet they produce):
    a name the catalog refuses becomes a comment, and a label with a value the catalog refuses
    gets a cap instead of its values."""
    skipped = dict(observed.skipped)
    families: dict[str, Family] = {}
    for name, family in observed.families.items():
        problem = metric_problem(name, observed.families)
        if problem:
            skipped[name] = problem
        else:
            families[name] = family
    labels: dict[str, set[str]] = {}
    for family in families.values():
        for name, values in family.labels.items():
            labels.setdefault(name, set()).update(values)
    # Labels left out, with why: FORBIDDEN ones (unbounded or personal) and names the catalog refuses.
    forbidden = {name: reason for name, values in labels.items() if (reason := suspect_reason(name, values))}
    refused = {name: reason for name in labels if name not in forbidden and (reason := label_name_problem(name))}
    lines = [f"# Discovered by `slokit catalog discover` from {_comment(observed.source)}.",
             "# Review before adding it to your catalog: values seen are not values promised, and labels",
             "# marked FORBIDDEN must move to traces or logs. Nothing was merged into any catalog.",
             "labels:"]
    for name in sorted(labels):
        values = labels[name]
        if name in forbidden:
            lines.append(f"  # FORBIDDEN {_comment(name)}: {forbidden[name]} ({len(values)} values seen); not declared")
            continue
        if name in refused:
            lines.append(f"  # not declared {_comment(name)}: {refused[name]}")
            continue
        lines.append(f"  {name}:")
        bad = {value: problem for value in sorted(values) if (problem := value_problem(value))}
        if len(values) > max_values:
            lines.append(f"    max_cardinality: {nice_cap(len(values))}  # {len(values)} values seen, more "
                         f"than {max_values}")
        elif bad:
            lines += _refused_values_lines(bad, len(values))
        else:
            lines.append(f"    values: {_flow(sorted(values))}")
    if not labels:
        lines[-1] = "labels: {}"
    lines.append("metrics:")
    dropped = {**forbidden, **refused}
    for name in sorted(families):
        lines += _metric_lines(families[name], dropped, forbidden)
    if not families:
        lines[-1] = "metrics: {}"
    for name, why in sorted(skipped.items()):
        lines.append(f"# skipped {_comment(name)}: {why}")
    return "\n".join(lines) + "\n"


def _refused_values_lines(bad: dict[str, str], seen: int) -> list[str]:
    """A cap, and comments naming the values that could not be declared and why (at most 5 shown)."""
    which = "the value seen is" if seen == 1 else f"{len(bad)} of the {seen} values seen are"
    lines = [f"    # a cap, not values: {which} not a catalog label value (letters, digits and _ . : @ / - only); "
             "SLOs select such values with a regex or `not`"]
    for value, problem in list(bad.items())[:SHOWN_VALUES]:
        lines.append(f"    #   {_shown(value)} {_comment(problem)}")
    if len(bad) > SHOWN_VALUES:
        lines.append(f"    #   and {len(bad) - SHOWN_VALUES} more")
    lines.append(f"    max_cardinality: {nice_cap(seen)}  # {seen} value{'s' if seen != 1 else ''} seen")
    return lines


def _metric_lines(family: Family, dropped: dict[str, str], forbidden: dict[str, str]) -> list[str]:
    lines = [f"  {_key(family.name)}:", f"    type: {family.type}"]
    unit, origin = guess_unit(family)
    note = {"source": "", "name": "  # guessed from the name"}.get(
        origin, "  # set it: neither the source nor the name gives a unit (thresholds and budgets are in it)")
    lines.append(f"    unit: {unit}{note}")
    help_text = family.help or family.name
    lines.append(f"    help: {_scalar(help_text[:TEXT_MAX])}")
    if len(help_text) > TEXT_MAX:
        lines.append(f"    # help cut to {TEXT_MAX} characters (the catalog's limit)")
    kept = [label for label in sorted(family.labels) if label not in dropped]
    lines.append(f"    labels: {_flow(kept)}")
    for label in sorted(set(family.labels) - set(kept)):
        if label in forbidden:
            lines.append(f"    # FORBIDDEN label {_comment(label)} dropped: {forbidden[label]}")
        else:
            lines.append(f"    # label {_comment(label)} dropped: {dropped[label]}")
    if family.type == "histogram":
        finite = sorted(b for b in family.buckets if math.isfinite(b))
        lines.append(f"    buckets: {_flow([_num(b) for b in finite], numbers=True)}")
    return lines


def _num(value: float) -> str:
    return str(int(value)) if value == int(value) and abs(value) < 1e15 else repr(value)


def _flow(items: list[str], numbers: bool = False) -> str:
    return "[" + ", ".join(items if numbers else [_scalar(item) for item in items]) + "]"


def _scalar(text: str) -> str:
    """One YAML flow scalar; quoted whenever plain style would change its meaning."""
    dumped = yaml.safe_dump(text, default_flow_style=True, width=10**6, allow_unicode=False).strip()
    return dumped.removesuffix("\n...").removesuffix(" ...").strip()


def _key(name: str) -> str:
    return name if re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", name) else _scalar(name)


def _comment(text: str) -> str:
    """`text` safe inside a `#` comment line: no line breaks (YAML also breaks at NEL, LS and PS),
    no invisible or bidi characters."""
    return "".join(c if c.isprintable() else "?" for c in text)


def _shown(value: str) -> str:
    """A label value quoted for a comment: ASCII only (escapes show what the value holds), cut short."""
    cut = value if len(value) <= SHOWN_VALUE_MAX else value[:SHOWN_VALUE_MAX]
    return json.dumps(cut, ensure_ascii=True) + ("..." if cut != value else "")
