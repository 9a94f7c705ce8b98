"""A small model of what Prometheus computes from slokit's rules on synthetic series.

The generated promtool tests assert exact recorded values and exact alert
annotations (promtool expands their templates). Those expectations come from
here: the plan says which windows, tiers, budgets and thresholds an SLO has;
this module applies Prometheus' evaluation semantics (rate extrapolation,
avg_over_time over recorded samples, `or`/`and` label matching, `for`
durations, template functions) to the synthetic input series, without reading
the PromQL text. promtool then checks the rules against this independent
model, so a wrong expression and a wrong model both fail the tests.

Range selectors follow Prometheus 2.x (closed, [t - w, t]) or 3.x (left-open,
(t - w, t]), chosen with `Semantics` (see `semantics_of_promtool`).
"""

from __future__ import annotations

import functools
import math
import re
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Iterable
from urllib.parse import quote_plus

from slokit import naming as N
from slokit.model import duration_seconds
from slokit.plan import BudgetPlan, ServicePlan, SLOPlan
from slokit.promql import compile_regex, number, parse_selectors, plain_rate_selector
from slokit.windows import BASE_WINDOW, COARSE_STEP, uses_raw_counters

Labels = tuple[tuple[str, str], ...]
GroupKey = tuple[str, ...]


class AmbiguousComparison(Exception):
    """A compared value sits within float noise of its threshold: the outcome could differ in Prometheus."""


# --------------------------------------------------------------------------
# Which Prometheus
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Semantics:
    """The Prometheus major version whose evaluation the model follows.

    Prometheus 3 made range selectors left-open: a sample exactly at t - w is no
    longer in `x[w]` at t (count_over_time, avg_over_time and rate see one sample
    fewer when samples sit on the boundary, as they do in promtool's grid). It also
    stores classic-histogram `le` (and summary `quantile`) values of scraped series
    as floats: `le="1"` becomes `le="1.0"`.
    """

    major: int = 2

    def __post_init__(self) -> None:
        if self.major not in (2, 3):
            raise ValueError(f"Prometheus {self.major} is not modelled (2 and 3 are)")

    @property
    def left_open(self) -> bool:
        return self.major >= 3

    def first_in_range(self, times: list[int], start: int) -> int:
        """Index of the first sample inside a range that starts at `start`."""
        return bisect_right(times, start) if self.left_open else bisect_left(times, start)

    def le(self, bound: str) -> str:
        """An `le` value as this Prometheus stores it from a scrape."""
        return normalised_float(bound) if self.major >= 3 else bound


PROMETHEUS_2 = Semantics(2)
PROMETHEUS_3 = Semantics(3)


def normalised_float(text: str) -> str:
    """Prometheus 3's spelling of a float label value: Go's FormatFloat(v, 'g', -1, 64), `.0` added when it
    has neither a point nor an exponent ("1" -> "1.0", "0.25" stays, "1000000" -> "1e+06")."""
    v = float(text)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if v == 0:
        return "0.0"
    sign, digits, exponent = Decimal(repr(abs(v))).normalize().as_tuple()
    sig = "".join(map(str, digits))
    exp = len(sig) + exponent - 1         # decimal exponent of the leading digit
    neg = "-" if v < 0 else ""
    if exp < -4 or exp >= 6:             # Go's shortest %g switches to %e here
        mantissa = sig[0] + ("." + sig[1:] if len(sig) > 1 else "")
        return f"{neg}{mantissa}e{'+' if exp >= 0 else '-'}{abs(exp):02d}"
    if exp >= 0:
        whole, frac = (sig + "0" * (exp + 1))[:exp + 1], sig[exp + 1:]
    else:
        whole, frac = "0", "0" * (-exp - 1) + sig
    return f"{neg}{whole}.{frac}" if frac else f"{neg}{whole}.0"


def semantics_of_promtool(version_output: str) -> Semantics:
    """The semantics of the promtool that printed `version_output` (`promtool --version`)."""
    match = re.search(r"version\s+v?(\d+)\.", version_output)
    if match is None:
        raise ValueError(f"cannot read a version from {version_output.strip()[:80]!r}")
    return Semantics(3 if int(match.group(1)) >= 3 else 2)


# --------------------------------------------------------------------------
# Selectors and input series
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Sel:
    """A parsed vector selector: metric name and (label, op, value) matchers."""

    metric: str
    matchers: tuple[tuple[str, str, str], ...] = ()

    def matches(self, metric: str, labels: dict[str, str]) -> bool:
        if metric != self.metric:
            return False
        return all(_match(labels.get(name, ""), op, value) for name, op, value in self.matchers
                   if name != "__name__")


def _match(actual: str, op: str, value: str) -> bool:
    if op == "=":
        return actual == value
    if op == "!=":
        return actual != value
    if op not in ("=~", "!~"):
        raise ValueError(f"unknown matcher operator {op!r}")
    regex, _ = compile_regex(value)  # RE2, as Prometheus (the user's regexes are checked as RE2)
    found = regex is not None and regex.fullmatch(actual) is not None
    return found if op == "=~" else not found


@functools.lru_cache(maxsize=4096)  # alert annotations query the same few selectors at every evaluation
def parse_selector(text: str) -> Sel:
    parsed = parse_selectors(text)
    if isinstance(parsed, str) or len(parsed) != 1 or parsed[0][0] is None:
        raise ValueError(f"not a single selector: {text}")
    name, matchers = parsed[0]
    return Sel(name, tuple((n, _OPS.get(o, o), v) for n, o, v in matchers if n != "__name__"))


_OPS = {"MatchOp.Equal": "=", "MatchOp.NotEqual": "!=", "MatchOp.Re": "=~", "MatchOp.NotRe": "!~"}


def rate_selector(expr: str) -> Sel | None:
    """The selector of a raw SLI expression of the form [sum [by (...)]] (rate(<selector>[{{window}}])), else None.

    Other raw expressions are valid SLIs, but no model can know what arbitrary
    PromQL computes, so their synthetic input cannot be derived.
    """
    text = plain_rate_selector(expr)
    return None if text is None else parse_selector(text)


@dataclass(frozen=True)
class Series:
    """One input series: a sample every `step` seconds from 0; None = no sample."""

    metric: str
    labels: Labels
    values: tuple[float | None, ...]

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)

    def text(self) -> str:
        inner = ", ".join(f'{k}="{v}"' for k, v in self.labels)
        return f"{self.metric}{{{inner}}}"


def counter_values(increments: Iterable[float], stop: int | None = None) -> tuple[float, ...]:
    """Counter samples from per-step increments, added as promtool expands `a+bxn` (cumulatively)."""
    values = [0.0]
    for inc in increments:
        values.append(values[-1] + inc)
    return tuple(values if stop is None else values[:stop + 1])


def values_text(values: tuple[float | None, ...]) -> str:
    """promtool's expanding notation for `values`, with runs of equal steps folded into `a+bxn`."""
    parts: list[str] = []
    i = 0
    while i < len(values):
        v = values[i]
        if v is None:
            parts.append("_")
            i += 1
            continue
        # Longest run starting at i with a constant step (checked by cumulative addition, as promtool adds).
        j = i
        step = None
        while j + 1 < len(values) and values[j + 1] is not None:
            candidate = values[j + 1] - values[j]
            if step is None:
                if values[j] + candidate != values[j + 1]:
                    break
                step = candidate
            elif values[j] + step != values[j + 1]:
                break
            j += 1
        if j == i:
            parts.append(_num(v))
        elif step == 0:
            parts.append(f"{_num(v)}x{j - i}")
        else:
            parts.append(f"{_num(v)}{'+' if step >= 0 else '-'}{_num(abs(step))}x{j - i}")
        i = j + 1
    return " ".join(parts)


def _num(v: float) -> str:
    """A float that parses back to the same double (shortest repr), without a needless `.0`."""
    text = repr(float(v))
    return text[:-2] if text.endswith(".0") else text


# --------------------------------------------------------------------------
# Prometheus functions
# --------------------------------------------------------------------------


@dataclass
class Points:
    """The present samples of one series, for range lookups."""

    times: list[int]
    values: list[float]

    @staticmethod
    def of(series: Series, step: int) -> "Points":
        pairs = [(i * step, v) for i, v in enumerate(series.values) if v is not None]
        return Points([t for t, _ in pairs], [v for _, v in pairs])

    def window(self, start: int, end: int, semantics: Semantics = PROMETHEUS_2) -> tuple[int, int]:
        """Index range of the samples in the range from start to end ([start, end] or (start, end])."""
        return semantics.first_in_range(self.times, start), bisect_right(self.times, end)


def counter_rate(points: Points, t: int, range_s: int, semantics: Semantics = PROMETHEUS_2) -> float | None:
    """rate(x[range]) at t: Prometheus' extrapolatedRate for a counter without resets."""
    lo, hi = points.window(t - range_s, t, semantics)
    if hi - lo < 2:
        return None
    first_t, first_v = points.times[lo], points.values[lo]
    last_t, last_v = points.times[hi - 1], points.values[hi - 1]
    result = last_v - first_v
    duration_to_start = float(first_t - (t - range_s))
    duration_to_end = float(t - last_t)
    sampled = float(last_t - first_t)
    average = sampled / (hi - lo - 1)
    if result > 0 and first_v >= 0:
        duration_to_zero = sampled * (first_v / result)
        if duration_to_zero < duration_to_start:
            duration_to_start = duration_to_zero
    threshold = average * 1.1
    interval = sampled
    interval += duration_to_start if duration_to_start < threshold else average / 2
    interval += duration_to_end if duration_to_end < threshold else average / 2
    return result * (interval / sampled) / range_s


def avg_over_time(values: Iterable[float]) -> float:
    """Prometheus' avg_over_time: an incremental mean with Kahan-Neumaier compensation (2.4x)."""
    mean = c = count = 0.0
    for v in values:
        count += 1
        inc = v / count - mean / count
        total = mean + inc
        if abs(mean) >= abs(inc):
            c += (mean - total) + inc
        else:
            c += (inc - total) + mean
        mean = total
    return mean + c


def mean_step(count: float, mean: float, c: float, v: float) -> tuple[float, float, float]:
    """One sample into avg_over_time's running state (count, mean, compensation); the mean is mean + c.

    The same operations as one turn of avg_over_time's loop (inlined there, as it
    runs over thousands of samples), so a state after n samples holds the bits of
    avg_over_time over those n: a mean over a growing prefix is extended one
    sample at a time instead of recomputed from the first sample.
    """
    count += 1
    inc = v / count - mean / count
    total = mean + inc
    if abs(mean) >= abs(inc):
        c += (mean - total) + inc
    else:
        c += (inc - total) + mean
    return count, total, c


# Relative float noise between the model's arithmetic and Prometheus' (other summation orders).
_NOISE = 1e-9


def _go_g4(v: float) -> str:
    """fmt.Sprintf("%.4g", v): Go and C agree on %g for finite values.

    A value within float noise of a rounding tie (923.75 -> 923.7 or 923.8) could
    print either way in Prometheus: ambiguous, so the caller picks other inputs."""
    text = "%.4g" % v
    if math.isfinite(v) and v != 0 and ("%.4g" % (v * (1 - _NOISE)) != text or "%.4g" % (v * (1 + _NOISE)) != text):
        raise AmbiguousComparison(f"{v!r} prints within float noise of a rounding tie")
    return text


def humanize(v: float) -> str:
    """Prometheus' `humanize` template function (SI prefixes, 4 significant digits)."""
    if v == 0 or math.isnan(v) or math.isinf(v):
        return _go_g4(v)
    prefix = ""
    if abs(v) >= 1:
        for p in ("k", "M", "G", "T", "P", "E", "Z", "Y"):
            if abs(v) < 1000:
                break
            prefix, v = p, v / 1000
        return _go_g4(v) + prefix
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix, v = p, v * 1000
    return _go_g4(v) + prefix


def humanize_percentage(v: float) -> str:
    return _go_g4(v * 100) + "%"


def go_quote(s: str) -> str:
    """printf %q of a plain string."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


# How far (in units in the last place of the value) Prometheus' result may stray from the model's: both do
# the same operations, but a sum over series or samples may run in another order. Relative noise such as
# _NOISE would swamp round(v, 0.000001) of a large value (1e-9 of 6e7 is 60 rounding steps).
_ROUND_NOISE_ULPS = 4


def round_to(v: float, to_nearest: float) -> float:
    """PromQL round(v, to_nearest), computed as Prometheus does (so the text of an expected value is exact).

    A value whose v / to_nearest lies within float noise of a half-way point (x.5: exact binary halves
    are common, 0.0078125 / 0.000001 is 7812.5) could round either way in Prometheus: ambiguous, so the
    caller picks other inputs."""
    inverse = 1.0 / to_nearest
    rounded = math.floor(v * inverse + 0.5) / inverse
    if math.isfinite(v):
        noise = _ROUND_NOISE_ULPS * math.ulp(v)
        if math.floor((v - noise) * inverse + 0.5) != math.floor((v + noise) * inverse + 0.5):
            raise AmbiguousComparison(f"round({v!r}, {to_nearest!r}) lies within float noise of a half-way point")
    return rounded


# --------------------------------------------------------------------------
# Alert templates
# --------------------------------------------------------------------------

_LABEL = re.compile(r"\{\{ \$labels\.([a-zA-Z_][a-zA-Z0-9_]*) \}\}")
_VALUE = re.compile(re.escape("{{ $value | humanize }}"))
_VALUE_G4 = re.compile(re.escape('{{ $value | printf "%.4g" }}'))
_RAW = re.compile(r"\{\{`([^`]*)`\}\}")
_LABEL_URL = re.compile(r"\{\{ \$labels\.([a-zA-Z_][a-zA-Z0-9_]*) \| urlquery \}\}")
_TIME = re.compile(r'\{\{ with query "time\(\) ([+-]) ([0-9]+)" \}\}([^{}]*)\{\{ \. \| first \| value \| '
                   r'printf "%\.0f" \}\}([^{}]*)\{\{ end \}\}')
_QUERY = re.compile(r'\{\{ with printf "((?:[^"\\]|\\.)*)"((?: \$labels\.[a-zA-Z_][a-zA-Z0-9_]*)*) \| query \}\}'
                    r"\{\{ \. \| first \| value \| humanizePercentage \}\}\{\{ else \}\}unknown\{\{ end \}\}")


def expand(template: str, labels: dict[str, str], value: float,
           query: Callable[[str], list[float]]) -> str:
    """Expand the Go template constructs slokit writes into labels and annotations; anything else is an error.

    Read as Go's lexer does: text up to the next `{{` is literal (a `}}` in it
    too), and each action starting there must be one slokit writes.
    """

    def query_part(m: re.Match) -> str:
        fmt = m.group(1)
        args = [labels.get(a.strip().removeprefix("$labels."), "") for a in m.group(2).split()]
        text = fmt
        for arg in args:
            text = text.replace("%q", go_quote(arg), 1)
        if "%" in text:
            raise ValueError(f"unsupported printf format in {fmt!r}")
        found = query(text)
        return humanize_percentage(found[0]) if found else "unknown"

    def time_part(m: re.Match) -> str:
        found = query(f"time() {m.group(1)} {m.group(2)}")
        return f"{m.group(3)}{found[0]:.0f}{m.group(4)}" if found else ""

    replacements: tuple[Callable[[re.Match], str], ...] = (
        query_part,
        time_part,
        lambda m: humanize(value),
        lambda m: _go_g4(value),
        lambda m: quote_plus(labels.get(m.group(1), ""), safe=""),
        lambda m: labels.get(m.group(1), "<no value>"),
        lambda m: m.group(1),
    )
    out = []
    for literal, action, m in _parse_template(template):
        out.append(literal)
        if action is None:
            break
        if m is None:
            raise ValueError(f"template construct the model does not know: {template!r}")
        out.append(replacements[action](m))
    return "".join(out)


# What `expand` recognises, in the order it tries them at each `{{` (the index selects its replacement).
_ACTIONS = (_QUERY, _TIME, _VALUE, _VALUE_G4, _LABEL_URL, _LABEL, _RAW)


@functools.lru_cache(maxsize=4096)  # the same few templates are expanded for every firing alert
def _parse_template(template: str) -> tuple[tuple[str, int | None, re.Match | None], ...]:
    """A template as (literal text, index of the action at the next `{{`, its match) pieces.

    The last piece holds the trailing text and action None; an unknown construct ends
    the pieces with action -1 and no match, so `expand` raises where its scan reaches it (after
    the replacements before it, which may raise first, as a scan of the text would).
    """
    pieces: list[tuple[str, int | None, re.Match | None]] = []
    pos = 0
    while (start := template.find("{{", pos)) >= 0:
        literal = template[pos:start]
        for index, pattern in enumerate(_ACTIONS):
            m = pattern.match(template, start)
            if m:
                pieces.append((literal, index, m))
                pos = m.end()
                break
        else:
            pieces.append((literal, -1, None))
            return tuple(pieces)
    pieces.append((template[pos:], None, None))
    return tuple(pieces)


# --------------------------------------------------------------------------
# Evaluating a service's rules
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Alert:
    name: str
    labels: Labels  # without alertname
    annotations: Labels
    kind: str = ""  # naming's default name of this kind of alert, whatever the rule calls it


@dataclass
class _AlertState:
    active_since: int


@dataclass
class Snapshot:
    """What the rules hold at one evaluation time."""

    t: int
    # (record, slo or budget name) -> {group labels: value}
    values: dict[tuple[str, str], dict[Labels, float]] = field(default_factory=dict)
    firing: list[Alert] = field(default_factory=list)

    def get(self, record: str, name: str) -> dict[Labels, float]:
        return self.values.get((record, name), {})


@functools.lru_cache(maxsize=None)
def _float(value) -> float:
    """A plan's number (Decimal, int or float) as the float its text in the rule file reads as (asked at
    every evaluation, so cached)."""
    return float(number(value))


@functools.lru_cache(maxsize=None)
def _duration_label(seconds: int) -> str:
    from slokit.windows import format_duration

    return format_duration(seconds)


_CLOCK = re.compile(r"^time\(\) ([+-]) ([0-9]+)$")


class _Compare:
    """Comparisons that refuse to decide when float noise could flip them."""

    @staticmethod
    def gt(a: float, b: float) -> bool:
        if a == b == 0:  # exact zeros (no traffic) compare the same everywhere
            return False
        if abs(a - b) <= 1e-9 * max(1.0, abs(b)):
            raise AmbiguousComparison(f"{a!r} vs {b!r}")
        return a > b

    @staticmethod
    def ge(a: float, b: float) -> bool:
        if abs(a - b) <= 1e-9 * max(1.0, abs(b)):
            raise AmbiguousComparison(f"{a!r} vs {b!r}")
        return a >= b


@dataclass
class _History:
    """The samples a rule recorded for one label set, with running sums for window averages."""

    times: list[int]
    values: list[float]
    prefix: list[float]
    # avg_over_time's state over the 5m subquery steps from 0 up to each one: count, mean, compensation
    # (doubles in arrays: a scenario of days holds a thousand states per label set)
    coarse: tuple[array, array, array] = field(default_factory=lambda: (array("d"), array("d"), array("d")))

    def at(self, t: int) -> float | None:
        """The sample recorded at t, if any."""
        i = bisect_right(self.times, t) - 1
        return self.values[i] if i >= 0 and self.times[i] == t else None


@dataclass
class _SLOSource:
    """The input series an SLO's events and totals read."""

    plan: SLOPlan
    events: list[tuple[Series, Points]]
    total: list[tuple[Series, Points]]


@dataclass
class _BudgetSource:
    plan: BudgetPlan
    usage: list[tuple[Series, Points]]
    per: list[tuple[Series, Points]]


class ServiceModel:
    """What promtool computes from one service's rules, evaluated every `eval_step` from 0.

    Only what the asserted instants depend on is computed: the base-window
    rates at every evaluation (long windows average them), the full set of
    records at the asserted instants, and alert conditions at the evaluations
    their `for` spans. An alert's state at t depends on nothing else: it fires
    when its condition held at every evaluation from the last one at or before
    t - for through t.
    """

    def __init__(self, service: ServicePlan, series: list[Series], step: int, eval_step: int,
                 events_selectors: dict[str, Sel], total_selectors: dict[str, Sel],
                 semantics: Semantics = PROMETHEUS_2):
        self.service = service
        self.semantics = semantics
        self.step = step
        self.eval_step = eval_step
        points = [(s, Points.of(s, step)) for s in series]
        self.slos = [_SLOSource(slo,
                                [(s, p) for s, p in points if events_selectors[slo.name].matches(s.metric, s.label_map)],
                                [(s, p) for s, p in points if total_selectors[slo.name].matches(s.metric, s.label_map)])
                     for slo in service.slos if slo.name in events_selectors]
        self.budgets = []
        for b in service.budgets:
            usage_sel = parse_selector(b.query)
            per_sel = parse_selector(b.regression_events_query) if b.regression_events_query else None
            self.budgets.append(_BudgetSource(
                b, [(s, p) for s, p in points if usage_sel.matches(s.metric, s.label_map)],
                [(s, p) for s, p in points if per_sel is not None and per_sel.matches(s.metric, s.label_map)]))
        # recorded base-window history: (record, name) -> {group: samples}
        self.history: dict[tuple[str, str], dict[Labels, _History]] = {}
        self._history_next = 0  # the next evaluation time whose base rates are not in `history` yet
        self._snaps: dict[int, Snapshot] = {}  # full records at the evaluations computed so far
        self._aux: dict[int, dict[str, Any]] = {}  # per time, per SLO/budget: window values by seconds
        self._groups: dict[tuple[int, tuple[str, ...]], Labels] = {}
        self._cache_t: int | None = None
        self._rates: dict[tuple[int, int], float | None] = {}
        self._sums: dict[tuple, dict[Labels, float]] = {}
        self._source_keys: dict[int, tuple[int, ...]] = {}  # id of a source list -> ids of its series' points
        self._queries: dict[int, dict[str, list[float]]] = {}  # time -> query text -> what it finds
        self.keep: set[int] = set()
        self.run_slos = self.run_budgets = True

    # -- helpers -------------------------------------------------------------

    @staticmethod
    def _group(series: Series, by: tuple[str, ...]) -> Labels:
        labels = series.label_map
        return tuple((g, labels.get(g, "")) for g in by)

    def _at(self, t: int) -> None:
        """Rates are cached per evaluation time: SLOs of one service often read the same series."""
        if self._cache_t != t:
            self._cache_t, self._rates, self._sums = t, {}, {}

    def _sum_rate(self, sources: list[tuple[Series, Points]], by: tuple[str, ...], t: int,
                  range_s: int) -> dict[Labels, float]:
        self._at(t)
        ids = self._source_keys.get(id(sources))
        if ids is None:
            ids = self._source_keys[id(sources)] = tuple(id(p) for _, p in sources)
        sum_key = (ids, by, range_s)
        if sum_key not in self._sums:
            self._sums[sum_key] = self._sum_rate_uncached(sources, by, t, range_s)
        return dict(self._sums[sum_key])

    def _sum_rate_uncached(self, sources: list[tuple[Series, Points]], by: tuple[str, ...], t: int,
                           range_s: int) -> dict[Labels, float]:
        out: dict[Labels, float] = {}
        for s, p in sources:
            cache_key = (id(p), range_s)
            if cache_key not in self._rates:
                self._rates[cache_key] = counter_rate(p, t, range_s, self.semantics)
            r = self._rates[cache_key]
            if r is None:
                continue
            key = self._groups.get((id(s), by))
            if key is None:
                key = self._groups[(id(s), by)] = self._group(s, by)
            out[key] = out.get(key, 0.0) + r
        return out

    def _avg(self, record: str, name: str, t: int, range_s: int) -> dict[Labels, float]:
        """avg_over_time(record[range]) at t, over the samples the rules recorded."""
        out = {}
        for key, h in self.history.get((record, name), {}).items():
            lo, hi = self.semantics.first_in_range(h.times, t - range_s), bisect_right(h.times, t)
            if hi > lo:
                # Exact (as Prometheus) where a test reads the value; a running sum elsewhere, where
                # only threshold comparisons need it (their ambiguity guard covers float noise).
                out[key] = (avg_over_time(h.values[lo:hi]) if t in self.keep
                            else (h.prefix[hi] - h.prefix[lo]) / (hi - lo))
        return out

    def _remember(self, t: int, record: str, name: str, values: dict[Labels, float]) -> None:
        store = self.history.setdefault((record, name), {})
        for key, v in values.items():
            h = store.get(key)
            if h is None:
                h = store[key] = _History([], [], [0.0])
            h.times.append(t)
            h.values.append(v)
            h.prefix.append(h.prefix[-1] + v)

    def _base_at(self, record: str, name: str, t: int) -> dict[Labels, float]:
        """The base-window record at evaluation time t, from the history."""
        out = {}
        for key, h in self.history.get((record, name), {}).items():
            v = h.at(t)
            if v is not None:
                out[key] = v
        return out

    @staticmethod
    def _record(snap: Snapshot, record: str, name: str, values: dict[Labels, float]) -> None:
        snap.values[(record, name)] = values

    # -- base-window history -------------------------------------------------

    def _extend_history(self, until: int) -> None:
        """Record the base-window rates at every evaluation up to `until` (in order, as Prometheus would)."""
        base = _duration_label(BASE_WINDOW)
        while self._history_next <= until:
            t = self._history_next
            if self.run_slos:
                for src in self.slos:
                    total, bad = self._raw_window(src, t, BASE_WINDOW)
                    self._remember(t, N.slo_total_rate(base), src.plan.name, total)
                    self._remember(t, N.slo_bad_rate(base), src.plan.name, bad)
            if self.run_budgets:
                for b in self.budgets:
                    self._remember(t, N.budget_usage_rate(base), b.plan.name,
                                   self._sum_rate(b.usage, b.plan.by, t, BASE_WINDOW))
            self._history_next += self.eval_step

    def _raw_window(self, src: _SLOSource, t: int, ws: int) -> tuple[dict[Labels, float], dict[Labels, float]]:
        """Total and bad event rates of an SLO over a window read from the raw counters."""
        by = src.plan.group_by
        return self._bad_of(src, self._sum_rate(src.total, by, t, ws), self._sum_rate(src.events, by, t, ws))

    def _coarse_avg(self, src: _SLOSource, t: int, ws: int) -> tuple[dict[Labels, float], dict[Labels, float]]:
        """`avg_over_time(base[ws:5m]) or base` of total and bad at t: the base rates at the subquery's steps
        (multiples of 5m in [t - ws, t], closed as in Prometheus 2), each the one recorded at the last
        evaluation at or before the step; the current base rate where the subquery has nothing."""
        base = _duration_label(BASE_WINDOW)
        first = -((ws - t) // COARSE_STEP) * COARSE_STEP  # ceil((t - ws) / step) * step
        out = []
        for record in (N.slo_total_rate(base), N.slo_bad_rate(base)):
            values: dict[Labels, float] = {}
            for key, h in self.history.get((record, src.plan.name), {}).items():
                mean = self._subquery_mean(h, first, t)
                if mean is not None:
                    values[key] = mean
            for key, v in self._base_at(record, src.plan.name, t).items():
                values.setdefault(key, v)
            out.append(values)
        return out[0], out[1]

    def _subquery_mean(self, h: _History, first: int, t: int) -> float | None:
        """avg_over_time of h at the subquery's steps from `first` to t (each the sample of the last evaluation
        at or before it), None if none has one.

        While the window reaches back past 0 (every scenario is shorter than an SLO
        window), the steps are a prefix of those from 0: their mean is read from the
        running states kept in h, the same operations in the same order as
        avg_over_time over the list, so the same bits.
        """
        if first > 0 or t < 0:
            steps = (tk - tk % self.eval_step for tk in range(max(first, 0), t + 1, COARSE_STEP))
            samples = [v for v in map(h.at, steps) if v is not None]
            return avg_over_time(samples) if samples else None
        counts, means, cs = h.coarse
        j = t // COARSE_STEP
        while len(counts) <= j:
            tk = len(counts) * COARSE_STEP
            e = tk - tk % self.eval_step
            state = (counts[-1], means[-1], cs[-1]) if counts else (0.0, 0.0, 0.0)
            v = h.at(e)
            if v is not None:
                state = mean_step(*state, v)
            counts.append(state[0])
            means.append(state[1])
            cs.append(state[2])
        count, mean, c = counts[j], means[j], cs[j]
        return mean + c if count else None

    def _bad_of(self, src: _SLOSource, total: dict[Labels, float],
                events: dict[Labels, float]) -> tuple[dict[Labels, float], dict[Labels, float]]:
        slo = src.plan
        if slo.sli.events == "bad":
            bad = dict(events)
            for key, v in total.items():
                bad.setdefault(key, 0 * v)
        else:
            bad = {key: v - events.get(key, 0 * v) for key, v in total.items()}
        return total, bad

    # -- every record at one time --------------------------------------------

    def _snapshot(self, t: int) -> Snapshot:
        """Every record at evaluation time t (cached); groups in file order: SLOs, then budgets."""
        snap = self._snaps.get(t)
        if snap is None:
            self._extend_history(t)
            snap = Snapshot(t)
            self._aux[t] = {}
            if self.run_slos:
                for src in self.slos:
                    self._slo(src, snap)
            if self.run_budgets:
                for bsrc in self.budgets:
                    self._budget(bsrc, snap)
            self._snaps[t] = snap
        return snap

    def _slo(self, src: _SLOSource, snap: Snapshot) -> None:
        slo, t = src.plan, snap.t
        base = _duration_label(BASE_WINDOW)
        ratios: dict[str, dict[Labels, float]] = {}
        totals: dict[str, dict[Labels, float]] = {}
        for w in slo.windows:
            ws = duration_seconds(w)
            if uses_raw_counters(ws):
                total, bad = self._raw_window(src, t, ws)
            elif w in slo.coarse_windows:
                total, bad = self._coarse_avg(src, t, ws)
            else:
                total = self._avg(N.slo_total_rate(base), slo.name, t, ws)
                bad = self._avg(N.slo_bad_rate(base), slo.name, t, ws)
            self._record(snap, N.slo_total_rate(w), slo.name, total)
            self._record(snap, N.slo_bad_rate(w), slo.name, bad)
            totals[w] = total
        budget = _float(slo.error_budget)
        for w in slo.windows:
            total = totals[w]
            bad = snap.get(N.slo_bad_rate(w), slo.name)
            ratio = {}
            for key, tv in total.items():
                ratio[key] = bad[key] / tv if (tv > 0 and key in bad) else 0 * tv
            ratios[w] = ratio
            self._record(snap, N.slo_error_ratio(w), slo.name, ratio)
        for w in slo.burn_windows:
            self._record(snap, N.slo_burn_rate(w), slo.name, {k: v / budget for k, v in ratios[w].items()})
        full = _duration_label(slo.window_s)
        remaining = {k: 1 - v / budget for k, v in ratios[full].items()}
        self._record(snap, N.SLO_BUDGET_REMAINING, slo.name, remaining)
        # `remaining <= bool 0`; gt is False on an exact 0 (spent to the last event).
        self._record(snap, N.SLO_BUDGET_EXHAUSTED, slo.name,
                     {k: 0.0 if _Compare.gt(v, 0.0) else 1.0 for k, v in remaining.items()})
        self._aux[t][slo.name] = totals

    def _budget(self, src: _BudgetSource, snap: Snapshot) -> None:
        from slokit.plan import REGRESSION_WINDOW

        b, t = src.plan, snap.t
        base = _duration_label(BASE_WINDOW)
        long_s, short_s = duration_seconds(b.long_window), duration_seconds(b.short_window)
        reg_s = REGRESSION_WINDOW if b.regression_factor is not None else BASE_WINDOW
        raw_windows = sorted({BASE_WINDOW, short_s, long_s, reg_s})
        usage: dict[int, dict[Labels, float]] = {}
        for w in [w for w in raw_windows if uses_raw_counters(w)]:
            usage[w] = self._sum_rate(src.usage, b.by, t, w)
            self._record(snap, N.budget_usage_rate(_duration_label(w)), b.name, usage[w])
        for w in sorted({w for w in (*raw_windows, b.window_s) if not uses_raw_counters(w)}):
            usage[w] = self._avg(N.budget_usage_rate(base), b.name, t, w)
            self._record(snap, N.budget_usage_rate(_duration_label(w)), b.name, usage[w])
        limit = _float(b.limit)
        self._record(snap, N.BUDGET_USED_WINDOW, b.name, {k: v * b.window_s for k, v in usage[b.window_s].items()})
        self._record(snap, N.BUDGET_PROJECTED, b.name, {k: v * b.window_s for k, v in usage[long_s].items()})
        self._record(snap, N.BUDGET_REMAINING, b.name,
                     {k: 1 - v / limit for k, v in snap.get(N.BUDGET_USED_WINDOW, b.name).items()})
        aux: dict[str, Any] = {"usage": usage}
        if b.regression_factor is not None:
            rw = _duration_label(REGRESSION_WINDOW)
            events = self._sum_rate(src.per, b.by, t, REGRESSION_WINDOW)
            self._record(snap, N.budget_events_rate(rw), b.name, events)
            cpe = {k: v / events[k] for k, v in usage[REGRESSION_WINDOW].items() if k in events and events[k] > 0}
            self._record(snap, N.budget_cost_per_event(rw), b.name, cpe)
            aux |= {"events": events, "cpe": cpe}
        self._aux[t][b.name] = aux
        del limit

    # -- alert conditions ----------------------------------------------------

    def _burn_active(self, src: _SLOSource, tier, t: int) -> dict[Labels, float]:
        slo = src.plan
        snap = self._snapshot(t)
        factor = _float(tier.burn_factor)
        long_b = snap.get(N.slo_burn_rate(tier.tier.long_window), slo.name)
        short_b = snap.get(N.slo_burn_rate(tier.tier.short_window), slo.name)
        long_total = self._aux[t][slo.name][tier.tier.long_window]
        active = {}
        for key, v in long_b.items():
            if not _Compare.gt(v, factor) or key not in short_b or not _Compare.gt(short_b[key], factor):
                continue
            if slo.min_events_per_hour is not None and slo.min_events_per_hour > 0:
                if key not in long_total or not _Compare.ge(long_total[key] * 3600,
                                                            _float(slo.min_events_per_hour)):
                    continue
            active[key] = v
        return active

    def _no_data_active(self, src: _SLOSource, t: int) -> dict[Labels, float]:
        self._extend_history(t)
        present = self._base_at(N.slo_total_rate(_duration_label(BASE_WINDOW)), src.plan.name, t)
        return {} if present else {(): 1.0}

    def _overrun_active(self, src: _BudgetSource, t: int) -> dict[Labels, float]:
        b = src.plan
        self._snapshot(t)
        usage = self._aux[t][b.name]["usage"]
        long_s, short_s = duration_seconds(b.long_window), duration_seconds(b.short_window)
        limit = _float(b.limit)
        return {k: v * b.window_s for k, v in usage[long_s].items()
                if _Compare.gt(v * b.window_s, limit) and k in usage[short_s]
                and _Compare.gt(usage[short_s][k] * b.window_s, limit)}

    def _slo_exhausted_active(self, src: _SLOSource, t: int) -> dict[Labels, float]:
        flags = self._snapshot(t).get(N.SLO_BUDGET_EXHAUSTED, src.plan.name)
        return {k: v for k, v in flags.items() if v == 1.0}

    def _budget_exhausted_active(self, src: _BudgetSource, t: int) -> dict[Labels, float]:
        b = src.plan
        used = self._snapshot(t).get(N.BUDGET_USED_WINDOW, b.name)
        limit = _float(b.limit)
        return {k: v for k, v in used.items() if _Compare.gt(v, limit)}

    def _regression_active(self, src: _BudgetSource, t: int) -> dict[Labels, float]:
        b = src.plan
        self._snapshot(t)
        aux = self._aux[t][b.name]
        cpe, events = aux["cpe"], aux["events"]
        then = t - duration_seconds(b.regression_offset or "1w")
        # The recorded cost per event one offset earlier exists only at an evaluation time.
        before = self._aux_at(then, b.name).get("cpe", {}) if then >= 0 and then % self.eval_step == 0 else {}
        factor = _float(b.regression_factor)
        floor = _float(b.regression_min_events_per_hour or 0)
        return {k: v for k, v in cpe.items()
                if k in before and _Compare.gt(v, factor * before[k])
                and k in events and _Compare.ge(events[k] * 3600, floor)}

    def _aux_at(self, t: int, name: str) -> dict[str, Any]:
        self._snapshot(t)
        return self._aux[t].get(name, {})

    def _firing(self, t: int, active_at: Callable[[int], dict[Labels, float]], rule, identity: Labels,
                snap: Snapshot) -> None:
        """Alerts of `rule` firing at t: active at every evaluation from the last one at or before t - for."""
        for_s = duration_seconds(rule.for_) if rule.for_ else 0
        now = active_at(t)
        earlier: dict[int, dict[Labels, float]] = {}
        since = (t - for_s) // self.eval_step * self.eval_step
        for key, value in sorted(now.items()):
            if for_s:
                if t - for_s < 0:
                    continue
                held = True
                for g in range(since, t, self.eval_step):
                    if g not in earlier:
                        earlier[g] = active_at(g)
                    if key not in earlier[g]:
                        held = False
                        break
                if not held:
                    continue
            series_labels = dict(identity) | dict(key)
            # Prometheus expands alert labels as templates too (slokit writes them to expand to themselves).
            alert_labels = dict(series_labels) | {k: expand(v, series_labels, value, lambda q: self._query(snap, q))
                                                  for k, v in rule.labels}
            annotations = {k: expand(v, series_labels, value, lambda q: self._query(snap, q))
                           for k, v in rule.annotations}
            snap.firing.append(Alert(rule.alert, tuple(sorted(alert_labels.items())),
                                     tuple(sorted(annotations.items())), rule.what))

    def _query(self, snap: Snapshot, text: str) -> list[float]:
        """The values an annotation's query finds at snap's time (cached: every alert firing then asks)."""
        at = self._queries.setdefault(snap.t, {})
        found = at.get(text)
        if found is None:
            found = at[text] = self._query_uncached(snap, text)
        return list(found)

    def _query_uncached(self, snap: Snapshot, text: str) -> list[float]:
        clock = _CLOCK.match(text)
        if clock:  # promtool's clock starts at 0: time() is the evaluation time in seconds
            offset = int(clock.group(2))
            return [float(snap.t + offset if clock.group(1) == "+" else snap.t - offset)]
        sel = parse_selector(text)
        found = []
        for (record, _name), groups in snap.values.items():
            if record != sel.metric:
                continue
            for key, v in groups.items():
                labels = dict(key) | {N.LABEL_SERVICE: self.service.service}
                labels[N.LABEL_SLO if record.startswith("slo:") else N.LABEL_BUDGET] = _name
                if sel.matches(record, labels):
                    found.append(v)
        return found

    def _alerts_at(self, t: int, alertnames: frozenset[str]) -> Snapshot:
        """The records at t and the alerts firing then, in file order."""
        values = self._snapshot(t)
        snap = Snapshot(t, values.values)
        if self.run_slos:
            for src in self.slos:
                slo = src.plan
                rules = list(slo.rule_group.alerting_rules)
                burn_rules = [r for r in rules if r.what == N.ALERT_BURN]
                enabled = [tp for tp in slo.tiers if tp.enabled]
                assert len(burn_rules) == len(enabled), "one burn alert per enabled tier"
                identity = ((N.LABEL_SERVICE, slo.service), (N.LABEL_SLO, slo.name))
                for tier, rule in zip(enabled, burn_rules if N.ALERT_BURN in alertnames else []):
                    self._firing(t, lambda g, src=src, tier=tier: self._burn_active(src, tier, g), rule, identity, snap)
                for rule in rules:
                    if rule.what == N.ALERT_NO_DATA and N.ALERT_NO_DATA in alertnames:
                        self._firing(t, lambda g, src=src: self._no_data_active(src, g), rule, identity, snap)
                    if rule.what == N.ALERT_SLO_EXHAUSTED and N.ALERT_SLO_EXHAUSTED in alertnames:
                        self._firing(t, lambda g, src=src: self._slo_exhausted_active(src, g), rule, identity, snap)
        if self.run_budgets:
            for bsrc in self.budgets:
                b = bsrc.plan
                identity = ((N.LABEL_BUDGET, b.name), (N.LABEL_SERVICE, b.service))
                rules = {r.what: r for r in self._budget_rules(b)}
                if N.ALERT_BUDGET_OVERRUN in rules and N.ALERT_BUDGET_OVERRUN in alertnames:
                    self._firing(t, lambda g, s=bsrc: self._overrun_active(s, g), rules[N.ALERT_BUDGET_OVERRUN],
                                 identity, snap)
                if N.ALERT_BUDGET_EXHAUSTED in rules and N.ALERT_BUDGET_EXHAUSTED in alertnames:
                    self._firing(t, lambda g, s=bsrc: self._budget_exhausted_active(s, g),
                                 rules[N.ALERT_BUDGET_EXHAUSTED], identity, snap)
                if b.regression_factor is not None and N.ALERT_COST_REGRESSION in rules \
                        and N.ALERT_COST_REGRESSION in alertnames:
                    self._firing(t, lambda g, s=bsrc: self._regression_active(s, g),
                                 rules[N.ALERT_COST_REGRESSION], identity, snap)
        return snap

    def _budget_rules(self, b: BudgetPlan):
        from slokit.naming import budget_group

        for group in self.service.rule_groups:
            if group.name == budget_group(self.service.service):
                for rule in group.alerting_rules:
                    if dict(rule.labels).get(N.LABEL_BUDGET) == b.name:
                        yield rule

    # -- driving -------------------------------------------------------------

    def alerts_at(self, t: int, slos: bool = True, budgets: bool = True,
                  alertnames: frozenset[str] = frozenset({N.ALERT_BURN})) -> Snapshot:
        """The alerts firing at evaluation time t, for a scan (values there are not exact: no `keep`)."""
        self.run_slos, self.run_budgets = slos, budgets
        return self._alerts_at(t, alertnames)

    def run(self, until: int, slos: bool = True, budgets: bool = True,
            alertnames: frozenset[str] | None = None, keep: Iterable[int] | None = None) -> dict[int, Snapshot]:
        """Snapshots of the `keep` evaluation times (default: every `eval_step` from 0 to `until` seconds).

        Only `alertnames` (default: all) are evaluated, so a threshold that an
        unasserted alert happens to sit on cannot make the model give up.
        """
        names = alertnames if alertnames is not None else frozenset(
            {N.ALERT_BURN, N.ALERT_NO_DATA, N.ALERT_BUDGET_OVERRUN, N.ALERT_COST_REGRESSION, N.ALERT_BUDGET_EXHAUSTED,
             N.ALERT_SLO_EXHAUSTED})
        self.run_slos, self.run_budgets = slos, budgets
        times = range(0, until + 1, self.eval_step)
        self.keep = set(times) if keep is None else {t for t in keep if t in times}
        return {t: self._alerts_at(t, names) for t in sorted(self.keep)}
