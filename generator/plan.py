"""The SLO math, once, as plain data every backend reads.

A validated project becomes a ProjectPlan: per SLO its error budget, the
windows it is recorded at, its resolved burn-rate tiers, and the exact
recording and alerting rules; per budget its projection windows and rules.
Renderers (Prometheus rules, rule tests, dashboards, runbooks) format this
data; none of them computes a window, a burn factor or an expression.

Rule design, in short (docs/alerting.md has the long form):
- Every SLI is recorded once from the raw counters as bad and total event
  rates over the base window (5m), aggregated `sum by (group_by)`, labelled
  only with `service`, `slo` and the group_by labels.
- Windows up to 2h are computed from the raw counters too; longer windows
  are `avg_over_time` of the recorded base rates, so their cost does not grow
  with the number of raw series. The ratio of the two averages is the
  traffic-weighted error ratio over the window.
- Zero traffic gives an error ratio of 0, not NaN.
- Alerts compare burn rates (error ratio / error budget) on a long and a short
  window, per tier, with an optional minimum-traffic guard.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from slokit import naming as N
from slokit.config import NO_SETTINGS, Settings
from slokit.escape import go_template_literal
from slokit.model import SLO, Alerting, Budget, Catalog, LabelMatch, Match, Route, ServiceSpec, duration_seconds, resolve_series
from slokit.promql import (
    Matcher,
    Selector,
    aggregate,
    equals,
    le_regex,
    number,
    one_of,
    parse_selectors,
    regex_matchers,
    sum_rate,
)
from slokit.units import in_unit
from slokit.windows import (
    BASE_WINDOW,
    COARSE_STEP,
    BurnTier,
    format_duration,
    resolve_tiers,
    uses_coarse_average,
    uses_raw_counters,
)

if TYPE_CHECKING:
    from slokit.project import Project

HOUR = 3600
# Budgets project spend from a long and a short window, scaled from 6h / 1h
# for a 30-day budget; the floors keep a daily budget from alerting on minutes.
BUDGET_LONG_FRACTION = 120
BUDGET_MIN_LONG = 30 * 60
BUDGET_SHORT_FRACTION = 6
BUDGET_MIN_SHORT = 5 * 60
REGRESSION_WINDOW = HOUR
NO_DATA_FOR = "10m"
# Shown in dashboards and runbooks for a service without `owner`.
UNOWNED = "unowned"
COST_REGRESSION_FOR = "30m"


# --------------------------------------------------------------------------
# Plain rule data
# --------------------------------------------------------------------------

Labels = tuple[tuple[str, str], ...]


def labels_of(mapping: dict[str, str]) -> Labels:
    return tuple(sorted(mapping.items()))


@dataclass(frozen=True)
class RecordingRule:
    record: str
    expr: str
    labels: Labels = ()


@dataclass(frozen=True)
class AlertingRule:
    alert: str
    expr: str
    labels: Labels
    annotations: Labels
    for_: str | None = None
    # What the alert is (one of naming's ALERT_* defaults), whatever the user
    # named it: rule tests and the simulator select alerts by kind.
    kind: str = ""

    @property
    def what(self) -> str:
        return self.kind or self.alert


@dataclass(frozen=True)
class RuleGroup:
    name: str
    rules: tuple[RecordingRule | AlertingRule, ...]

    @property
    def recording_rules(self) -> tuple[RecordingRule, ...]:
        return tuple(r for r in self.rules if isinstance(r, RecordingRule))

    @property
    def alerting_rules(self) -> tuple[AlertingRule, ...]:
        return tuple(r for r in self.rules if isinstance(r, AlertingRule))


@dataclass(frozen=True)
class Identity:
    """The labels that name one SLO's or budget's recorded series (and nothing else)."""

    labels: Labels
    # Labels also written on the recorded series but not used to select them
    # (an SLO's `labels` with `record_labels: true`).
    extra: Labels = ()

    @property
    def recorded(self) -> Labels:
        return labels_of({**dict(self.extra), **dict(self.labels)})

    @property
    def matchers(self) -> tuple[Matcher, ...]:
        return tuple(equals(k, v) for k, v in self.labels)

    def series(self, record: str) -> str:
        """A recorded series as a selector, e.g. slo:error_ratio:rate1h{service="x", slo="y"}."""
        return Selector(record, self.matchers).render()


def slo_identity(service: str, slo: str, extra: Labels = ()) -> Identity:
    return Identity(labels_of({N.LABEL_SERVICE: service, N.LABEL_SLO: slo}), extra)


def budget_identity(service: str, budget: str) -> Identity:
    return Identity(labels_of({N.LABEL_SERVICE: service, N.LABEL_BUDGET: budget}))


# --------------------------------------------------------------------------
# The plan
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class SLIPlan:
    """How events are counted.

    `events` says whether `events_query` counts good or bad events. For
    ratio and threshold SLIs the queries are series selectors; for raw SLIs
    they are the user's PromQL with `{{window}}` left in.
    """

    kind: str  # ratio | threshold | raw
    events: str  # good | bad
    events_query: str
    total_query: str
    metrics: tuple[str, ...]  # catalog metrics the SLI reads (for dashboards and docs)
    threshold: str | None = None  # e.g. "<= 1" or "> 0.8", for threshold SLIs
    unit: str | None = None  # the histogram's unit, for threshold SLIs
    # A raw SLI given as one error-ratio expression: its "events" are ratios,
    # not per-second rates (traffic guards and event counts mean nothing).
    error_ratio: bool = False
    # What each regex or exclusion selects of a label's declared values, e.g. `code=~"5.." selects 500, 503`.
    selections: tuple[str, ...] = ()

    @property
    def threshold_bound(self) -> Decimal | None:
        """The bucket bound of a threshold SLI (1 for "<= 1"), e.g. for a dashboard's threshold line."""
        return Decimal(self.threshold.split()[-1]) if self.threshold else None


@dataclass(frozen=True)
class TierPlan:
    """A burn-rate tier of one SLO, with whether its severity is enabled."""

    tier: BurnTier
    enabled: bool
    error_ratio_threshold: Decimal

    @property
    def severity(self) -> str:
        return self.tier.severity

    @property
    def burn_factor(self) -> Decimal:
        return self.tier.burn_factor

    def detection_seconds(self, error_ratio: float) -> float | None:
        """How long a constant `error_ratio` takes to fire this tier (from a clean start), or None."""
        if error_ratio <= float(self.error_ratio_threshold):
            return None
        long_s = self.tier.long_s * float(self.error_ratio_threshold) / error_ratio
        short_s = self.tier.short_s * float(self.error_ratio_threshold) / error_ratio
        return max(long_s, short_s)


@dataclass(frozen=True)
class RoutePlan:
    enabled: bool
    runbook_url: str
    labels: Labels
    annotations: Labels
    alert_name: str = N.ALERT_BURN  # of the burn-rate alerts of this severity
    severity_value: str = ""  # what the severity label says (page, or a mapped word such as critical)
    runbook_set: bool = False  # the user gave runbook_url (else it is the default)


@dataclass(frozen=True)
class SLOPlan:
    service: str
    name: str
    description: str
    objective: Decimal  # percent, e.g. 99.5
    error_budget: Decimal  # ratio, e.g. 0.005
    window: str
    window_s: int
    sli: SLIPlan
    group_by: tuple[str, ...]
    windows: tuple[str, ...]  # every recorded window, shortest first
    tiers: tuple[TierPlan, ...]
    min_events_per_hour: Decimal | None
    page: RoutePlan
    ticket: RoutePlan
    dashboard_url: str
    rule_group: RuleGroup
    recorded_labels: Labels = ()  # the SLO's `labels` when also written on its recorded series
    sloth_group: RuleGroup | None = None  # Sloth-named aliases of its series (`generate --format sloth`)
    exhausted_alert: bool = False  # SLOErrorBudgetExhausted is generated (`alerting.budget_exhausted`)
    # Windows averaged from the base rate sampled every 5m (the SLO window when no alert reads it), not every one.
    coarse_windows: tuple[str, ...] = ()
    # Windows with a recorded burn rate (the alerts' and the base window); the others record the error ratio only.
    burn_windows: tuple[str, ...] = ()

    @property
    def objective_ratio(self) -> Decimal:
        return self.objective / 100

    @property
    def identity(self) -> tuple[Matcher, ...]:
        return slo_identity(self.service, self.name).matchers

    def series(self, record: str) -> str:
        """A recorded series of this SLO as a selector, e.g. slo:error_ratio:rate1h{service="x", slo="y"}."""
        return slo_identity(self.service, self.name).series(record)

    @property
    def alert_windows(self) -> tuple[str, ...]:
        seen: list[str] = []
        for t in self.tiers:
            for w in (t.tier.long_window, t.tier.short_window):
                if w not in seen:
                    seen.append(w)
        return tuple(seen)


@dataclass(frozen=True)
class BudgetPlan:
    service: str
    name: str
    description: str
    metric: str
    unit: str
    query: str  # selector of the budget's counter, scope and match applied
    limit: Decimal
    window: str
    window_s: int
    by: tuple[str, ...]
    long_window: str
    short_window: str
    regression_factor: Decimal | None
    regression_offset: str | None
    regression_events_query: str | None
    regression_min_events_per_hour: Decimal | None
    route: RoutePlan
    dashboard_url: str

    @property
    def identity(self) -> tuple[Matcher, ...]:
        return budget_identity(self.service, self.name).matchers

    def series(self, record: str) -> str:
        return budget_identity(self.service, self.name).series(record)


@dataclass(frozen=True)
class ServicePlan:
    service: str
    description: str
    owner: str
    labels: Labels
    scope: tuple[tuple[str, tuple[str, ...]], ...]
    source: str  # the spec file, as given on the command line
    catalog_source: str
    grafana_url: str
    dashboard_uid: str
    dashboard_url: str
    slos: tuple[SLOPlan, ...]
    budgets: tuple[BudgetPlan, ...]
    rule_groups: tuple[RuleGroup, ...]
    team: str | None = None  # the `team` label; None when the spec names no owner

    @property
    def sources(self) -> tuple[str, ...]:
        return (self.source, self.catalog_source)


@dataclass(frozen=True)
class RulerOptions:
    """What the Mimir / Cortex and Thanos rule files carry besides the groups (from slokit.yaml)."""

    mimir_source_tenants: tuple[str, ...] = ()
    thanos_partial_response_strategy: str = "abort"


@dataclass(frozen=True)
class ProjectPlan:
    catalog: Catalog
    catalog_source: str
    services: tuple[ServicePlan, ...]
    rulers: RulerOptions = RulerOptions()

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(sorted({self.catalog_source, *(s.source for s in self.services)}))


# --------------------------------------------------------------------------
# Building the plan
# --------------------------------------------------------------------------


def _dec(x: float) -> Decimal:
    return Decimal(str(x))


def _values(v: str | list[str]) -> list[str]:
    return v if isinstance(v, list) else [v]


@dataclass
class _Context:
    """What building one service's plan needs besides the spec itself."""

    spec: ServiceSpec
    catalog: Catalog
    dashboard_url: str
    settings: Settings = NO_SETTINGS

    def runbook(self, anchor: str) -> str:
        """The runbook link: absolute under the configured base, else the generated file's path."""
        base = self.settings.runbook_base_url
        page = N.runbook_path(self.spec.service)
        if base:
            page = f"{base.rstrip('/')}/{PurePosixPath(page).name}"
        return f"{page}#{anchor}"

    def selector(self, metric: str, match: Match, series: str = "") -> Selector:
        """The catalog metric with the SLO's match and the service scope applied.

        Scope applies only to metrics that carry the scope label: a metric
        without `feature` is not filtered by feature.
        """
        base = resolve_series(metric, self.catalog)[0]  # x for x_count: the labels are the histogram's
        labels = set(self.catalog.metrics[base].labels) if base is not None else set()
        matchers: dict[str, tuple[Matcher, ...]] = {}
        for label, value in self.spec.scope.items():
            if label in labels:
                matchers[label] = (one_of(label, _values(value)),)
        for label, value in match.items():
            if isinstance(value, LabelMatch):
                # A regex or exclusion narrows the scope's values; it does not replace them.
                matchers[label] = matchers.get(label, ()) + regex_matchers(label, value.regex, value.excluded)
            else:
                matchers[label] = (one_of(label, _values(value)),)
        return Selector(metric + series, tuple(m for group in matchers.values() for m in group))


def _layers(spec: ServiceSpec, slo: SLO | None, conventions: Alerting | None = None) -> list[Alerting]:
    """The alerting settings that apply to an SLO, most general first (project conventions, file, SLO)."""
    return [a for a in (conventions, spec.alerting, slo.alerting if slo is not None else None) if a is not None]


def _route(spec: ServiceSpec, slo: SLO | None, severity: str, default_runbook: str,
           conventions: Alerting | None = None) -> RoutePlan:
    """An SLO's route: its own setting wins over the file's, which wins over the default.

    The route itself (enabled, runbook_url, its labels) is taken whole from the
    most specific level that sets it; the shared `alerting.labels`,
    `annotations`, `alert_name` and `severity_values` are layered file, SLO,
    route, the most specific winning key by key.
    """
    route = Route()
    if spec.alerting is not None:
        route = getattr(spec.alerting, severity)
    if slo is not None and slo.alerting is not None and severity in slo.alerting.model_fields_set:
        route = getattr(slo.alerting, severity)
    layers = _layers(spec, slo, conventions)
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    alert_name = N.ALERT_BURN
    severity_value = severity
    for layer in layers:
        labels.update(layer.labels)
        annotations.update(layer.annotations)
        alert_name = getattr(layer, severity).alert_name or layer.alert_name or alert_name
        if layer.severity_values is not None:
            severity_value = getattr(layer.severity_values, severity)
    labels.update(route.labels)
    annotations.update(route.annotations)
    return RoutePlan(route.enabled, route.runbook_url or default_runbook, labels_of(labels),
                     labels_of(annotations), alert_name, severity_value, route.runbook_url is not None)


def _share_runbook(page: RoutePlan, ticket: RoutePlan) -> tuple[RoutePlan, RoutePlan]:
    """A runbook one severity names is the SLO's runbook: the other severity (and no-data) use it too,
    unless they name their own."""
    if page.runbook_set and not ticket.runbook_set:
        ticket = replace(ticket, runbook_url=page.runbook_url)
    elif ticket.runbook_set and not page.runbook_set:
        page = replace(page, runbook_url=ticket.runbook_url)
    return page, ticket


def _selections(catalog: Catalog, *matches: Match) -> tuple[str, ...]:
    """In words, the declared values each `{regex, not}` match selects (validate made sure some are)."""
    out: list[str] = []
    for match in matches:
        for label, value in match.items():
            declared = catalog.labels[label].values if label in catalog.labels else None
            if not isinstance(value, LabelMatch) or declared is None:
                continue
            picked = value.selects(declared) or []
            text = " ".join(m.render() for m in regex_matchers(label, value.regex, value.excluded))
            line = f"{text} selects {', '.join(picked)} of the declared values"
            if line not in out:
                out.append(line)
    return tuple(out)


def _sli(ctx: _Context, slo: SLO) -> SLIPlan:
    sli = slo.sli
    if sli.ratio is not None:
        events, sel = ("good", sli.ratio.good) if sli.ratio.good is not None else ("bad", sli.ratio.bad)
        assert sel is not None
        return SLIPlan("ratio", events, ctx.selector(sel.metric, sel.match).render(),
                       ctx.selector(sli.ratio.total.metric, sli.ratio.total.match).render(),
                       tuple(sorted({resolve_series(m, ctx.catalog)[0] or m
                                     for m in (sel.metric, sli.ratio.total.metric)})),
                       selections=_selections(ctx.catalog, sel.match, sli.ratio.total.match))
    if sli.threshold is not None:
        t = sli.threshold
        # In the histogram's unit: `le: 500ms` on a seconds histogram is exactly 0.5 (validate checked the unit).
        bound = in_unit(t.bound, ctx.catalog.metrics[t.metric].unit)
        assert bound is not None
        bucket = ctx.selector(t.metric, t.match, "_bucket").with_matchers(Matcher("le", "=~", le_regex(bound)))
        count = ctx.selector(t.metric, t.match, "_count")
        # Buckets count observations <= bound: good for `le`, bad for `gt`.
        events = "good" if t.le is not None else "bad"
        threshold = f"<= {number(bound)}" if t.le is not None else f"> {number(bound)}"
        return SLIPlan("threshold", events, bucket.render(), count.render(), (t.metric,), threshold,
                       ctx.catalog.metrics[t.metric].unit, selections=_selections(ctx.catalog, t.match))
    raw = sli.raw
    assert raw is not None

    metrics: set[str] = set()
    for text in (raw.good, raw.bad, raw.total, raw.error_ratio):
        parsed = parse_selectors((text or "").replace("{{window}}", "5m"))
        if isinstance(parsed, list):
            for name, _ in parsed:
                if name:
                    base, _series = resolve_series(name, ctx.catalog)
                    metrics.add(base or name)
    if raw.error_ratio is not None:
        # One error-ratio series per group: bad "events" are the ratio, total
        # "events" count 1 per non-NaN ratio, so bad / total is the (mean) ratio
        # and the longer windows average it over time, as Sloth does. A NaN
        # ratio (no traffic) drops out of both.
        ratio = f"({raw.error_ratio})"
        return SLIPlan("raw", "bad", f"{ratio} >= 0", f"{ratio} >= bool 0", tuple(sorted(metrics)),
                       error_ratio=True)
    events, expr = ("good", raw.good) if raw.good is not None else ("bad", raw.bad)
    return SLIPlan("raw", events, expr or "", raw.total or "", tuple(sorted(metrics)))


def _rate(sli: SLIPlan, query: str, window: str, group_by: tuple[str, ...]) -> str:
    if sli.kind == "raw":
        return f"{aggregate('sum', group_by)}({query.replace('{{window}}', window)})"
    return sum_rate(Selector(query), window, group_by)


def total_rate_query(sli: SLIPlan, window: str) -> str:
    """PromQL for the SLO's total events per second over `window`, summed (for front ends that ask Prometheus)."""
    return _rate(sli, sli.total_query, window, ())


def _raw_window_rules(ids: Identity, sli: SLIPlan, window: str,
                      group_by: tuple[str, ...]) -> list[RecordingRule]:
    """bad and total event rates over `window`, from the raw counters.

    The bad-events rule reads the total recorded just before it in the same
    evaluation (rules of a group run in order), not the raw total selector
    again: PromQL evaluates both sides of `or`, so a fallback on the raw
    selector read every total series twice, and a threshold SLI its `_count`
    twice. The two sides are matched `on` the SLO's group_by labels only (not
    `ignoring` the SLO's own labels): where the engine stores labels of its own
    on what it records (Thanos Ruler and vmalert external labels), `ignoring`
    left those on the recorded side, so the sides no longer matched and `or`
    kept both, two series that collide once the rule's labels are applied.
    """
    total = _rate(sli, sli.total_query, window, group_by)
    events = _rate(sli, sli.events_query, window, group_by)
    recorded = ids.series(N.slo_total_rate(window))
    match = f"on ({', '.join(group_by)})"
    if sli.events == "bad":
        # A bad-events series that has never been incremented does not exist;
        # without the fallback the error ratio would vanish instead of being 0.
        bad = f"{events}\nor {match}\n0 * {recorded}"
    else:
        bad = f"{recorded}\n- {match}\n(\n  {events}\n  or {match}\n  0 * {recorded}\n)"
    return [RecordingRule(N.slo_total_rate(window), total, ids.recorded),
            RecordingRule(N.slo_bad_rate(window), bad, ids.recorded)]


def _derived_window_rules(slo: Identity, window: str, coarse: bool = False) -> list[RecordingRule]:
    """bad and total event rates over a long window, averaged from the base rates.

    `coarse` (the SLO window): the base rates sampled every 5m by a subquery,
    which tile the window as well as every sample does, at a fifth of the
    reads. Until a step boundary has passed since the rates were first
    recorded (a fresh deployment) the subquery is empty: the base rate itself
    stands in.
    """
    base = format_duration(BASE_WINDOW)
    rules = []
    for kind in (N.slo_total_rate, N.slo_bad_rate):
        source = slo.series(kind(base))
        if coarse:
            expr = f"avg_over_time({source}[{window}:{format_duration(COARSE_STEP)}])\nor\n{source}"
        else:
            expr = f"avg_over_time({source}[{window}])"
        rules.append(RecordingRule(kind(window), expr, slo.recorded))
    return rules


def _windows(slo_window_s: int, tiers: tuple[BurnTier, ...]) -> tuple[int, ...]:
    needed = {BASE_WINDOW, slo_window_s, HOUR}
    for t in tiers:
        needed.update((t.long_s, t.short_s))
    return tuple(sorted(w for w in needed if w <= slo_window_s))


def _alert_labels(labels: dict[str, str]) -> Labels:
    """Prometheus expands templates in alert labels too: every value is written to expand to itself."""
    return labels_of({k: go_template_literal(v) for k, v in labels.items()})


def _annotations(generated: dict[str, str], route: RoutePlan) -> Labels:
    """The generated annotations, then the route's own: a user annotation of the same name wins.

    `generated` holds slokit's templates with the user text in them already
    escaped; the route's annotations are user text and are escaped here.
    """
    return labels_of({**generated, **{k: go_template_literal(v) for k, v in route.annotations}})


def _budget_left_template(ids: Identity, group_by: tuple[str, ...], record: str = N.SLO_BUDGET_REMAINING) -> str:
    """Go template printing the SLO's error budget left (or another ratio it records), queried when the
    alert fires.

    Label values of group_by labels are passed to printf as arguments (%q
    quotes them as PromQL strings); text nested inside a template string is
    never expanded, so `{{ $labels.x }}` inside the format would stay literal.
    """
    selector = (f"{record}{{" + ",".join(f"{k}='{v}'" for k, v in ids.labels)
                + "".join(f",{g}=%q" for g in group_by) + "}")
    args = "".join(f" $labels.{g}" for g in group_by)
    return (f"{{{{ with printf \"{selector}\"{args} | query }}}}"
            "{{ . | first | value | humanizePercentage }}{{ else }}unknown{{ end }}")


def _time_param(name: str, offset_s: int) -> str:
    """`&name=<ms>`: the evaluation time plus `offset_s`, as Grafana's from/to want it (ms since the epoch).

    Prometheus templates have no clock but can query `time()`; if that query
    fails the parameter is left out and Grafana shows its default range.
    """
    sign = "+" if offset_s >= 0 else "-"
    return (f'{{{{ with query "time() {sign} {abs(offset_s)}" }}}}&{name}={{{{ . | first | value | printf "%.0f" }}}}'
            "000{{ end }}")


def _dashboard_link(ctx: "_Context", slo_name: str, group_by: tuple[str, ...], window_s: int) -> str:
    """The SLO's own panel, its group selected, from twice the alert's window before now to one after."""
    params = f"?viewPanel={N.slo_panel_id(slo_name)}"
    params += "".join(f"&var-{g}={{{{ $labels.{g} | urlquery }}}}" for g in group_by)
    return go_template_literal(ctx.dashboard_url) + params + _time_param("from", -2 * window_s) + \
        _time_param("to", window_s)


def _bad_events(sli: SLIPlan) -> str:
    """Which events count as bad, in words and selectors (for the alert description)."""
    if sli.kind == "threshold":
        side = sli.threshold.replace("<=", ">", 1) if sli.threshold and sli.threshold.startswith("<=") else \
            (sli.threshold or "").replace(">", "<=", 1)
        return f"observations of {sli.metrics[0]} {side} {sli.unit}"
    text = (lambda q: q.replace("{{window}}", "<window>"))
    if sli.error_ratio:
        return f"the share the error-ratio query gives: {text(sli.events_query)}"
    if sli.events == "bad":
        return text(sli.events_query)
    return f"events of {text(sli.total_query)} that are not {text(sli.events_query)}"


def _team(spec: ServiceSpec) -> dict[str, str]:
    """The `team` label, when the service names its owner."""
    return {N.LABEL_TEAM: spec.owner} if spec.owner else {}


def _user_labels(spec: ServiceSpec, slo: SLO, route: RoutePlan) -> dict[str, str]:
    """Alert labels the user wrote: the file's, the SLO's, then the route's (escaped with the others by _alert_labels)."""
    return {**dict(spec.labels), **slo.labels, **dict(route.labels)}


def _slo_alerts(ctx: _Context, slo: SLO, ids: Identity, sli: SLIPlan, tiers: tuple[TierPlan, ...],
                group_by: tuple[str, ...], min_per_hour: Decimal | None,
                page: RoutePlan, ticket: RoutePlan, index: int = 0, exhausted: bool = False) -> list[AlertingRule]:
    spec = ctx.spec
    routes = {N.SEVERITY_PAGE: page, N.SEVERITY_TICKET: ticket}
    objective = number(_dec(slo.objective))
    what = f"{spec.service}/{slo.name}" + "".join(f" {g}={{{{ $labels.{g} }}}}" for g in group_by)
    group = (" for " + ", ".join(f"{g}={{{{ $labels.{g} }}}}" for g in group_by)) if group_by else ""
    remaining = _budget_left_template(ids, group_by)
    bad = _bad_events(sli)
    alerts = []
    for t in tiers:
        if not t.enabled:
            continue
        route = routes[t.severity]
        factor = number(t.burn_factor)
        long_w, short_w = t.tier.long_window, t.tier.short_window
        expr = (f"{ids.series(N.slo_burn_rate(long_w))} > {factor}\n"
                f"and\n{ids.series(N.slo_burn_rate(short_w))} > {factor}")
        if min_per_hour is not None and min_per_hour > 0:
            expr += f"\nand\n{ids.series(N.slo_total_rate(long_w))} * 3600 >= {number(min_per_hour)}"
        labels = {**_user_labels(spec, slo, route), N.LABEL_SERVICE: spec.service, N.LABEL_SLO: slo.name,
                  N.LABEL_SEVERITY: route.severity_value, N.LABEL_LONG_WINDOW: long_w, **_team(spec)}
        ratio = _budget_left_template(ids, group_by, N.slo_error_ratio(long_w))
        annotations = {
            "summary": f"Error budget of SLO {spec.service}/{slo.name} is burning too fast{group}.",
            "description": (
                f"{what} ({objective}% over {slo.window}) burns its error budget {{{{ $value | humanize }}}}x as "
                f"fast as sustainable over the last {long_w}, and over {factor}x over the last {short_w} too "
                f"(the {t.severity} threshold: {number(t.tier.budget_percent)}% of the budget in {long_w}). "
                f"Error ratio over the last {long_w}: {ratio}, against a budget of "
                f"{number(_dec(100) - _dec(slo.objective))}%. Bad events: {go_template_literal(bad)}. "
                f"Error budget left over {slo.window}: {remaining}."),
            "runbook_url": go_template_literal(route.runbook_url),
            "dashboard": _dashboard_link(ctx, slo.name, group_by, t.tier.long_s),
        }
        alerts.append(AlertingRule(route.alert_name, expr, _alert_labels(labels), _annotations(annotations, route),
                                   kind=N.ALERT_BURN))
    if page.enabled or ticket.enabled:
        route = ticket if ticket.enabled else page
        base = format_duration(BASE_WINDOW)
        labels = {**_user_labels(spec, slo, route), N.LABEL_SERVICE: spec.service, N.LABEL_SLO: slo.name,
                  N.LABEL_SEVERITY: route.severity_value, **_team(spec)}
        annotations = {
            "summary": f"SLO {spec.service}/{slo.name} has no data.",
            "description": (f"No events of {spec.service}/{slo.name} have been recorded for {NO_DATA_FOR}: the "
                            f"application stopped reporting ({', '.join(sli.metrics)}), the scrape fails, or the "
                            "labels changed. Silence is not health: the SLO cannot be evaluated."),
            "runbook_url": go_template_literal(route.runbook_url),
            "dashboard": _dashboard_link(ctx, slo.name, (), HOUR),
        }
        alerts.append(AlertingRule(N.ALERT_NO_DATA, f"absent({ids.series(N.slo_total_rate(base))})",
                                   _alert_labels(labels), _annotations(annotations, route), NO_DATA_FOR,
                                   kind=N.ALERT_NO_DATA))
        if exhausted:
            alerts.append(_exhausted_alert(ctx, slo, ids, group_by, route, labels))
    return alerts


def _exhausted_alert(ctx: _Context, slo: SLO, ids: Identity, group_by: tuple[str, ...], route: RoutePlan,
                     labels: dict[str, str]) -> AlertingRule:
    """SLOErrorBudgetExhausted: the recorded exhausted signal is 1 (no `for`: the SLO window moves slowly)."""
    spec = ctx.spec
    what = f"{spec.service}/{slo.name}" + "".join(f" {g}={{{{ $labels.{g} }}}}" for g in group_by)
    group = (" for " + ", ".join(f"{g}={{{{ $labels.{g} }}}}" for g in group_by)) if group_by else ""
    annotations = {
        "summary": f"Error budget of SLO {spec.service}/{slo.name} is exhausted{group}.",
        "description": (f"{what} ({number(_dec(slo.objective))}% over {slo.window}) has spent its whole error "
                        f"budget over the last {slo.window}: error budget left "
                        f"{_budget_left_template(ids, group_by)}. Until bad events age out of the window, every "
                        "further failure breaks the objective: freeze risky changes."),
        "runbook_url": go_template_literal(route.runbook_url),
        "dashboard": _dashboard_link(ctx, slo.name, group_by, duration_seconds(slo.window)),
    }
    return AlertingRule(N.ALERT_SLO_EXHAUSTED, f"{ids.series(N.SLO_BUDGET_EXHAUSTED)} == 1", _alert_labels(labels),
                        _annotations(annotations, route), kind=N.ALERT_SLO_EXHAUSTED)


def exhausted_alert_enabled(spec: ServiceSpec, slo: SLO, conventions: Alerting | None = None) -> bool:
    """`alerting.budget_exhausted`: the SLO's setting, else the file's, else off."""
    for layer in reversed(_layers(spec, slo, conventions)):
        if layer.budget_exhausted is not None:
            return layer.budget_exhausted
    return False


def _slo_rules(ctx: _Context, slo: SLO, ids: Identity, sli: SLIPlan, windows: tuple[int, ...],
               group_by: tuple[str, ...], error_budget: Decimal, coarse: tuple[int, ...] = (),
               burn_windows: tuple[int, ...] = ()) -> list[RecordingRule]:
    rules: list[RecordingRule] = []
    for w in windows:
        text = format_duration(w)
        if uses_raw_counters(w):
            rules += _raw_window_rules(ids, sli, text, group_by)
        else:
            rules += _derived_window_rules(ids, text, w in coarse)
    budget = number(error_budget)
    for w in windows:
        text = format_duration(w)
        bad, total = ids.series(N.slo_bad_rate(text)), ids.series(N.slo_total_rate(text))
        rules.append(RecordingRule(N.slo_error_ratio(text), f"{bad}\n/\n({total} > 0)\nor\n0 * {total}", ids.recorded))
    # Burn rates only where something reads them: the alerts' windows and the base window (dashboards, the
    # rule tests); elsewhere the burn rate is the error ratio over a constant and would only cost a rule.
    for w in windows:
        if w not in burn_windows:
            continue
        text = format_duration(w)
        rules.append(RecordingRule(N.slo_burn_rate(text), f"{ids.series(N.slo_error_ratio(text))} / {budget}",
                                   ids.recorded))
    window = format_duration(duration_seconds(slo.window))
    rules += [
        RecordingRule(N.SLO_ERROR_RATIO_WINDOW, ids.series(N.slo_error_ratio(window)), ids.recorded),
        RecordingRule(N.SLO_TOTAL_RATE_WINDOW, ids.series(N.slo_total_rate(window)), ids.recorded),
        RecordingRule(N.SLO_BUDGET_REMAINING, f"1 - {ids.series(N.slo_error_ratio(window))} / {budget}", ids.recorded),
        RecordingRule(N.SLO_BUDGET_EXHAUSTED, f"{ids.series(N.SLO_BUDGET_REMAINING)} <= bool 0", ids.recorded),
        RecordingRule(N.SLO_BUDGET_REMAINING_EVENTS,
                      f"({budget} - {ids.series(N.slo_error_ratio(window))})\n"
                      f"* {ids.series(N.slo_total_rate(window))} * {duration_seconds(slo.window)}", ids.recorded),
        RecordingRule(N.SLO_BUDGET_REMAINING_OUTAGE,
                      f"{ids.series(N.SLO_BUDGET_REMAINING)} * {number(error_budget * duration_seconds(slo.window))}",
                      ids.recorded),
        RecordingRule(N.SLO_OBJECTIVE, f"vector({number(_dec(slo.objective) / 100)})", ids.recorded),
        RecordingRule(N.SLO_ERROR_BUDGET, f"vector({budget})", ids.recorded),
        RecordingRule(N.SLO_WINDOW_SECONDS, f"vector({duration_seconds(slo.window)})", ids.recorded),
    ]
    info = {**dict(ctx.spec.labels), **slo.labels, N.LABEL_SERVICE: ctx.spec.service, N.LABEL_SLO: slo.name,
            **_team(ctx.spec), N.LABEL_OBJECTIVE: number(_dec(slo.objective)),
            N.LABEL_WINDOW: slo.window, N.LABEL_SLI_KIND: sli.kind}
    rules.append(RecordingRule(N.SLO_INFO, "vector(1)", labels_of(info)))
    return rules


def _sloth_group(ctx: _Context, slo: SLO, ids: Identity, windows: tuple[int, ...],
                 error_budget: Decimal) -> RuleGroup:
    """Sloth's recording rules (names and sloth_* labels as Sloth documents them) as aliases of this SLO's
    series: Sloth's windows that slokit records, the period, objective, budget and burn rates.

    `service` and `slo` are summed away so the aliases never match slokit's own
    queries (two of Sloth's names, slo:objective:ratio and slo:error_budget:ratio,
    are slokit's too); group_by labels stay.
    """
    spec = ctx.spec
    labels = {**dict(spec.labels), **dict(ids.extra), N.SLOTH_ID: N.sloth_id(spec.service, slo.name),
              N.SLOTH_SERVICE: spec.service, N.SLOTH_SLO: slo.name}
    recorded = {format_duration(w) for w in windows}
    period = format_duration(duration_seconds(slo.window))

    def alias(record: str) -> str:
        return f"sum without ({N.LABEL_SERVICE}, {N.LABEL_SLO}) ({ids.series(record)})"

    rules = [RecordingRule(N.sloth_error_ratio(w), alias(N.slo_error_ratio(w)),
                           labels_of({**labels, N.SLOTH_WINDOW: w}))
             for w in (*N.SLOTH_WINDOWS, period) if w in recorded and (w != period or w not in N.SLOTH_WINDOWS)]
    days = Decimal(duration_seconds(slo.window)) / 86400
    rules += [
        RecordingRule(N.SLOTH_OBJECTIVE_RATIO, f"vector({number(_dec(slo.objective) / 100)})", labels_of(labels)),
        RecordingRule(N.SLOTH_ERROR_BUDGET, f"vector({number(error_budget)})", labels_of(labels)),
        RecordingRule(N.SLOTH_TIME_PERIOD_DAYS, f"vector({number(days)})", labels_of(labels)),
        RecordingRule(N.SLOTH_CURRENT_BURN, alias(N.slo_burn_rate(format_duration(BASE_WINDOW))), labels_of(labels)),
        RecordingRule(N.SLOTH_PERIOD_BURN, f"{alias(N.slo_error_ratio(period))} / {number(error_budget)}",
                      labels_of(labels)),
        RecordingRule(N.SLOTH_PERIOD_BUDGET_REMAINING, alias(N.SLO_BUDGET_REMAINING), labels_of(labels)),
        RecordingRule(N.SLOTH_INFO, "vector(1)",
                      labels_of({**labels, N.SLOTH_OBJECTIVE: number(_dec(slo.objective))})),
    ]
    return RuleGroup(N.sloth_group(spec.service, slo.name), tuple(rules))


def _min_events(spec: ServiceSpec, slo: SLO) -> Decimal | None:
    if slo.alerting is not None and slo.alerting.min_events_per_hour is not None:
        return _dec(slo.alerting.min_events_per_hour)
    if spec.alerting is not None and spec.alerting.min_events_per_hour is not None:
        return _dec(spec.alerting.min_events_per_hour)
    return None


def _tiers(spec: ServiceSpec, slo: SLO):
    if slo.alerting is not None and slo.alerting.tiers is not None:
        return slo.alerting.tiers
    if spec.alerting is not None and spec.alerting.tiers is not None:
        return spec.alerting.tiers
    return None


def plan_slo(ctx: _Context, slo: SLO, index: int = 0) -> SLOPlan:
    spec = ctx.spec
    ids = slo_identity(spec.service, slo.name, labels_of(slo.labels) if slo.record_labels else ())
    window_s = duration_seconds(slo.window)
    objective = _dec(slo.objective)
    error_budget = (100 - objective) / 100
    sli = _sli(ctx, slo)
    group_by = tuple(slo.group_by)
    runbook = ctx.runbook(slo.name)
    conventions = ctx.settings.conventions()
    page, ticket = _share_runbook(_route(spec, slo, N.SEVERITY_PAGE, runbook, conventions),
                                  _route(spec, slo, N.SEVERITY_TICKET, runbook, conventions))
    enabled = {N.SEVERITY_PAGE: page.enabled, N.SEVERITY_TICKET: ticket.enabled}
    burn_tiers = resolve_tiers(window_s, _tiers(spec, slo))
    tiers = tuple(TierPlan(t, enabled[t.severity], t.error_ratio_threshold(error_budget)) for t in burn_tiers)
    windows = _windows(window_s, burn_tiers)
    min_per_hour = _min_events(spec, slo)
    rules: list[RecordingRule | AlertingRule] = []
    alert_windows = {w for t in burn_tiers for w in (t.long_s, t.short_s)}
    coarse = tuple(w for w in windows if uses_coarse_average(w, window_s, alert_windows))
    burn_windows = tuple(w for w in windows if w in alert_windows or w == BASE_WINDOW)
    rules += _slo_rules(ctx, slo, ids, sli, windows, group_by, error_budget, coarse, burn_windows)
    exhausted = exhausted_alert_enabled(spec, slo, conventions) and (page.enabled or ticket.enabled)
    rules += _slo_alerts(ctx, slo, ids, sli, tiers, group_by, min_per_hour, page, ticket, index, exhausted)
    return SLOPlan(
        service=spec.service, name=slo.name, description=slo.description, objective=objective,
        error_budget=error_budget, window=slo.window, window_s=window_s, sli=sli, group_by=group_by,
        windows=tuple(format_duration(w) for w in windows), tiers=tiers, min_events_per_hour=min_per_hour,
        coarse_windows=tuple(format_duration(w) for w in coarse),
        burn_windows=tuple(format_duration(w) for w in burn_windows),
        page=page, ticket=ticket, dashboard_url=ctx.dashboard_url,
        rule_group=RuleGroup(N.slo_group(spec.service, slo.name), tuple(rules)), recorded_labels=ids.extra,
        sloth_group=_sloth_group(ctx, slo, ids, windows, error_budget), exhausted_alert=exhausted,
    )


# -- budgets ----------------------------------------------------------------


def _budget_windows(window_s: int) -> tuple[int, int]:
    long_s = max(BUDGET_MIN_LONG, (window_s // BUDGET_LONG_FRACTION) // 60 * 60)
    short_s = max(BUDGET_MIN_SHORT, (long_s // BUDGET_SHORT_FRACTION) // 60 * 60)
    return long_s, short_s


def _budget_severity(spec: ServiceSpec, settings: Settings) -> str:
    """Budget alerts are tickets, in the file's (else the project's) words for tickets."""
    values = spec.alerting.severity_values if spec.alerting is not None else None
    values = values or settings.severity_values
    return values.ticket if values is not None else N.SEVERITY_TICKET


def plan_budget(ctx: _Context, budget: Budget) -> tuple[BudgetPlan, list[RecordingRule | AlertingRule]]:
    spec = ctx.spec
    window_s = duration_seconds(budget.window)
    window = format_duration(window_s)
    long_s, short_s = _budget_windows(window_s)
    by = tuple(budget.by)
    query = ctx.selector(budget.metric, budget.match)
    ids = budget_identity(spec.service, budget.name)
    series, id_labels = ids.series, ids.labels

    base = format_duration(BASE_WINDOW)
    raw_windows = sorted({BASE_WINDOW, short_s, long_s, REGRESSION_WINDOW if budget.regression else BASE_WINDOW})
    rules: list[RecordingRule | AlertingRule] = []
    for w in [w for w in raw_windows if uses_raw_counters(w)]:
        rules.append(RecordingRule(N.budget_usage_rate(format_duration(w)),
                                   sum_rate(query, format_duration(w), by), id_labels))
    for w in sorted({w for w in (*raw_windows, window_s) if not uses_raw_counters(w)}):
        rules.append(RecordingRule(N.budget_usage_rate(format_duration(w)),
                                   f"avg_over_time({series(N.budget_usage_rate(base))}[{format_duration(w)}])",
                                   id_labels))
    limit = _dec(budget.limit)
    long_w, short_w = format_duration(long_s), format_duration(short_s)
    rules += [
        RecordingRule(N.BUDGET_LIMIT, f"vector({number(limit)})", id_labels),
        RecordingRule(N.BUDGET_USED_WINDOW, f"{series(N.budget_usage_rate(window))} * {window_s}", id_labels),
        RecordingRule(N.BUDGET_PROJECTED, f"{series(N.budget_usage_rate(long_w))} * {window_s}", id_labels),
        RecordingRule(N.BUDGET_REMAINING, f"1 - {series(N.BUDGET_USED_WINDOW)} / {number(limit)}", id_labels),
    ]
    runbook = ctx.runbook(f"budget-{budget.name}")
    route_model = budget.alerting or Route()
    route = RoutePlan(route_model.enabled, route_model.runbook_url or runbook, labels_of(route_model.labels),
                      labels_of(route_model.annotations))
    base, suffix = resolve_series(budget.metric, ctx.catalog)
    # x_sum adds up the observed values (in the metric's unit), x_count the observations.
    unit = "observations" if suffix == "_count" else ctx.catalog.metrics[base].unit if base is not None else ""
    what = f"{spec.service}/{budget.name}" + "".join(f" {g}={{{{ $labels.{g} }}}}" for g in by)
    base_labels = {**ctx.settings.labels, **dict(spec.labels), **dict(route.labels), N.LABEL_SERVICE: spec.service,
                   N.LABEL_BUDGET: budget.name, N.LABEL_SEVERITY: _budget_severity(spec, ctx.settings), **_team(spec)}
    links = {"runbook_url": go_template_literal(route.runbook_url), "dashboard": go_template_literal(ctx.dashboard_url)}
    regression_events: str | None = None
    if route.enabled:
        rules.append(AlertingRule(
            N.ALERT_BUDGET_OVERRUN,
            f"{series(N.budget_usage_rate(long_w))} * {window_s} > {number(limit)}\n"
            f"and\n{series(N.budget_usage_rate(short_w))} * {window_s} > {number(limit)}",
            _alert_labels(base_labels),
            _annotations({
                       "summary": f"Budget {spec.service}/{budget.name} is projected to overrun.",
                       "description": (f"At the rate of the last {long_w}, {what} would use "
                                       f"{{{{ $value | humanize }}}} {unit} per {window}, over its limit of "
                                       f"{number(limit)} {unit}; the last {short_w} agrees."),
                       **links}, route)))
        rules.append(AlertingRule(
            N.ALERT_BUDGET_EXHAUSTED,
            f"{series(N.BUDGET_USED_WINDOW)} > {number(limit)}",
            _alert_labels(base_labels),
            _annotations({
                "summary": f"Budget {spec.service}/{budget.name} is exhausted.",
                "description": (f"{what} used {{{{ $value | humanize }}}} {unit} over the last {window}, over its "
                                f"limit of {number(limit)} {unit}. It stays firing until enough of that use ages out "
                                f"of the {window} window, whether or not the spending goes on."),
                **links}, route), kind=N.ALERT_BUDGET_EXHAUSTED))
    reg = budget.regression
    if reg is not None:
        per = ctx.selector(reg.per.metric, reg.per.match)
        regression_events = per.render()
        rw = format_duration(REGRESSION_WINDOW)
        rules += [
            RecordingRule(N.budget_events_rate(rw), sum_rate(per, rw, by), id_labels),
            RecordingRule(N.budget_cost_per_event(rw),
                          f"{series(N.budget_usage_rate(rw))}\n/\n({series(N.budget_events_rate(rw))} > 0)",
                          id_labels),
        ]
        if route.enabled:
            factor = number(_dec(reg.factor))
            rules.append(AlertingRule(
                N.ALERT_COST_REGRESSION,
                f"{series(N.budget_cost_per_event(rw))}\n>\n{factor} * {series(N.budget_cost_per_event(rw))} "
                f"offset {reg.offset}\nand\n{series(N.budget_events_rate(rw))} * 3600 >= "
                f"{number(_dec(reg.min_events_per_hour))}",
                _alert_labels(base_labels),
                _annotations({
                           "summary": f"Cost per event of {spec.service}/{budget.name} regressed.",
                           # printf, not humanize: 0.0014 USD must not read as "1.4m usd".
                           "description": (f"{what}: {budget.metric} per {reg.per.metric} over the last {rw} is "
                                           f"{{{{ $value | printf \"%.4g\" }}}} {unit}, more than {factor}x its value "
                                           f"{reg.offset} earlier. A prompt, model or routing change is the usual "
                                           "cause."),
                           **links}, route),
                COST_REGRESSION_FOR))
    plan = BudgetPlan(
        service=spec.service, name=budget.name, description=budget.description, metric=budget.metric, unit=unit,
        query=query.render(), limit=limit, window=window, window_s=window_s, by=by, long_window=long_w,
        short_window=short_w, regression_factor=_dec(reg.factor) if reg else None,
        regression_offset=reg.offset if reg else None, regression_events_query=regression_events,
        regression_min_events_per_hour=_dec(reg.min_events_per_hour) if reg else None, route=route,
        dashboard_url=ctx.dashboard_url,
    )
    return plan, rules


# -- services ---------------------------------------------------------------


def _grafana_url(spec: ServiceSpec, settings: Settings) -> str:
    """The spec's own grafana_url, else the project's, else the default."""
    if "grafana_url" in spec.model_fields_set or not settings.grafana_url:
        return spec.grafana_url
    return settings.grafana_url


def plan_service(spec: ServiceSpec, source: str, catalog: Catalog, catalog_source: str,
                 settings: Settings = NO_SETTINGS) -> ServicePlan:
    uid = N.service_dashboard_uid(spec.service)
    grafana_url = _grafana_url(spec, settings)
    url = N.dashboard_url(grafana_url, uid)
    ctx = _Context(spec, catalog, url, settings)
    slos = tuple(plan_slo(ctx, slo, i) for i, slo in enumerate(spec.slos))
    budgets: list[BudgetPlan] = []
    budget_rules: list[RecordingRule | AlertingRule] = []
    for b in spec.budgets:
        plan, rules = plan_budget(ctx, b)
        budgets.append(plan)
        budget_rules += rules
    groups = [s.rule_group for s in slos]
    if budget_rules:
        groups.append(RuleGroup(N.budget_group(spec.service), tuple(budget_rules)))
    scope = tuple(sorted((k, tuple(sorted(_values(v)))) for k, v in spec.scope.items()))
    return ServicePlan(
        service=spec.service, description=spec.description, owner=spec.owner or UNOWNED, labels=labels_of(spec.labels),
        scope=scope, source=source, catalog_source=catalog_source, grafana_url=grafana_url,
        dashboard_uid=uid, dashboard_url=url, slos=slos, budgets=tuple(budgets), rule_groups=tuple(groups),
        team=spec.owner,
    )


def _posix(path: str) -> str:
    return str(PurePosixPath(*path.replace("\\", "/").split("/")))


def _source_name(path: str, settings: Settings) -> str:
    """How outputs name a source file: relative to the project root (slokit.yaml's directory) when there
    is one, so the outputs are the same from whichever directory slokit runs; else as given."""
    if settings.root is not None:
        try:
            return _posix(str(Path(path).resolve().relative_to(settings.root)))
        except ValueError:
            pass
    return _posix(path)


def build_plan(project: "Project") -> ProjectPlan:
    settings = project.settings
    catalog_source = _source_name(project.catalog_source.path, settings)
    services = tuple(plan_service(s.spec, _source_name(s.source.path, settings), project.catalog, catalog_source,
                                  settings)
                     for s in sorted(project.services, key=lambda s: s.spec.service))
    rulers = RulerOptions(tuple(settings.mimir.source_tenants), settings.thanos.partial_response_strategy)
    return ProjectPlan(project.catalog, catalog_source, services, rulers)

