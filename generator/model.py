"""The typed input language: SLO spec files and the metric catalog.

These pydantic models are the single source of truth for the shape of the
input. The JSON Schema published for editors is generated from them
(`slokit schema`). Cross-references (a metric named in an SLO exists in the
catalog, a threshold is a bucket, ...) are checked later, in `validate`.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from slokit.units import DURATION_THRESHOLD_PATTERN

SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
METRIC_NAME_PATTERN = r"^[a-zA-Z_:][a-zA-Z0-9_:]*$"
LABEL_NAME_PATTERN = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
# A Prometheus duration, restricted to the units an SLO window is written in,
# largest unit first and each at most once (as Prometheus requires: 1h30m).
DURATION_PATTERN = r"^([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?$"
DURATION_UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}

# Length bounds of names, free text and label values (`catalog discover` keeps within them too).
METRIC_NAME_MAX, LABEL_NAME_MAX, TEXT_MAX, LABEL_VALUE_MAX = 200, 100, 2000, 200

Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=63)]
MetricName = Annotated[str, StringConstraints(pattern=METRIC_NAME_PATTERN, max_length=METRIC_NAME_MAX)]
LabelName = Annotated[str, StringConstraints(pattern=LABEL_NAME_PATTERN, max_length=LABEL_NAME_MAX)]
Duration = Annotated[str, StringConstraints(pattern=DURATION_PATTERN, min_length=2, max_length=20)]
# A threshold written as a duration (500ms, 0.5s, 1m30s), converted to the histogram's time unit.
ThresholdDuration = Annotated[str, StringConstraints(pattern=DURATION_THRESHOLD_PATTERN, min_length=2, max_length=30)]
# Free text ends up in YAML, JSON and alert annotations; it is escaped there,
# but a bound keeps generated files reviewable.
Text = Annotated[str, StringConstraints(max_length=TEXT_MAX)]
LabelValue = Annotated[str, StringConstraints(max_length=LABEL_VALUE_MAX)]
# Alert names are matched by Alertmanager routes, silences and inhibition
# rules; the metric-name alphabet keeps them free of quoting and templates.
ALERT_NAME_PATTERN = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
AlertName = Annotated[str, StringConstraints(pattern=ALERT_NAME_PATTERN, max_length=100)]


def _not_a_bool(value):
    # Python treats True as 1, so `version: true` would pass as version 1; the
    # JSON Schema (const 1) rejects it, and so does slokit.
    if isinstance(value, bool):
        raise ValueError(f"version must be 1, got {'true' if value else 'false'}")
    return value


Version = Annotated[Literal[1], BeforeValidator(_not_a_bool)]


def duration_seconds(text: str) -> int:
    """Seconds in a Duration such as `30d` or `1h30m` (already pattern-checked)."""
    return sum(int(n) * DURATION_UNITS[u] for n, u in re.findall(r"([0-9]+)([wdhms])", text))


class Strict(BaseModel):
    """Unknown keys are errors, never silently ignored; numbers are finite.

    Strict types: a number is a YAML number and a flag is true/false. "99.5" in
    quotes or `enabled: yes` are errors rather than silent conversions, so
    slokit accepts exactly what the published JSON Schema accepts.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)


# --------------------------------------------------------------------------
# Metric catalog
# --------------------------------------------------------------------------


class LabelDef(Strict):
    """A label the application may put on metrics, with its bounded value set."""

    description: Text = Field(default="", description="What the label means, shown in dashboards and docs.")
    values: list[LabelValue] | None = Field(
        default=None, description="Every value the label may take. Out-of-set values are emitted as `other`."
    )
    max_cardinality: int | None = Field(
        default=None, ge=1, le=10000, description="Cap on distinct values, for labels whose values are not known in advance (tenant)."
    )

    @model_validator(mode="after")
    def _one_bound(self) -> "LabelDef":
        if (self.values is None) == (self.max_cardinality is None):
            raise ValueError("a label declares exactly one of `values` or `max_cardinality`")
        return self


class OtelMapping(Strict):
    """Where the metric sits in the OpenTelemetry GenAI semantic conventions."""

    name: Text = Field(description="The OpenTelemetry metric or attribute, e.g. gen_ai.client.token.usage.")
    note: Text = Field(default="", description="How the value is derived, e.g. gen_ai.token.type=input.")


class MetricDef(Strict):
    """One metric the application exposes."""

    type: Literal["counter", "histogram", "summary", "gauge"] = Field(
        description="counter (ends in _total; ratio SLIs and budgets), histogram (threshold SLIs; its _count and _sum "
        "count events like counters), summary (its _count and _sum count events) or gauge."
    )
    unit: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)] = Field(
        description="Base unit: seconds, tokens, usd, requests, ratio, score, ..."
    )
    help: Text = Field(description="The HELP text: what one increment or observation means.")
    labels: list[LabelName] = Field(
        default_factory=list, description="Label names the metric carries; each is declared under the catalog's `labels`."
    )
    buckets: list[float] | None = Field(
        default=None, description="Histogram bucket upper bounds (`le`), strictly increasing; +Inf is implied."
    )
    otel: OtelMapping | None = Field(default=None, description="The matching OpenTelemetry GenAI metric or attribute.")
    third_party: bool = Field(
        default=False,
        description="Emitted by software the team does not own (vLLM, LiteLLM, an OpenTelemetry exporter): any valid "
        "Prometheus name is accepted (colons, a counter without _total, no unit suffix) and the series bound is not "
        "checked, since the labels cannot be changed here.",
    )


class Catalog(Strict):
    """The metric catalog: every metric and label the application exposes."""

    version: Version = Field(default=1, description="Format version; always 1.")
    include: list[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*$", max_length=40)]] = Field(
        default_factory=list,
        description="Bundled presets whose labels and metrics this catalog adds, e.g. [otel-genai]; an entry "
        "written in this file replaces the preset's entry of the same name (`slokit catalog preset NAME` prints one).",
    )
    labels: dict[LabelName, LabelDef] = Field(
        default_factory=dict, description="Every label any metric carries, with its allowed values or cardinality cap."
    )
    metrics: dict[MetricName, MetricDef] = Field(
        default_factory=dict, description="Metrics by name, e.g. llm_requests_total (may be empty with `include`).")


# --------------------------------------------------------------------------
# SLO spec
# --------------------------------------------------------------------------

# A regex as Prometheus reads it (RE2, anchored at both ends); bounded like other user text in PromQL.
LabelRegex = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class LabelMatch(Strict):
    """A label matched by a regex and/or by values it must not have.

    `{regex: "5.."}` becomes `code=~"5.."` (Prometheus anchors it: the whole
    value must match); `{not: [WATCH, CONNECT]}` becomes `verb!~"CONNECT|WATCH"`.
    Both may be given; both must hold.
    """

    model_config = ConfigDict(populate_by_name=True)

    regex: LabelRegex | None = Field(
        default=None, description="RE2 regex the whole value must match (Prometheus `=~`), e.g. \"5..\".")
    not_: LabelValue | list[LabelValue] | None = Field(
        default=None, alias="not", description="Value or values the label must not have (Prometheus `!=` / `!~`).")

    # `{}` (neither key) is refused by validate, at its position: here it would be lost among union branches.

    @property
    def excluded(self) -> list[str]:
        if self.not_ is None:
            return []
        return self.not_ if isinstance(self.not_, list) else [self.not_]

    def selects(self, declared: list[str]) -> list[str] | None:
        """The declared values this match selects, in their order; None for a regex RE2 refuses."""
        from slokit.promql import compile_regex

        picked = [v for v in declared if v not in self.excluded]
        if self.regex is None:
            return picked
        compiled, _problem = compile_regex(self.regex)
        return None if compiled is None else [v for v in picked if compiled.fullmatch(v)]


# Scope filters a whole service by listed values (dashboards offer them as choices).
ScopeMatch = dict[LabelName, LabelValue | list[LabelValue]]
# A selector's filter: a value, a list of values (OR-ed), or a regex / exclusion.
Match = dict[LabelName, LabelValue | list[LabelValue] | LabelMatch]


class Selector(Strict):
    """Events counted by one catalog counter, optionally filtered by labels."""

    metric: MetricName = Field(description="A catalog counter, e.g. llm_requests_total.")
    match: Match = Field(
        default_factory=dict, description="label: value, label: [values] (OR-ed), label: {regex: RE2} or label: "
        "{not: [values]}; all labels must hold."
    )


class RatioSLI(Strict):
    """good (or bad) events over total events."""

    good: Selector | None = Field(default=None, description="The good events (give `good` or `bad`).")
    bad: Selector | None = Field(default=None, description="The bad events (give `good` or `bad`).")
    total: Selector = Field(description="All events.")

    @model_validator(mode="after")
    def _good_xor_bad(self) -> "RatioSLI":
        if (self.good is None) == (self.bad is None):
            raise ValueError("a ratio SLI has exactly one of `good` or `bad`")
        return self


class ThresholdSLI(Strict):
    """Share of a histogram's observations on the good side of a bucket boundary.

    `le: 1` counts observations <= 1 as good (TTFT under 1s); `gt: 0.8` counts
    observations > 0.8 as good (eval score above 0.8). The bound must be one of
    the histogram's catalog buckets, so the SLI is exact, not interpolated.
    """

    metric: MetricName = Field(description="A catalog histogram, e.g. llm_ttft_seconds.")
    le: float | ThresholdDuration | None = Field(
        default=None, description="Good when the observation is <= this bucket bound: a number in the metric's "
        "unit, or a duration (500ms, 1.5s) converted to it.")
    gt: float | ThresholdDuration | None = Field(
        default=None, description="Good when the observation is > this bucket bound: a number in the metric's "
        "unit, or a duration converted to it.")
    match: Match = Field(default_factory=dict, description="Label filter, e.g. {model: sim-large}.")

    @model_validator(mode="after")
    def _one_bound(self) -> "ThresholdSLI":
        if (self.le is None) == (self.gt is None):
            raise ValueError("a threshold SLI has exactly one of `le` or `gt`")
        return self

    @property
    def bound(self) -> float | str:
        """The bound as written: a number in the metric's unit, or a duration (see units.in_unit)."""
        return self.le if self.le is not None else self.gt  # type: ignore[return-value]


class RawSLI(Strict):
    """Escape hatch: PromQL per-second rate expressions with `{{window}}` as the range.

    The generator wraps each in `sum by (<group_by>) (...)`. `error_ratio`
    (Sloth's `error_ratio_query`) is one expression for the share of bad
    events instead of `good`/`bad` over `total`.
    """

    good: Text | None = Field(default=None, description="PromQL rate of good events, with [{{window}}] as the range.")
    bad: Text | None = Field(default=None, description="PromQL rate of bad events, with [{{window}}] as the range.")
    total: Text | None = Field(
        default=None, description="PromQL rate of all events, e.g. rate(llm_requests_total[{{window}}]); "
        "required with good or bad.")
    error_ratio: Text | None = Field(
        default=None, description="PromQL error ratio (0-1) over [{{window}}], instead of good/bad and total "
        "(Sloth's error_ratio_query).")

    @model_validator(mode="after")
    def _good_xor_bad(self) -> "RawSLI":
        if self.error_ratio is not None:
            if self.good is not None or self.bad is not None or self.total is not None:
                raise ValueError("a raw SLI with `error_ratio` has no `good`, `bad` or `total`")
            return self
        if (self.good is None) == (self.bad is None):
            raise ValueError("a raw SLI has exactly one of `good`, `bad` or `error_ratio`")
        if self.total is None:
            raise ValueError("a raw SLI with `good` or `bad` needs `total`")
        return self


class SLI(Strict):
    """The service level indicator: exactly one of `ratio`, `threshold` or `raw`."""

    ratio: RatioSLI | None = Field(default=None, description="Good (or bad) events over total events, from counters.")
    threshold: ThresholdSLI | None = Field(
        default=None, description="Share of a histogram's observations at or below (le) or above (gt) a bucket bound."
    )
    raw: RawSLI | None = Field(default=None, description="Escape hatch: PromQL expressions for good (or bad) and total.")

    @model_validator(mode="after")
    def _one_kind(self) -> "SLI":
        kinds = [k for k in ("ratio", "threshold", "raw") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("an SLI has exactly one of `ratio`, `threshold` or `raw`")
        return self


class Tier(Strict):
    """One multi-window burn-rate alert: fires when `budget_percent` of the
    window's error budget would be spent within `long_window`."""

    severity: Literal["page", "ticket"] = Field(description="page or ticket.")
    budget_percent: float = Field(gt=0, le=100, description="Share of the error budget spent when the alert fires, e.g. 2.")
    long_window: Duration = Field(description="Window the burn rate is measured over, e.g. 1h.")
    short_window: Duration | None = Field(default=None, description="Defaults to long_window / 12.")


# The Google SRE Workbook's multi-window, multi-burn-rate alerts, as budget
# shares so they scale with the SLO window (14.4x/6x/1x/1x... for 30d).
DEFAULT_TIERS: tuple[Tier, ...] = (
    Tier(severity="page", budget_percent=2, long_window="1h", short_window="5m"),
    Tier(severity="page", budget_percent=5, long_window="6h", short_window="30m"),
    Tier(severity="ticket", budget_percent=10, long_window="1d", short_window="2h"),
    Tier(severity="ticket", budget_percent=10, long_window="3d", short_window="6h"),
)


class Route(Strict):
    """Settings of one alert severity."""

    enabled: bool = Field(default=True, description="false turns this severity off.")
    runbook_url: Text | None = Field(default=None, description="http(s) link put on the alerts' runbook_url annotation.")
    labels: dict[LabelName, LabelValue] = Field(default_factory=dict, description="Extra alert labels (for routing).")
    annotations: dict[LabelName, Text] = Field(default_factory=dict, description="Extra alert annotations.")
    alert_name: AlertName | None = Field(
        default=None, description="Name of this severity's burn-rate alerts (default SLOErrorBudgetBurn), so existing "
        "Alertmanager routes and silences keep matching.")


class SeverityValues(Strict):
    """The words written into the `severity` label for each tier (slokit still knows which is which)."""

    page: LabelValue = Field(default="page", description="severity label value of page alerts, e.g. critical.")
    ticket: LabelValue = Field(default="ticket", description="severity label value of ticket alerts, e.g. warning.")


class Alerting(Strict):
    """Burn-rate alerting of an SLO (or the defaults of a file)."""

    page: Route = Field(default_factory=Route, description="Settings of the page alerts.")
    ticket: Route = Field(default_factory=Route, description="Settings of the ticket alerts.")
    tiers: list[Tier] | None = Field(
        default=None,
        min_length=1,
        description="Burn-rate tiers; default is the SRE workbook's four (2%/1h, 5%/6h, 10%/1d, 10%/3d). "
        "To silence a severity, set `page: {enabled: false}` or `ticket: {enabled: false}` instead of an empty list.",
    )
    min_events_per_hour: float | None = Field(
        default=None, ge=0, description="Below this traffic the burn-rate alerts stay silent."
    )
    labels: dict[LabelName, LabelValue] = Field(
        default_factory=dict, description="Alert labels of both severities (a route's own labels win).")
    annotations: dict[LabelName, Text] = Field(
        default_factory=dict, description="Alert annotations of both severities (a route's own annotations win).")
    alert_name: AlertName | None = Field(
        default=None, description="Name of the burn-rate alerts of both severities (a route's alert_name wins).")
    severity_values: SeverityValues | None = Field(
        default=None, description="Words written into the severity label, e.g. {page: critical, ticket: warning}.")
    budget_exhausted: bool | None = Field(
        default=None, description="true adds an SLOErrorBudgetExhausted alert (ticket route) while the error budget "
        "over the window is spent; default false, since the burn-rate alerts have fired long before.")


class SLO(Strict):
    """One service level objective."""

    name: Slug = Field(description="Unique within the service; lowercase letters, digits, - and _.")
    description: Text = Field(default="", description="What the SLO promises, in one sentence.")
    objective: float = Field(gt=0, lt=100, description="Target in percent, e.g. 99.5.")
    window: Duration = Field(default="30d", description="Compliance window, a Prometheus duration: 30d, 28d, 7d.")
    sli: SLI = Field(description="How good and total events are counted.")
    group_by: list[LabelName] = Field(
        default_factory=list, description="Catalog labels giving one SLI, budget and alert per value, e.g. [feature]."
    )
    alerting: Alerting | None = Field(default=None, description="Overrides of the file's alerting defaults.")
    labels: dict[LabelName, LabelValue] = Field(
        default_factory=dict, description="Extra labels on this SLO's alerts (and, with record_labels, its recorded series).")
    record_labels: bool = Field(
        default=False, description="true also puts `labels` on the SLO's recording rules (for dashboards keyed on them).")


class Regression(Strict):
    """Cost-per-event regression against the same time a week (or `offset`) earlier."""

    per: Selector = Field(description="The events to divide spend by, e.g. llm_requests_total.")
    factor: float = Field(default=1.5, gt=1, description="Alert when cost per event exceeds this multiple of the baseline.")
    offset: Duration = Field(default="1w", description="How far back the baseline is, e.g. 1w.")
    min_events_per_hour: float = Field(default=30, ge=0, description="Below this traffic the regression alert stays silent.")


class Budget(Strict):
    """A spend or token budget that is not a ratio: the counter's increase over
    `window` must stay under `limit` (per value of `by`, if given)."""

    name: Slug = Field(description="Unique among the service's budgets.")
    description: Text = Field(default="", description="What the budget caps, in one sentence.")
    metric: MetricName = Field(description="A catalog counter, e.g. llm_cost_usd_total.")
    match: Match = Field(default_factory=dict, description="Label filter, e.g. {model: sim-large}.")
    limit: float = Field(gt=0, description="Most the counter may increase over `window`, in the metric's unit.")
    window: Duration = Field(default="30d", description="Budget period, e.g. 30d or 1d.")
    by: list[LabelName] = Field(default_factory=list, description="One budget per value of these labels, e.g. [feature].")
    regression: Regression | None = Field(default=None, description="Also alert on cost-per-event regressions.")
    alerting: Route | None = Field(default=None, description="Settings of the budget's alerts.")


class ServiceSpec(Strict):
    """One SLO spec file: a service, its SLOs and its budgets."""

    version: Version = Field(default=1, description="Format version; always 1.")
    service: Slug = Field(description="Service name, unique across files; lowercase letters, digits, - and _.")
    description: Text = Field(default="", description="What the service does, in one sentence.")
    owner: Slug | None = Field(
        default=None, description="Owning team; becomes the `team` routing label on alerts (a warning when missing).")
    labels: dict[LabelName, LabelValue] = Field(
        default_factory=dict, description="Extra labels on every alert of the service (never on recording rules)."
    )
    scope: ScopeMatch = Field(
        default_factory=dict,
        description="Label filter that selects this service's traffic; applied to every selector, SLI and dashboard "
        "query whose metric carries the label (e.g. feature: [support_chat]).",
    )
    grafana_url: Text = Field(default="http://127.0.0.1:3000", description="Base URL used in alert dashboard links.")
    alerting: Alerting | None = Field(default=None, description="Defaults for every SLO of the file.")
    slos: list[SLO] = Field(default_factory=list, description="The service's SLOs.")
    budgets: list[Budget] = Field(default_factory=list, description="Spend and token budgets.")


# --------------------------------------------------------------------------
# Series names in the catalog
# --------------------------------------------------------------------------

HISTOGRAM_SERIES = ("_bucket", "_count", "_sum")


SUMMARY_SERIES = ("_count", "_sum")
# Series of a histogram or summary that are counters: they can count events like a counter.
COUNTER_SERIES = ("_count", "_sum")


def resolve_series(name: str, catalog: Catalog) -> tuple[str | None, str]:
    """The catalog metric a series name belongs to, and the histogram or summary suffix it used."""
    if name in catalog.metrics:
        return name, ""
    for suffix in HISTOGRAM_SERIES:
        base = name.removesuffix(suffix)
        metric = catalog.metrics.get(base) if name.endswith(suffix) else None
        if metric is not None and (metric.type == "histogram" or (metric.type == "summary" and suffix in
                                                                    SUMMARY_SERIES)):
            return base, suffix
    return None, ""
