"""The typed input language: SLO spec files and the metric catalog.

These pydantic models are the single source of truth for the shape of the
input. The JSON Schema published for editors is generated from them
(`slokit schema`). Cross-references (a metric named in an SLO exists in the
catalog, a threshold is a bucket, ...) are checked later, in `validate`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
METRIC_NAME_PATTERN = r"^[a-zA-Z_:][a-zA-Z0-9_:]*$"
LABEL_NAME_PATTERN = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
# A Prometheus duration, restricted to the units an SLO window is written in.
DURATION_PATTERN = r"^([0-9]+(w|d|h|m|s))+$"

Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=63)]
MetricName = Annotated[str, StringConstraints(pattern=METRIC_NAME_PATTERN, max_length=200)]
LabelName = Annotated[str, StringConstraints(pattern=LABEL_NAME_PATTERN, max_length=100)]
Duration = Annotated[str, StringConstraints(pattern=DURATION_PATTERN, max_length=20)]
# Free text ends up in YAML, JSON and alert annotations; it is escaped there,
# but a bound keeps generated files reviewable.
Text = Annotated[str, StringConstraints(max_length=2000)]
LabelValue = Annotated[str, StringConstraints(max_length=200)]


class Strict(BaseModel):
    """Unknown keys are errors, never silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------
# Metric catalog
# --------------------------------------------------------------------------


class LabelDef(Strict):
    """A label the application may put on metrics, with its bounded value set."""

    description: Text = ""
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
    note: Text = ""


class MetricDef(Strict):
    type: Literal["counter", "histogram", "gauge"]
    unit: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)] = Field(
        description="Base unit: seconds, tokens, usd, requests, ratio, score, ..."
    )
    help: Text
    labels: list[LabelName] = Field(default_factory=list)
    buckets: list[float] | None = Field(
        default=None, description="Histogram bucket upper bounds (`le`), strictly increasing; +Inf is implied."
    )
    otel: OtelMapping | None = None


class Catalog(Strict):
    version: Literal[1] = 1
    labels: dict[LabelName, LabelDef] = Field(default_factory=dict)
    metrics: dict[MetricName, MetricDef]


# --------------------------------------------------------------------------
# SLO spec
# --------------------------------------------------------------------------

Match = dict[LabelName, LabelValue | list[LabelValue]]


class Selector(Strict):
    """Events counted by one catalog counter, optionally filtered by labels."""

    metric: MetricName
    match: Match = Field(
        default_factory=dict, description="label: value or label: [values]; all must hold (values of one label are OR-ed)."
    )


class RatioSLI(Strict):
    """good (or bad) events over total events."""

    good: Selector | None = None
    bad: Selector | None = None
    total: Selector

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

    metric: MetricName
    le: float | None = Field(default=None, description="Good when the observation is <= this bucket bound.")
    gt: float | None = Field(default=None, description="Good when the observation is > this bucket bound.")
    match: Match = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_bound(self) -> "ThresholdSLI":
        if (self.le is None) == (self.gt is None):
            raise ValueError("a threshold SLI has exactly one of `le` or `gt`")
        return self

    @property
    def bound(self) -> float:
        return self.le if self.le is not None else self.gt  # type: ignore[return-value]


class RawSLI(Strict):
    """Escape hatch: PromQL per-second rate expressions with `{{window}}` as the range.

    The generator wraps each in `sum by (<group_by>) (...)`.
    """

    good: Text | None = None
    bad: Text | None = None
    total: Text

    @model_validator(mode="after")
    def _good_xor_bad(self) -> "RawSLI":
        if (self.good is None) == (self.bad is None):
            raise ValueError("a raw SLI has exactly one of `good` or `bad`")
        return self


class SLI(Strict):
    ratio: RatioSLI | None = None
    threshold: ThresholdSLI | None = None
    raw: RawSLI | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> "SLI":
        kinds = [k for k in ("ratio", "threshold", "raw") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("an SLI has exactly one of `ratio`, `threshold` or `raw`")
        return self


class Tier(Strict):
    """One multi-window burn-rate alert: fires when `budget_percent` of the
    window's error budget would be spent within `long_window`."""

    severity: Literal["page", "ticket"]
    budget_percent: float = Field(gt=0, le=100)
    long_window: Duration
    short_window: Duration | None = Field(default=None, description="Defaults to long_window / 12.")


class Route(Strict):
    """Settings of one alert severity."""

    enabled: bool = True
    runbook_url: Text | None = None
    labels: dict[LabelName, LabelValue] = Field(default_factory=dict)
    annotations: dict[LabelName, Text] = Field(default_factory=dict)


class Alerting(Strict):
    page: Route = Field(default_factory=Route)
    ticket: Route = Field(default_factory=Route)
    tiers: list[Tier] | None = Field(
        default=None, description="Burn-rate tiers; default is the SRE workbook's four (2%/1h, 5%/6h, 10%/1d, 10%/3d)."
    )
    min_events_per_hour: float | None = Field(
        default=None, ge=0, description="Below this traffic the burn-rate alerts stay silent."
    )


class SLO(Strict):
    name: Slug
    description: Text = ""
    objective: float = Field(gt=0, lt=100, description="Target in percent, e.g. 99.5.")
    window: Duration = "30d"
    sli: SLI
    group_by: list[LabelName] = Field(default_factory=list)
    alerting: Alerting | None = None


class Regression(Strict):
    """Cost-per-event regression against the same time a week (or `offset`) earlier."""

    per: Selector = Field(description="The events to divide spend by, e.g. llm_requests_total.")
    factor: float = Field(default=1.5, gt=1)
    offset: Duration = "1w"
    min_events_per_hour: float = Field(default=30, ge=0)


class Budget(Strict):
    """A spend or token budget that is not a ratio: the counter's increase over
    `window` must stay under `limit` (per value of `by`, if given)."""

    name: Slug
    description: Text = ""
    metric: MetricName
    match: Match = Field(default_factory=dict)
    limit: float = Field(gt=0)
    window: Duration = "30d"
    by: list[LabelName] = Field(default_factory=list)
    regression: Regression | None = None
    alerting: Route | None = None


class ServiceSpec(Strict):
    version: Literal[1] = 1
    service: Slug
    description: Text = ""
    owner: Slug = Field(description="Owning team; becomes the `team` routing label on alerts.")
    labels: dict[LabelName, LabelValue] = Field(default_factory=dict)
    scope: Match = Field(
        default_factory=dict,
        description="Label filter that selects this service's traffic; applied to every selector, SLI and dashboard "
        "query whose metric carries the label (e.g. feature: [support_chat]).",
    )
    grafana_url: Text = Field(default="http://127.0.0.1:3000", description="Base URL used in alert dashboard links.")
    alerting: Alerting | None = Field(default=None, description="Defaults for every SLO of the file.")
    slos: list[SLO] = Field(default_factory=list)
    budgets: list[Budget] = Field(default_factory=list)
