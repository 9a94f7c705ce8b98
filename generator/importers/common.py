"""What both importers share: positioned warnings, names, PromQL analysis and the catalog they build.

An importer turns another tool's documents into plain slokit spec data (the
same dicts a user would write) plus the catalog entries its queries need.
Everything that cannot be carried over becomes a warning at the position of
the source field, never a silent drop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from slokit.errors import Diagnostic
from slokit.load import PathKey, Source
from slokit.model import ALERT_NAME_PATTERN, LABEL_NAME_PATTERN, SLUG_PATTERN
from slokit.validate import LABEL_VALUE_PATTERN, RESERVED_ALERT_LABELS, forbidden_label

# `{{.window}}` (Sloth, Go templates) and `{{ .window }}` become slokit's `{{window}}`.
GO_WINDOW = re.compile(r"\{\{\s*\.window\s*\}\}")
# Label values a typed selector can carry as written (a regex alternative such
# as 500|502 is a list of exact values; 5.. is a pattern and stays raw).
_LITERAL = re.compile(r"^[A-Za-z0-9_:@/-]+(?:\.[0-9]+)?$")
# Cap proposed for labels whose values the queries only match by pattern.
REVIEW_CAP = 100
DEFAULT_REVIEW_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
UNIT_SUFFIXES = ("seconds", "bytes", "ratio", "tokens", "usd", "requests", "errors")


@dataclass
class Warnings:
    """Positioned warnings of one import run."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, source: Source, path: PathKey, message: str, hint: str = "") -> None:
        line, column = source.position(path)
        self.items.append(Diagnostic(source.path, line, column, message, hint))

    def sorted(self) -> list[Diagnostic]:
        return sorted(set(self.items))


# --------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------


def slug(text: str) -> str:
    """The slokit slug closest to `text`: lowercase, other characters become '-'."""
    out = re.sub(r"[^a-z0-9_-]+", "-", str(text).lower()).strip("-_")
    return (out or "unnamed")[:63].rstrip("-_") or "unnamed"


def is_slug(text: str) -> bool:
    return bool(re.match(SLUG_PATTERN, str(text))) and len(str(text)) <= 63


def label_name(text: str) -> str:
    out = re.sub(r"[^a-zA-Z0-9_]", "_", str(text))
    return out if re.match(LABEL_NAME_PATTERN, out) else f"_{out}"


def is_alert_name(text: str) -> bool:
    return bool(re.match(ALERT_NAME_PATTERN, str(text)))


def label_value_ok(value: str) -> bool:
    return bool(LABEL_VALUE_PATTERN.match(str(value)))


def reserved_label(name: str) -> bool:
    return name in RESERVED_ALERT_LABELS or name.startswith("__")


def go_window(query: str) -> str:
    """Sloth's Go-template window variable in slokit's spelling."""
    return GO_WINDOW.sub("{{window}}", query)


# --------------------------------------------------------------------------
# PromQL
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str  # = != =~ !~
    value: str


@dataclass(frozen=True)
class Series:
    """A vector selector found in a query."""

    name: str
    matchers: tuple[Matcher, ...]


@dataclass(frozen=True)
class Query:
    """One source query, analysed.

    `series` lists every selector (for the catalog); `typed` is set when the
    whole query is `[sum(]rate(selector[window])[)]` with matchers a slokit
    selector can state (`=` values, `=~` lists of exact values), so it maps to
    a typed SLI; `instant` when it is `[sum(]selector[)]` without a range
    (OpenSLO's counter queries).
    """

    text: str
    series: tuple[Series, ...] = ()
    typed: "Typed | None" = None
    instant: "Typed | None" = None
    error: str = ""


@dataclass(frozen=True)
class Typed:
    metric: str
    match: dict


def _op(op) -> str:
    text = str(op)
    if "NotRe" in text:
        return "!~"
    if "Re" in text:
        return "=~"
    if "NotEqual" in text:
        return "!="
    return "="


def _matchers(vs) -> tuple[Matcher, ...]:
    found = [Matcher(m.name, _op(m.op), m.value) for m in vs.matchers.matchers]
    for group in vs.matchers.or_matchers:
        found += [Matcher(m.name, _op(m.op), m.value) for m in group]
    return tuple(found)


def literal_values(matcher: Matcher) -> list[str] | None:
    """The exact values a `=` or `=~` matcher selects, or None when it is a real pattern."""
    if matcher.op == "=":
        return [matcher.value] if _LITERAL.match(matcher.value) else None
    if matcher.op != "=~":
        return None
    body = matcher.value
    if body.startswith("(") and body.endswith(")") and body.count("(") == 1:
        body = body[1:-1]
    values = body.split("|")
    return values if all(_LITERAL.match(v) for v in values) else None


def _typed(vs) -> Typed | None:
    if vs.offset is not None or vs.at is not None or not vs.name:
        return None
    match: dict = {}
    for m in _matchers(vs):
        if m.label == "__name__":
            continue
        values = literal_values(m)
        if values is None or m.label in match:
            return None
        match[m.label] = values[0] if len(values) == 1 else sorted(values)
    return Typed(vs.name, match)


def _unwrap_sum(ast):
    import promql_parser as p

    while isinstance(ast, p.ParenExpr):
        ast = ast.expr
    if isinstance(ast, p.AggregateExpr) and str(ast.op) == "sum" and ast.modifier is None and ast.param is None:
        ast = ast.expr
        while isinstance(ast, p.ParenExpr):
            ast = ast.expr
    return ast


def _rate_typed(ast) -> Typed | None:
    """The selector of `[sum(]rate(selector[window])[)]`, when its matchers are typeable."""
    import promql_parser as p

    inner = _unwrap_sum(ast)
    if (isinstance(inner, p.Call) and inner.func.name == "rate" and len(inner.args) == 1
            and isinstance(inner.args[0], p.MatrixSelector)):
        return _typed(inner.args[0].vector_selector)
    return None


@dataclass(frozen=True)
class Latency:
    """`count - bucket{le=b}` over `count`: the share of a histogram's observations above b."""

    metric: str
    le: float
    match: dict


def latency_errors(error_query: str, total_query: str) -> Latency | None:
    """Sloth's latency idiom `sum(rate(h_count[w])) - sum(rate(h_bucket{le="b"}[w]))` over
    `sum(rate(h_count[w]))`, as a threshold SLI on histogram h (good when <= b)."""
    import promql_parser as p

    try:
        err = p.parse(error_query.replace("{{window}}", "5m"))
        total = p.parse(total_query.replace("{{window}}", "5m"))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:
        return None
    while isinstance(err, p.ParenExpr):
        err = err.expr
    if not isinstance(err, p.BinaryExpr) or str(err.op) != "-" or err.modifier is not None:
        return None
    count, bucket, whole = _rate_typed(err.lhs), _rate_typed(err.rhs), _rate_typed(total)
    if count is None or bucket is None or whole is None or "le" not in bucket.match:
        return None
    if not (count.metric.endswith("_count") and bucket.metric.endswith("_bucket")):
        return None
    base = count.metric.removesuffix("_count")
    match = {k: v for k, v in bucket.match.items() if k != "le"}
    if bucket.metric.removesuffix("_bucket") != base or whole != count or count.match != match:
        return None
    try:
        le = float(bucket.match["le"]) if isinstance(bucket.match["le"], str) else None
    except ValueError:
        return None
    return Latency(base, le, match) if le is not None else None


def analyse(query: str) -> Query:
    """Parse a query written with `{{window}}` ranges (any `{{.window}}` already converted)."""
    import promql_parser as p

    text = query.strip()
    try:
        ast = p.parse(text.replace("{{window}}", "5m"))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # the Rust parser raises pyo3 panics, which are BaseExceptions
        return Query(text, error=(str(exc).strip().splitlines() or ["cannot parse"])[0])
    series: list[Series] = []

    def visit(node):
        if isinstance(node, p.MatrixSelector):
            node = node.vector_selector
        if isinstance(node, p.VectorSelector):
            ms = _matchers(node)
            name = node.name or next((m.value for m in ms if m.label == "__name__" and m.op == "="), "")
            series.append(Series(name, ms))
        return True

    p.walk(ast, visit)
    inner = _unwrap_sum(ast)
    typed = instant = None
    if (isinstance(inner, p.Call) and inner.func.name == "rate" and len(inner.args) == 1
            and isinstance(inner.args[0], p.MatrixSelector) and "[{{window}}]" in text.replace(" ", "")):
        typed = _typed(inner.args[0].vector_selector)
    elif isinstance(inner, p.VectorSelector):
        instant = _typed(inner)
    return Query(text, tuple(series), typed, instant)


# --------------------------------------------------------------------------
# The catalog the imported queries need
# --------------------------------------------------------------------------

HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum")


@dataclass
class _Label:
    values: set[str] = field(default_factory=set)
    patterns: set[str] = field(default_factory=set)  # matchers the values cannot be read from


@dataclass
class _Metric:
    kind: str  # counter | histogram | gauge
    labels: set[str] = field(default_factory=set)
    buckets: set[float] = field(default_factory=set)


@dataclass
class CatalogBuilder:
    """Metrics and labels seen in imported queries, turned into a reviewed-on-first-use catalog."""

    metrics: dict[str, _Metric] = field(default_factory=dict)
    labels: dict[str, _Label] = field(default_factory=dict)

    def base(self, name: str) -> tuple[str, str]:
        """(catalog metric, kind) of a series name: histogram series fold into their histogram."""
        for suffix in HISTOGRAM_SUFFIXES:
            if name.endswith(suffix) and len(name) > len(suffix):
                return name[: -len(suffix)], "histogram"
        if name.endswith("_total"):
            return name, "counter"
        return name, "gauge"

    def add_series(self, series: Series, as_counter: bool = False) -> list[str]:
        """Record a selector; returns the labels it uses that a catalog cannot hold (for a warning)."""
        name, kind = self.base(series.name)
        if as_counter and kind == "gauge":
            kind = "counter"
        metric = self.metrics.setdefault(name, _Metric(kind))
        refused = []
        for m in series.matchers:
            if m.label == "__name__":
                continue
            if m.label == "le" and kind == "histogram":
                try:
                    metric.buckets.add(float(m.value))
                except ValueError:
                    pass
                continue
            if forbidden_label(m.label) or m.label in ("le", "quantile"):
                refused.append(m.label)
                continue
            metric.labels.add(m.label)
            label = self.labels.setdefault(m.label, _Label())
            values = literal_values(m) if m.op in ("=", "=~") else None
            if values is not None:
                label.values.update(values)
            else:
                label.patterns.add(f"{m.op}{m.value!r}")
        return refused

    def add_typed(self, typed: Typed, kind: str, bound: float | None = None) -> None:
        metric = self.metrics.setdefault(typed.metric, _Metric(kind))
        metric.kind = kind
        if bound is not None:
            metric.buckets.add(bound)
        for label, value in typed.match.items():
            metric.labels.add(label)
            self.labels.setdefault(label, _Label()).values.update(value if isinstance(value, list) else [value])

    # -- output ----------------------------------------------------------

    def render(self, source: str) -> str:
        """catalog.yaml text; every entry carries a `# review:` comment, since the queries show only part
        of what an application exports."""
        lines = [f"# Metric catalog imported by `slokit import` from {source}.",
                 "# Every entry was inferred from the queries: review the comments marked `review:` (label",
                 "# values, caps, buckets, units), then remove them.",
                 "version: 1", "labels:" if self.labels else "labels: {}"]
        for name in sorted(self.labels):
            label = self.labels[name]
            if label.values:
                lines.append(f"  {name}:")
                note = (f"values the imported queries use; also matched by {', '.join(sorted(label.patterns))}"
                        if label.patterns else "values the imported queries use; list every value it takes")
                lines.append(f"    # review: {note}")
                lines.append(f"    values: [{', '.join(_quote(v) for v in sorted(label.values))}]")
            else:
                lines.append(f"  {name}:")
                lines.append(f"    # review: a cap was chosen; the queries match it only by "
                             f"{', '.join(sorted(label.patterns))}")
                lines.append(f"    max_cardinality: {REVIEW_CAP}")
        lines.append("metrics:")
        for name in sorted(self.metrics):
            metric = self.metrics[name]
            lines.append(f"  {name}:")
            lines.append(f"    type: {metric.kind}")
            lines.append(f"    unit: {_unit(name, metric.kind)}  # review: the base unit")
            lines.append(f"    help: {_quote('Imported from ' + source + '; describe what one ' + ('increment' if metric.kind == 'counter' else 'observation') + ' means.')}")
            if metric.labels:
                lines.append(f"    labels: [{', '.join(sorted(metric.labels))}]")
            if metric.kind == "histogram":
                buckets = sorted(metric.buckets) or DEFAULT_REVIEW_BUCKETS
                note = "the bounds the queries use; add the others" if metric.buckets else \
                    "no bound in the queries; these are placeholders"
                lines.append(f"    # review: {note}")
                lines.append(f"    buckets: [{', '.join(_number(b) for b in buckets)}]")
        return "\n".join(lines) + "\n"


def _unit(name: str, kind: str) -> str:
    stem = name.removesuffix("_total")
    for unit in UNIT_SUFFIXES:
        if stem.endswith("_" + unit):
            return unit
    return "events" if kind == "counter" else "value"


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _quote(text: str) -> str:
    import json

    return json.dumps(str(text), ensure_ascii=False)


def unfireable_severities(objective: float, window: str = "30d") -> list[str]:
    """Severities whose default tiers can never fire at `objective` (they need an error ratio over 100%).

    slokit rejects such an SLO (Sloth would generate alerts that stay silent);
    importers turn the severity off instead, with a warning.
    """
    from slokit.model import duration_seconds
    from slokit.windows import resolve_tiers

    budget = (100 - objective) / 100
    dead = {t.severity for t in resolve_tiers(duration_seconds(window), None) if float(t.burn_factor) * budget > 1}
    return sorted(dead)
