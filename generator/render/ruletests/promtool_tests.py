"""Generated promtool unit tests: alerts/tests/<service>.test.yaml (and .budgets.test.yaml).

For every SLO the generator builds synthetic raw series that its selectors
select (catalog metrics with catalog label values), runs a few scenarios
through them and asserts what the rules must record and which alerts must
fire, with their exact labels and annotations:

- a timeline: a healthy stretch, a one-minute blip that must not page, a full
  outage (the page fires; for group_by SLOs only in the broken group) and the
  recovery (pages resolve within their short window);
- a slow burn from the start: ticket alerts, no page; spend budgets running
  over their projection;
- low traffic under the SLO's min_events_per_hour: burning, but silent;
- SLOs erring just under their error budget, then over it, and budgets
  spending under their pace, then over it: the exhausted signal and alerts
  stay 0/silent while under, and turn 1/firing once over;
- zero traffic (ratios are 0, never NaN) and then no data at all (SLONoData);
- budgets with a regression alert get a second file with a week of input
  (cost per event above its value a week earlier), evaluated every 30m.

Expected values come from slokit.render.ruletests.prometheus_model, a model of Prometheus'
evaluation that reads the plan, not the PromQL.
"""

from __future__ import annotations

import itertools
import re
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from slokit import naming as N
from slokit.cache import digest as cache_digest
from slokit.model import Catalog, duration_seconds, resolve_series
from slokit.plan import BudgetPlan, ProjectPlan, ServicePlan, SLOPlan
from slokit.promql import number, regex_escape
from slokit.render.common import dump_yaml, yaml_header
from slokit.render.ruletests.prometheus_model import (
    PROMETHEUS_2,
    Alert,
    AmbiguousComparison,
    Semantics,
    Sel,
    Series,
    ServiceModel,
    Snapshot,
    counter_values,
    parse_selector,
    rate_selector,
    round_to,
    values_text,
)
from slokit.windows import format_duration

if TYPE_CHECKING:
    from slokit.cache import Cache

MINUTE = 60
STEP = MINUTE  # input series interval and evaluation interval of the main file
BUDGET_STEP = 15 * MINUTE  # input interval of the week-long budget file ...
BUDGET_EVAL_STEP = 30 * MINUTE  # ... evaluated every 30m, so a week costs 340 evaluations
ROUND_TO = 0.000001
TRAFFIC = 600.0  # events per minute per group: 10/s
HISTORY = 120  # minutes of healthy traffic before the blip
MAX_OUTAGE = 90  # minutes
SAMPLE_CAP = 20000  # label combinations tried per synthetic series


# --------------------------------------------------------------------------
# Synthetic series
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupSeries:
    """The series of one group_by value set of an SLO (or budget)."""

    group: tuple[tuple[str, str], ...]
    events: tuple[str, tuple[tuple[str, str], ...]]  # metric, labels
    other: tuple[str, tuple[tuple[str, str], ...]] | None  # total (separate) or the rest (complement)
    complement: bool = False  # the events series is counted in the total too; `other` holds the rest


@dataclass(frozen=True)
class SLOInput:
    slo: SLOPlan
    events_sel: Sel
    total_sel: Sel
    groups: tuple[GroupSeries, ...]


@dataclass(frozen=True)
class BudgetInput:
    budget: BudgetPlan
    groups: tuple[GroupSeries, ...]  # events = usage series; other = regression `per` series (or None)


class _Allocator:
    """Picks label values for synthetic series: catalog values that satisfy the selectors.

    Each series gets every label its catalog metric carries, so a label that
    leaked from raw series into a recording rule would show in the results.
    Series of different SLOs avoid each other's selectors when they can, and
    never share an identity.
    """

    def __init__(self, catalog: Catalog, avoid: list[Sel]):
        self.catalog = catalog
        self.avoid = avoid
        self.taken: set[tuple[str, tuple[tuple[str, str], ...]]] = set()

    def base(self, metric: str) -> tuple[str, str]:
        name, suffix = resolve_series(metric, self.catalog)
        return (name or metric), suffix

    def label_names(self, metric: str) -> list[str]:
        base, _ = self.base(metric)
        m = self.catalog.metrics.get(base)
        return list(m.labels) if m is not None else []

    def candidates(self, label: str, sels: list[Sel], absent: bool = False) -> list[str]:
        out: list[str] = []
        ldef = self.catalog.labels.get(label)
        if ldef is not None and ldef.values is not None:
            out += ldef.values
        else:
            out += [f"{label}-1", f"{label}-2"]
        for sel in sels:
            for name, op, value in sel.matchers:
                if name != label:
                    continue
                if op in ("=", "!="):
                    out.append(value)
                elif all(c.isalnum() or c in "_-|" for c in value):
                    out += value.split("|")
                else:
                    out += _regex_examples(value)
        out = [v for v in dict.fromkeys(out) if v]
        if absent and any(name == label and op != "=" for sel in sels for name, op, _ in sel.matchers):
            out.append("")  # the label absent, as `error_type=~".+"` leaves a success series
        return out

    def find(self, metric: str, must: list[Sel], must_not: list[Sel], fixed: dict[str, str],
             extra_names: tuple[str, ...] = ()) -> tuple[tuple[str, str], ...] | None:
        """Labels for a series of `metric` selected by every `must` and by no `must_not` selector;
        a label left out of the series only when no series with every label fits."""
        return (self._find(metric, must, must_not, fixed, extra_names, False)
                or self._find(metric, must, must_not, fixed, extra_names, True))

    def _find(self, metric: str, must: list[Sel], must_not: list[Sel], fixed: dict[str, str],
              extra_names: tuple[str, ...], absent: bool) -> tuple[tuple[str, str], ...] | None:
        names = sorted(set(self.label_names(metric)) | set(fixed) | set(extra_names))
        relevant = [s for s in must + must_not + self.avoid if s.metric == metric]
        choices = []
        for name in names:
            if name in fixed:
                choices.append([fixed[name]])
                continue
            # Every candidate stays possible (a first choice may be taken by another SLO's series);
            # the product is enumerated in order, so the first catalog value wins when it can.
            choices.append(self.candidates(name, relevant, absent))
        best, best_score = None, None
        for combo in itertools.islice(itertools.product(*choices), SAMPLE_CAP):
            labels = {k: v for k, v in zip(names, combo) if v}  # an empty value is an absent label
            if (metric, tuple(sorted(labels.items()))) in self.taken:
                continue
            if not all(s.matches(metric, labels) for s in must):
                continue
            if any(s.matches(metric, labels) for s in must_not):
                continue
            score = sum(s.matches(metric, labels) for s in self.avoid)
            if best_score is None or score < best_score:
                best, best_score = labels, score
                if score == 0:
                    break
        if best is None:
            return None
        return tuple(sorted(best.items()))

    def claim(self, metric: str, labels: tuple[tuple[str, str], ...]) -> None:
        self.taken.add((metric, labels))

    def group_values(self, by: tuple[str, ...], sels: list[Sel]) -> list[dict[str, str]]:
        per_label = [self.candidates(g, sels) for g in by]
        return [dict(zip(by, combo)) for combo in itertools.islice(itertools.product(*per_label), 200)]


def _regex_examples(regex: str) -> list[str]:
    """Guesses at values a user's regex matches (`a\\.b|c` -> a.b, c; `5..` -> 500): only candidates,
    each is checked against the regex itself before a series uses it."""
    out = []
    for alternative in regex.split("|"):
        text, i, ok = [], 0, True
        alternative = alternative.removeprefix("^").removesuffix("$")
        while i < len(alternative) and ok:
            c = alternative[i]
            if c == "\\" and i + 1 < len(alternative):
                text.append(alternative[i + 1])  # an escaped character stands for itself
                i += 2
                continue
            if c == "." and alternative[i + 1:i + 2] in ("*", "+"):
                text.append("x")
                i += 2
                continue
            ok = c not in "[](){}?*+"
            text.append("0" if c == "." else c)
            i += 1
        if ok and text:
            out.append("".join(text))
    return out


def _slo_selectors(slo: SLOPlan) -> tuple[Sel, Sel] | None:
    if slo.sli.kind == "raw":
        events, total = rate_selector(slo.sli.events_query), rate_selector(slo.sli.total_query)
        if events is None or total is None:
            return None
        return events, total
    return parse_selector(slo.sli.events_query), parse_selector(slo.sli.total_query)


def _threshold_bound(slo: SLOPlan) -> str:
    assert slo.sli.threshold is not None
    return slo.sli.threshold.split()[-1]


def _allocate_slo(alloc: _Allocator, slo: SLOPlan, events: Sel, total: Sel,
                  semantics: Semantics = PROMETHEUS_2) -> SLOInput | None:
    groups: list[GroupSeries] = []
    group_sets = alloc.group_values(slo.group_by, [events, total]) if slo.group_by else [{}]
    for fixed in group_sets:
        if len(groups) == (2 if slo.group_by else 1):
            break
        gs = _allocate_group(alloc, slo, events, total, fixed, semantics)
        if gs is None:
            continue
        groups.append(gs)
        alloc.claim(*gs.events)
        if gs.other is not None:
            alloc.claim(*gs.other)
    if not groups:
        return None
    return SLOInput(slo, events, total, tuple(groups))


def _allocate_group(alloc: _Allocator, slo: SLOPlan, events: Sel, total: Sel,
                    fixed: dict[str, str], semantics: Semantics = PROMETHEUS_2) -> GroupSeries | None:
    group = tuple((g, fixed[g]) for g in slo.group_by)
    if slo.sli.kind == "threshold":
        # One histogram: _bucket{le=bound} counts observations <= bound, _count all of them.
        bucket_base = Sel(total.metric, tuple(m for m in events.matchers if m[0] != "le"))
        labels = alloc.find(total.metric, [total, Sel(total.metric, bucket_base.matchers)], [], fixed)
        if labels is None:
            return None
        # The bound as the Prometheus under test stores a scraped one (3 writes le="1" as "1.0").
        bucket = tuple(sorted(dict(labels, le=semantics.le(_threshold_bound(slo))).items()))
        if not events.matches(events.metric, dict(bucket)):
            return None
        return GroupSeries(group, (events.metric, bucket), (total.metric, labels))
    if events.metric == total.metric:
        both = alloc.find(events.metric, [events, total], [], fixed)
        if both is not None:
            alloc.claim(events.metric, both)
            rest = alloc.find(total.metric, [total], [events], fixed)
            alloc.taken.discard((events.metric, both))
            if rest is not None:
                return GroupSeries(group, (events.metric, both), (total.metric, rest), complement=True)
    ev = alloc.find(events.metric, [events], [total] if events.metric == total.metric else [], fixed)
    if ev is None:
        return None
    alloc.claim(events.metric, ev)
    tot = alloc.find(total.metric, [total], [events] if events.metric == total.metric else [], fixed)
    alloc.taken.discard((events.metric, ev))
    if tot is None:
        return None
    return GroupSeries(group, (events.metric, ev), (total.metric, tot))


def _allocate_budget(alloc: _Allocator, b: BudgetPlan) -> BudgetInput | None:
    usage = parse_selector(b.query)
    per = parse_selector(b.regression_events_query) if b.regression_events_query else None
    groups = []
    for fixed in (alloc.group_values(b.by, [usage] + ([per] if per else [])) if b.by else [{}]):
        if len(groups) == (2 if b.by else 1):
            break
        u = alloc.find(usage.metric, [usage], [], fixed)
        if u is None:
            continue
        alloc.claim(usage.metric, u)
        p = None
        if per is not None:
            p = alloc.find(per.metric, [per], [], fixed)
            if p is None:
                alloc.taken.discard((usage.metric, u))
                continue
            alloc.claim(per.metric, p)
        groups.append(GroupSeries(tuple((g, fixed[g]) for g in b.by), (usage.metric, u),
                                  (per.metric, p) if per is not None and p is not None else None))
    return BudgetInput(b, tuple(groups)) if groups else None


@dataclass
class Inputs:
    slos: list[SLOInput]
    unsupported: list[SLOPlan]
    budgets: list[BudgetInput]
    semantics: Semantics = PROMETHEUS_2  # whose evaluation the expectations follow


def allocate(service: ServicePlan, catalog: Catalog, semantics: Semantics = PROMETHEUS_2) -> Inputs:
    selectors: dict[str, tuple[Sel, Sel] | None] = {s.name: _slo_selectors(s) for s in service.slos}
    avoid = [x for pair in selectors.values() if pair for x in pair]
    avoid += [parse_selector(b.query) for b in service.budgets]
    alloc = _Allocator(catalog, avoid)
    slos, unsupported = [], []
    for slo in service.slos:
        pair = selectors[slo.name]
        found = None
        if pair is not None:
            alloc.avoid = [x for x in avoid if x not in pair]
            found = _allocate_slo(alloc, slo, *pair, semantics)
        (slos.append(found) if found is not None else unsupported.append(slo))
    alloc.avoid = avoid
    budgets = [x for x in (_allocate_budget(alloc, b) for b in service.budgets) if x is not None]
    return Inputs(slos, unsupported, budgets, semantics)


# --------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------

# An error-ratio profile: minute -> (events per minute, error ratio); None after the series end.
Profile = Callable[[int], tuple[float, float] | None]


def _series_for(inp: SLOInput, group_index: int, profile: Profile, minutes: int,
                present_events: bool = True) -> list[Series]:
    gs = inp.groups[group_index]
    ev_inc, other_inc = [], []
    end = minutes
    for k in range(minutes):
        p = profile(k)
        if p is None:
            end = k
            break
        n, rho = _quantum(p[0]), p[1]
        bad = _quantum(n * rho)
        events = bad if inp.slo.sli.events == "bad" else n - bad
        ev_inc.append(events)
        other_inc.append(n - events if gs.complement else n)
    out = []
    if present_events:
        out.append(Series(gs.events[0], gs.events[1], counter_values(ev_inc)))
    if gs.other is not None:
        out.append(Series(gs.other[0], gs.other[1], counter_values(other_inc)))
    del end
    return out


def _quantum(x: float) -> float:
    """x rounded to a short binary fraction (1/64 or 1/1024 within 1%, else 12 significant bits).

    Counters then add up exactly in binary floats: the series read cleanly
    and promtool's cumulative expansion reproduces them bit for bit.
    """
    for quantum in (64, 1024):
        q = round(x * quantum) / quantum
        if x == 0 or (q != 0 and abs(q - x) <= 0.01 * abs(x)):
            return q
    return _bits(x)


def _bits(x: float) -> float:
    """x rounded to 12 significant bits.

    Sums of a few dozen such steps stay exact too, and unlike multiples of
    1/1024 (each 976.5625 millionths) they seldom land on round(v, 0.000001)'s
    half-way points: an odd multiple of 1/128 is one (7812.5 millionths).
    """
    if x == 0:
        return 0.0
    exponent = math.frexp(x)[1]
    return math.ldexp(round(math.ldexp(x, 12 - exponent)), exponent - 12)


@dataclass
class Check:
    """One assertion point of a scenario."""

    minute: int
    alertnames: tuple[str, ...]
    records: tuple[str, ...] = ()  # recorded series to assert by value (all SLOs of the input)
    extra_exprs: tuple[tuple[str, list], ...] = ()  # (expr, expected samples)
    # (alert name, kind, labels): the firing ALERTS series of that alert whose labels include these
    alert_filters: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = ()


@dataclass
class Scenario:
    name: str
    series: list[Series]
    checks: list[Check]
    minutes: int
    step: int = STEP
    eval_step: int = STEP
    slos: bool = True
    budgets: bool = True


def _budget(slo: SLOPlan) -> float:
    return float(number(slo.error_budget))


def _page_tiers(slo: SLOPlan):
    return [t for t in slo.tiers if t.enabled and t.severity == N.SEVERITY_PAGE]


def _ticket_tiers(slo: SLOPlan):
    return [t for t in slo.tiers if t.enabled and t.severity == N.SEVERITY_TICKET]


def _healthy_ratio(slo: SLOPlan, share: float) -> float:
    factors = [float(t.burn_factor) for t in slo.tiers] or [1.0]
    return _budget(slo) * min(share, min(factors) * share)


def _blip_ratio(slo: SLOPlan) -> float:
    """One minute that spends half a percent of the SLO's budget (20% errors for 99.9%/30d), at most 100%."""
    return min(1.0, 0.005 * _budget(slo) * slo.window_s / MINUTE)


def _outage_minutes(inputs: Inputs) -> int:
    """Long enough for every SLO's fastest alert of its highest enabled severity to fire on full windows."""
    need = 5
    for inp in inputs.slos:
        tiers = _page_tiers(inp.slo) or _ticket_tiers(inp.slo)
        if not tiers:
            continue
        fastest = min(t.detection_seconds(1.0) or math.inf for t in tiers)
        if math.isfinite(fastest):
            need = max(need, math.ceil(fastest / MINUTE) + 3)
    return min(need, MAX_OUTAGE)


def _recovery_minutes(inputs: Inputs) -> int:
    shorts = [t.tier.short_s for inp in inputs.slos for t in _page_tiers(inp.slo)]
    return max(8, math.ceil(max(shorts, default=0) / MINUTE) + 3)


def _budget_series(inputs: Inputs, minutes: int, rate_of: Callable[[BudgetInput, int], float],
                   step_minutes: int = 1, with_per: bool = False,
                   per_rate: Callable[[BudgetInput, int, int], float] | None = None) -> list[Series]:
    out = []
    for bi in inputs.budgets:
        for gi, gs in enumerate(bi.groups):
            per_min = rate_of(bi, gi)
            out.append(Series(gs.events[0], gs.events[1],
                              counter_values([_quantum(per_min * step_minutes)] * (minutes // step_minutes))))
            if with_per and gs.other is not None and per_rate is not None:
                out.append(Series(gs.other[0], gs.other[1],
                                  counter_values([per_rate(bi, gi, k) for k in range(minutes // step_minutes)])))
    return out


def timeline(inputs: Inputs, traffic: float, share: float) -> Scenario:
    outage = _outage_minutes(inputs)
    blip, start = HISTORY, HISTORY + 20
    end_outage = start + outage
    minutes = end_outage + _recovery_minutes(inputs)

    series: list[Series] = []
    for inp in inputs.slos:
        healthy = _healthy_ratio(inp.slo, share)
        blip_rho = _blip_ratio(inp.slo)

        def broken(k: int, healthy=healthy, blip_rho=blip_rho) -> tuple[float, float]:
            if k == blip:
                return traffic, blip_rho
            if start <= k < end_outage:
                return traffic, 1.0
            return traffic, healthy

        series += _series_for(inp, 0, broken, minutes)
        for gi in range(1, len(inp.groups)):
            series += _series_for(inp, gi, lambda k, h=healthy: (traffic, h), minutes)
    series += _budget_series(inputs, minutes, lambda bi, gi: _quiet_spend(bi.budget))
    values = (N.slo_error_ratio("5m"), N.slo_burn_rate("5m"), N.SLO_BUDGET_REMAINING, N.SLO_BUDGET_EXHAUSTED)
    checks = [
        Check(HISTORY, (N.ALERT_BURN, N.ALERT_NO_DATA, N.ALERT_SLO_EXHAUSTED), values),
        Check(blip + 3, (N.ALERT_BURN,), (N.slo_burn_rate("5m"),)),
        Check(end_outage, (N.ALERT_BURN, N.ALERT_NO_DATA, N.ALERT_SLO_EXHAUSTED),
              (N.slo_error_ratio("5m"), N.SLO_BUDGET_EXHAUSTED)),
        Check(minutes, (N.ALERT_BURN,)),
    ]
    name = (f"healthy for {HISTORY}m, a 1-minute blip at {HISTORY}m (no page), a full outage from {start}m to "
            f"{end_outage}m in the first group (pages fire), recovery (pages resolve)")
    return Scenario(name, series, checks, minutes)


def _between(low: float, high: float) -> float:
    return math.sqrt(low * high) if low > 0 else high / 2


def _slow_ratio(slo: SLOPlan) -> float | None:
    """An error ratio above the slowest ticket threshold and below every page threshold, if there is one."""
    tickets = [float(t.error_ratio_threshold) for t in _ticket_tiers(slo)]
    pages = [float(t.error_ratio_threshold) for t in slo.tiers if t.severity == N.SEVERITY_PAGE]
    if not tickets:
        return None
    top = min(pages + [1.0])
    above = [t for t in tickets if t < top]
    if not above:
        return None
    return _between(max(above), top) if max(above) < top else None


def slow_burn(inputs: Inputs, traffic: float, over: float = 7.3) -> Scenario:
    minutes = 20
    series: list[Series] = []
    for inp in inputs.slos:
        rho = _slow_ratio(inp.slo)
        rho = rho if rho is not None else _healthy_ratio(inp.slo, 0.25)
        series += _series_for(inp, 0, lambda k, r=rho: (traffic, r), minutes + 1)
        for gi in range(1, len(inp.groups)):
            h = _healthy_ratio(inp.slo, 0.25)
            series += _series_for(inp, gi, lambda k, h=h: (traffic, h), minutes + 1)
    series += _budget_series(inputs, minutes + 1,
                             lambda bi, gi: _over_spend(bi.budget, over) if gi == 0 else _quiet_spend(bi.budget))
    checks = [Check(minutes, (N.ALERT_BURN, N.ALERT_BUDGET_OVERRUN, N.ALERT_BUDGET_EXHAUSTED),
                    (N.slo_burn_rate("5m"), N.BUDGET_PROJECTED))]
    return Scenario("a slow burn from the start: ticket alerts fire, pages stay silent; the first group of each "
                    f"budget spends {over}x its projection", series, checks, minutes)


def _quiet_spend(b: BudgetPlan) -> float:
    """Per minute, under a quarter of what the budget allows."""
    return float(b.limit) / (b.window_s / MINUTE) * 0.23


def _over_spend(b: BudgetPlan, over: float = 7.3) -> float:
    return float(b.limit) / (b.window_s / MINUTE) * over  # not a round multiple: no window lands on the limit


# The slow burn's overspend (multiples of the even pace), one per input variant: the projection it asserts
# moves with it off a rounding tie.
SLOW_OVER = (7.3, 6.9, 7.7, 7.1)


# Shares of a budget's even pace (limit / window) spent per minute in the exhaustion scenario: under the limit
# for its first half, then over it, so what has been used crosses the limit in its second half. The later
# pairs are the alternatives tried when a printed value lands on a rounding tie.
EXHAUST_PACES = ((0.85, 1.6), (0.8, 1.5), (0.9, 1.7), (0.75, 1.45))
EXHAUST_HALF = 40


# The same for SLOs, as error ratios relative to the error budget: 0.93 leaves 7% of the budget at the first
# check and 1.17 overspends it by about 4% at the second: close to 0 on both sides, so a moved threshold shows.
SLO_EXHAUST_UNDER, SLO_EXHAUST_OVER = 0.93, 1.17


def slo_exhaustion(inputs: Inputs, traffic: float) -> Scenario | None:
    """The first group of each SLO errs at 0.93x its error budget for 40m, then 1.6x: the error budget left
    stays above 0 (slo:error_budget_exhausted:bool 0, SLOErrorBudgetExhausted silent), then goes below."""
    if not inputs.slos:
        return None
    minutes = 2 * EXHAUST_HALF
    series: list[Series] = []
    for inp in inputs.slos:
        b = _budget(inp.slo)
        profile: Profile = lambda k, b=b: (traffic, b * (SLO_EXHAUST_UNDER if k < EXHAUST_HALF else SLO_EXHAUST_OVER))
        series += _series_for(inp, 0, profile, minutes + 1)
        for gi in range(1, len(inp.groups)):
            series += _series_for(inp, gi, lambda k, h=_healthy_ratio(inp.slo, 0.25): (traffic, h), minutes + 1)
    # The flag only: the budget left near 0 is a short binary fraction that can sit on round()'s half-way point.
    records = (N.SLO_BUDGET_EXHAUSTED,)
    checks = [Check(EXHAUST_HALF, (N.ALERT_SLO_EXHAUSTED,), records),
              Check(minutes, (N.ALERT_SLO_EXHAUSTED,), records)]
    return Scenario(f"the first group of each SLO errs at {SLO_EXHAUST_UNDER}x its error budget for {EXHAUST_HALF}m "
                    f"(budget left above 0: not exhausted), then {SLO_EXHAUST_OVER}x (spent: exhausted)",
                    series, checks, minutes, slos=True, budgets=False)


def budget_exhaustion(inputs: Inputs, paces: tuple[float, float] = EXHAUST_PACES[0]) -> list[Scenario]:
    """Per budget (alone, since budgets of one metric read each other's series): its first `by` group spends
    0.85x its pace, then 1.6x; SLOBudgetExhausted stays silent while what was used is under the limit and
    fires once it is over; other groups spend a quarter of their pace and stay silent."""
    under, over = paces
    minutes = 2 * EXHAUST_HALF
    out = []
    for bi in inputs.budgets:
        if not bi.budget.route.enabled:
            continue
        pace = float(bi.budget.limit) / (bi.budget.window_s / MINUTE)
        series: list[Series] = []
        for gi, gs in enumerate(bi.groups):
            if gi == 0:
                steps = [_bits(pace * (under if k < EXHAUST_HALF else over)) for k in range(minutes + 1)]
            else:
                steps = [_bits(_quiet_spend(bi.budget))] * (minutes + 1)
            series.append(Series(gs.events[0], gs.events[1], counter_values(steps)))
        checks = [Check(EXHAUST_HALF, (N.ALERT_BUDGET_EXHAUSTED,), (N.BUDGET_USED_WINDOW,)),
                  Check(minutes, (N.ALERT_BUDGET_EXHAUSTED,), (N.BUDGET_USED_WINDOW,))]
        out.append(Scenario(f"budget {bi.budget.name}: its first group spends {under}x its pace for "
                            f"{EXHAUST_HALF}m (used under the limit: SLOBudgetExhausted silent), then {over}x "
                            "(used over it: fires)", series, checks, minutes, slos=False, budgets=True))
    return out


def _guarded(inputs: Inputs) -> list[SLOInput]:
    return [inp for inp in inputs.slos if inp.slo.min_events_per_hour]


def _errors_at_guard(inputs: Inputs, per_minute: Callable[[float], float], minutes: int) -> list[Series]:
    """100% errors for every guarded SLO at `per_minute(min_events_per_hour)` events a minute; the other SLOs
    get no traffic at all, so an SLO sharing a metric with a guarded one does not lift its traffic."""
    series: list[Series] = []
    for inp in inputs.slos:
        if inp.slo.min_events_per_hour:
            n = per_minute(float(inp.slo.min_events_per_hour))
            profile: Profile = lambda k, n=n: (n, 1.0)
        else:
            profile = lambda k: (0.0, 0.0)
        for gi in range(len(inp.groups)):
            series += _series_for(inp, gi, profile, minutes + 1)
    return series


# How far under min_events_per_hour the low-traffic scenario runs, one per input variant (the burn rate it
# asserts moves with it off a rounding tie).
LOW_TRAFFIC_UNDER = (47, 43, 53, 41)


def low_traffic(inputs: Inputs, under: float = LOW_TRAFFIC_UNDER[0]) -> Scenario | None:
    guarded = _guarded(inputs)
    if not guarded:
        return None
    minutes = 15
    # Far under the guard: SLOs sharing a metric see each other's series too.
    series = _errors_at_guard(inputs, lambda guard: guard / 60 / under, minutes)
    checks = [Check(minutes, (N.ALERT_BURN,), (N.slo_burn_rate("5m"),))]
    names = ", ".join(inp.slo.name for inp in guarded)
    return Scenario(f"100% errors below min_events_per_hour ({names}), other SLOs idle: burning, but no alert",
                    series, checks, minutes)


# Traffic as a multiple of min_events_per_hour, around the guard; the later pairs are the alternatives tried
# when the total rate asserted lands on a rounding tie (any pair within 0.5x-2x tells a guard doubled or halved).
GUARD_FACTORS = ((0.8, 1.25), (0.78, 1.22), (0.83, 1.28), (0.76, 1.3))
GUARD_MINUTES = 75  # the page tier's 1h window is full of the steady traffic by then


def guard_edges(inputs: Inputs, factors: tuple[float, float] = GUARD_FACTORS[0]) -> list[Scenario]:
    """100% errors at traffic just under, then (a second scenario) just over each min_events_per_hour:
    silent, then paging, so a guard moved either way changes what the tests see (far under is low_traffic)."""
    guarded = _guarded(inputs)
    names = ", ".join(inp.slo.name for inp in guarded)
    checks = [Check(GUARD_MINUTES, (N.ALERT_BURN,), (N.slo_total_rate("1h"),))]
    return [Scenario(f"100% errors at {factor}x min_events_per_hour ({names}), other SLOs idle: "
                     f"{verdict} where the guard alone decides",
                     _errors_at_guard(inputs, lambda guard, f=factor: guard / 60 * f, GUARD_MINUTES),
                     checks, GUARD_MINUTES)
            for factor, verdict in zip(factors, ("silent", "alerting"))] if guarded else []


def zero_then_gone(inputs: Inputs) -> Scenario:
    last = 10
    series: list[Series] = []
    for inp in inputs.slos:
        for gi in range(len(inp.groups)):
            # A bad-events counter that never moved often does not exist at all.
            series += _series_for(inp, gi, lambda k: (0.0, 0.0) if k < last else None, last + 1,
                                  present_events=inp.slo.sli.events == "good")
    series += _budget_series(inputs, last, lambda bi, gi: 0.0)
    nan_free = [f'{{__name__=~"slo:(error_ratio|burn_rate):.+", service="{s}"}} != 0',
                f'{N.SLO_BUDGET_REMAINING}{{service="{s}"}} != 1',
                f'{N.SLO_BUDGET_EXHAUSTED}{{service="{s}"}} != 0'] if (s := inputs_service(inputs)) else []
    checks = [
        # Bad events 0, not absent, while the bad counter does not exist yet (the `or 0 * total` fallback).
        Check(8, (N.ALERT_BURN, N.ALERT_NO_DATA), (N.slo_bad_rate("5m"), N.slo_error_ratio("5m")),
              tuple((e, []) for e in nan_free)),
        Check(last + 14, (N.ALERT_NO_DATA,)),
        Check(last + 15, (N.ALERT_NO_DATA,)),
    ]
    return Scenario(f"zero traffic (bad events 0, not absent; error ratios 0, not NaN), then every series gone "
                    f"after {last}m: SLONoData",
                    series, checks, last + 15)


def inputs_service(inputs: Inputs) -> str | None:
    if inputs.slos:
        return inputs.slos[0].slo.service
    if inputs.budgets:
        return inputs.budgets[0].budget.service
    return None


REGRESSION_LOW, REGRESSION_HIGH = 0.8, 1.25  # cost per event as multiples of the factor: just under, just over
# The cost per event of the days before the rise, as a multiple of its value a week earlier: a comparison with
# a shorter offset than the rule's (a day) sees the cheaper days, and REGRESSION_LOW x factor is then
# 0.8 * 1.5 / 0.6 = 2x it: over the factor, so such a rule fires where the right one stays silent.
REGRESSION_BEFORE = 0.6
# Alternative cost-per-event levels, tried in order when a printed value lands on a %.4g tie.
REGRESSION_SCALES = (1.0, 1.1, 0.9, 1.2)


def cost_regression(inputs: Inputs, service: ServicePlan | None = None, variant: int = 0) -> Scenario | None:
    budgets = [bi for bi in inputs.budgets if bi.budget.regression_factor is not None
               and bi.budget.route.enabled and all(g.other is not None for g in bi.groups)]
    if not budgets:
        return None
    week = max(duration_seconds(bi.budget.regression_offset or "1w") for bi in budgets) // MINUTE
    change = week + 60  # cost per event to REGRESSION_LOW x factor: silent
    rise = change + 120  # ... to REGRESSION_HIGH x factor: fires once the 1h window and `for` have passed
    minutes = rise + 4 * 60
    # Every value the offset reads at a checked instant (with its 1h window) comes from before `early`; from
    # there to the change the cost per event is REGRESSION_BEFORE x that.
    early = minutes - week
    step_minutes = BUDGET_STEP // MINUTE
    scale = REGRESSION_SCALES[variant % len(REGRESSION_SCALES)]

    def busy(bi: BudgetInput) -> float:
        """Events per minute: twice min_events_per_hour, so a floor ten times higher silences the alert."""
        floor = float(bi.budget.regression_min_events_per_hour or 0)
        return 2 * floor / 60 if floor else 60.0

    def traffic(bi: BudgetInput, gi: int) -> float:
        """The second `by` group is quiet: under min_events_per_hour, so its regression must stay silent."""
        floor = float(bi.budget.regression_min_events_per_hour or 0)
        return busy(bi) if gi == 0 or floor == 0 else floor / 60 / 4

    def usage(bi: BudgetInput, gi: int, k: int) -> float:
        per_event = _quiet_spend(bi.budget) / busy(bi) * scale
        f = float(bi.budget.regression_factor or 1)
        m = k * step_minutes
        factor = f * REGRESSION_HIGH if m >= rise else f * REGRESSION_LOW if m >= change else \
            REGRESSION_BEFORE if m >= early else 1.0
        return _quantum(traffic(bi, gi) * step_minutes * per_event * factor)

    series = []
    n = minutes // step_minutes
    for bi in budgets:
        for gi, gs in enumerate(bi.groups):
            assert gs.other is not None
            series.append(Series(gs.events[0], gs.events[1], counter_values([usage(bi, gi, k) for k in range(n)])))
            series.append(Series(gs.other[0], gs.other[1],
                                 counter_values([_quantum(traffic(bi, gi) * step_minutes)] * n)))
    eval_min = BUDGET_EVAL_STEP // MINUTE
    checks = [Check(change, (N.ALERT_COST_REGRESSION,)), Check(rise, (N.ALERT_COST_REGRESSION,))]
    fire = _first_regression(service, inputs, series, rise, minutes - eval_min) if service is not None else None
    checks += [Check(fire - eval_min, (N.ALERT_COST_REGRESSION,)), Check(fire, (N.ALERT_COST_REGRESSION,))] \
        if fire is not None else [Check(minutes - eval_min, (N.ALERT_COST_REGRESSION,))]
    names = ", ".join(f"{bi.budget.name} x{number(bi.budget.regression_factor or 1)}" for bi in budgets)
    quiet = "; a second `by` group is as costly but under min_events_per_hour (silent)" if any(
        len(bi.groups) > 1 for bi in budgets) else ""
    return Scenario(f"the cost per event is steady for {early // 60}h, then {REGRESSION_BEFORE}x that until it "
                    f"rises at {change // 60}h to {REGRESSION_LOW}x the factor over its value {week // 60}h earlier "
                    f"({names}; silent, though over the factor against the cheaper hours), at {rise // 60}h to "
                    f"{REGRESSION_HIGH}x: SLOCostRegression fires once its `for` has passed{quiet}",
                    series, sorted(checks, key=lambda c: c.minute),
                    minutes - eval_min, step=BUDGET_STEP, eval_step=BUDGET_EVAL_STEP, slos=False, budgets=True)


def _first_regression(service: ServicePlan, inputs: Inputs, series: list[Series], lo: int, hi: int) -> int | None:
    """The first evaluation minute in (lo, hi] at which the model fires a cost regression (none at lo)."""
    events, total = _selectors_of(inputs)
    model = ServiceModel(service, series, BUDGET_STEP, BUDGET_EVAL_STEP, events, total, inputs.semantics)
    names = frozenset({N.ALERT_COST_REGRESSION})
    fires = lambda m: any(a.kind == N.ALERT_COST_REGRESSION  # noqa: E731
                          for a in model.alerts_at(m * MINUTE, False, True, names).firing)
    step = BUDGET_EVAL_STEP // MINUTE
    if fires(lo) or not fires(hi):
        return None
    while hi - lo > step:
        mid = lo + (hi - lo) // 2 // step * step
        lo, hi = (lo, mid) if fires(mid) else (mid, hi)
    return hi


# --------------------------------------------------------------------------
# YAML
# --------------------------------------------------------------------------


def _duration(seconds: int) -> str:
    return format_duration(seconds) if seconds > 0 else "0m"


def _labels_text(labels: dict[str, str]) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def _selector(record: str, service: str) -> str:
    return f'{record}{{{N.LABEL_SERVICE}="{service}"}}'


def _value_tests(snap: Snapshot, service: ServicePlan, records: tuple[str, ...], names: set[str],
                 eval_time: str, unmodelled: set[str] = frozenset()) -> list[dict[str, Any]]:
    tests = []
    extra = {slo.name: dict(slo.recorded_labels) for slo in service.slos}
    for record in records:
        samples = []
        for (rec, name), groups in sorted(snap.values.items()):
            if rec != record or name not in names:
                continue
            is_slo = record.startswith("slo:")
            ident = N.LABEL_SLO if is_slo else N.LABEL_BUDGET
            for key, v in groups.items():
                labels = {**(extra.get(name, {}) if is_slo else {}), N.LABEL_SERVICE: service.service, ident: name,
                          **dict(key)}
                samples.append({"labels": _labels_text(labels), "value": round_to(v, ROUND_TO)})
        if not samples:
            continue
        samples.sort(key=lambda s: s["labels"])
        selector = _selector(record, service.service)
        if unmodelled and record.startswith("slo:"):
            # SLOs the model cannot feed still read the series it feeds (two SLOs of
            # one SLI): ask only for the SLOs whose values it knows.
            selector = selector[:-1] + f', {N.LABEL_SLO}!~"{"|".join(sorted(regex_escape(n) for n in unmodelled))}"}}'
        tests.append({"expr": f"round({selector}, {number(ROUND_TO)})",
                      "eval_time": eval_time, "exp_samples": samples})
    return tests


def _alert_names(service: ServicePlan, kinds: tuple[str, ...]) -> list[str]:
    """The names the service's rules give the alerts of `kinds` (users may rename burn-rate alerts)."""
    names: list[str] = []
    for kind in kinds:
        found = sorted({r.alert for g in service.rule_groups for r in g.alerting_rules if r.what == kind}) or [kind]
        names += [n for n in found if n not in names]
    return names


def _alert_tests(snap: Snapshot, alertnames: list[str], eval_time: str) -> list[dict[str, Any]]:
    tests = []
    for name in alertnames:
        firing = sorted((a for a in snap.firing if a.name == name), key=lambda a: a.labels)
        tests.append({"eval_time": eval_time, "alertname": name,
                      "exp_alerts": [_exp_alert(a) for a in firing]})
    return tests


def _alerts_expr_tests(snap: Snapshot, names: set[str], alertnames: tuple[str, ...], service: ServicePlan,
                       eval_time: str) -> list[dict[str, Any]]:
    """For services with SLOs the model cannot feed: ALERTS of the modelled SLOs only, and only the alerts
    the check is about (a check of the exhausted-budget alert must not see a burn-rate ticket that also fires)."""
    tests = []
    checked = "|".join(_alert_names(service, alertnames))
    for slo in sorted(names):
        firing = [a for a in snap.firing if a.kind in alertnames and dict(a.labels).get(N.LABEL_SLO) == slo]
        samples = [{"labels": _labels_text({"__name__": "ALERTS", "alertname": a.name, "alertstate": "firing",
                                            **dict(a.labels)}), "value": 1} for a in firing]
        tests.append({"expr": f'ALERTS{{alertname=~"{checked}", alertstate="firing", service="{service.service}", '
                              f'slo="{slo}"}}',
                      "eval_time": eval_time, "exp_samples": sorted(samples, key=lambda s: s["labels"])})
    return tests


def _filtered_alerts(snap: Snapshot, alertname: str, kind: str, labels: tuple[tuple[str, str], ...],
                     eval_time: str) -> dict[str, Any]:
    """One alert's firing ALERTS series: labels only, so a threshold scenario's many instants stay short."""
    want = dict(labels)
    firing = [a for a in snap.firing if a.name == alertname and a.kind == kind
              and all(dict(a.labels).get(k) == v for k, v in want.items())]
    samples = [{"labels": _labels_text({"__name__": "ALERTS", "alertname": a.name, "alertstate": "firing",
                                        **dict(a.labels)}), "value": 1} for a in firing]
    return {"expr": "ALERTS" + _labels_text({"alertname": alertname, "alertstate": "firing", **want}),
            "eval_time": eval_time, "exp_samples": sorted(samples, key=lambda s: s["labels"])}


def _exp_alert(a: Alert) -> dict[str, Any]:
    return {"exp_labels": dict(a.labels), "exp_annotations": dict(a.annotations)}


def _group_yaml(scenario: Scenario, snaps: dict[int, Snapshot], service: ServicePlan, inputs: Inputs) -> dict:
    modelled = {inp.slo.name for inp in inputs.slos} | {bi.budget.name for bi in inputs.budgets}
    alert_tests, expr_tests = [], []
    for check in scenario.checks:
        t = check.minute * MINUTE
        snap = snaps[t]
        eval_time = _duration(t)
        if inputs.unsupported:
            expr_tests += _alerts_expr_tests(snap, {i.slo.name for i in inputs.slos}, check.alertnames,
                                             service, eval_time)
        else:
            alert_tests += _alert_tests(snap, _alert_names(service, check.alertnames), eval_time)
        expr_tests += _value_tests(snap, service, check.records, modelled, eval_time,
                                   {s.name for s in inputs.unsupported})
        expr_tests += [{"expr": e, "eval_time": eval_time, "exp_samples": s} for e, s in check.extra_exprs]
        expr_tests += [_filtered_alerts(snap, *f, eval_time) for f in check.alert_filters]
    group: dict[str, Any] = {
        "name": scenario.name,
        "interval": _duration(scenario.step),
        "input_series": [{"series": s.text(), "values": values_text(s.values)}
                         for s in sorted(scenario.series, key=lambda s: (s.metric, s.labels))],
    }
    if alert_tests:
        group["alert_rule_test"] = alert_tests
    if expr_tests:
        group["promql_expr_test"] = expr_tests
    return group


def _selectors_of(inputs: Inputs) -> tuple[dict[str, Sel], dict[str, Sel]]:
    return ({i.slo.name: i.events_sel for i in inputs.slos}, {i.slo.name: i.total_sel for i in inputs.slos})


def _run(service: ServicePlan, inputs: Inputs, scenario: Scenario) -> dict[int, Snapshot]:
    events, total = _selectors_of(inputs)
    model = ServiceModel(service, scenario.series, scenario.step, scenario.eval_step, events, total,
                         inputs.semantics)
    alertnames = frozenset(name for check in scenario.checks for name in check.alertnames) | frozenset(
        f[1] for check in scenario.checks for f in check.alert_filters)
    return model.run(scenario.minutes * MINUTE, slos=scenario.slos, budgets=scenario.budgets,
                     alertnames=alertnames, keep={c.minute * MINUTE for c in scenario.checks})


# Alternative traffic levels and healthy shares, tried in order when a value of
# the model lands within float noise of a threshold or of a rounding tie
# (Prometheus could decide either way there, so such a scenario would make a flaky test).
_VARIANTS = ((TRAFFIC, 0.25), (640.0, 0.2), (576.0, 0.3), (720.0, 0.15))

# A scenario builder: the scenarios it makes for the variant with that index.
Builder = Callable[[int], list[Scenario]]


def _one(scenario: Scenario | None) -> list[Scenario]:
    return [] if scenario is None else [scenario]


def _builders(inputs: Inputs) -> list[tuple[str, Builder]]:
    """The main test file's scenarios, in order, each with what it tests. Builders whose inputs do not
    depend on traffic vary something else of theirs with the variant (the budget spend, how far under or
    around the traffic guard); zero traffic ignores it (every value it asserts is 0, never a tie)."""
    return [
        ("the burn-rate timeline", lambda v: [timeline(inputs, *_VARIANTS[v])]),
        ("the slow burn", lambda v: [slow_burn(inputs, _VARIANTS[v][0], SLOW_OVER[v % len(SLOW_OVER)])]),
        ("low traffic", lambda v: _one(low_traffic(inputs, LOW_TRAFFIC_UNDER[v % len(LOW_TRAFFIC_UNDER)]))),
        ("the min_events_per_hour edges", lambda v: guard_edges(inputs, GUARD_FACTORS[v % len(GUARD_FACTORS)])),
        ("the SLOs' exhausted budgets", lambda v: _one(slo_exhaustion(inputs, _VARIANTS[v][0]))),
        ("the exhausted spend and token budgets",
         lambda v: budget_exhaustion(inputs, EXHAUST_PACES[v % len(EXHAUST_PACES)])),
        ("zero traffic, then no data", lambda v: [zero_then_gone(inputs)]),
    ]


def _first_unambiguous(build: Callable[[int], Any], what: str, notes: list[str]) -> Any | None:
    """build(v) for the first variant v whose values the model can tell apart the way Prometheus will; None
    (with a note in the test file) when every variant lands on a threshold or a rounding tie."""
    last_error: AmbiguousComparison | None = None
    for v in range(len(_VARIANTS)):
        try:
            return build(v)
        except AmbiguousComparison as exc:
            last_error = exc
    notes.append(f"Left out: {what}; every synthetic input tried lands within float noise of a threshold or "
                 f"a rounding tie ({last_error}), where Prometheus could decide either way.")
    return None


@dataclass
class RuleTests:
    main: dict[str, Any]
    budgets: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    thresholds: dict[int, dict[str, Any]] = field(default_factory=dict)  # by evaluation interval (seconds)


def build_tests(service: ServicePlan, catalog: Catalog, semantics: Semantics = PROMETHEUS_2) -> RuleTests:
    inputs = allocate(service, catalog, semantics)
    notes = [f"SLO {s.name}: its raw SLI is not a single rate(selector[{{{{window}}}}]) (or its selectors match "
             "no catalog series), so no synthetic input is generated for it; write its tests by hand in "
             "alerts/tests/ (slokit test runs them too)." for s in inputs.unsupported]
    rules_file = f"../{N.rules_path(service.service).split('/', 1)[1]}"
    groups: list[dict[str, Any]] = []
    for what, builder in _builders(inputs):
        found = _first_unambiguous(lambda v, b=builder: _groups(service, inputs, b(v)), f"the tests of {what}", notes)
        groups += found or []
    main = {"rule_files": [rules_file], "evaluation_interval": _duration(STEP), "tests": groups}
    budgets = None
    # Its notes go to the main file: a left-out regression leaves no budgets file to carry them.
    reg = _first_unambiguous(lambda v: _groups(service, inputs, _one(cost_regression(inputs, service, v))),
                             "the cost regression tests", notes)
    if reg:
        budgets = {"rule_files": [rules_file], "evaluation_interval": _duration(BUDGET_EVAL_STEP), "tests": reg}
    thresholds = _threshold_tests(service, inputs, rules_file, notes)
    return RuleTests(main, budgets, notes, thresholds)


def _groups(service: ServicePlan, inputs: Inputs, scenarios: list[Scenario]) -> list[dict[str, Any]]:
    """The promtool test groups of the scenarios, their expectations computed by the model."""
    return [_group_yaml(sc, _run(service, inputs, sc), service, inputs) for sc in scenarios]


def _threshold_tests(service: ServicePlan, inputs: Inputs, rules_file: str, notes: list[str]
                     ) -> dict[int, dict[str, Any]]:
    # Imported here: the threshold scenarios build on this module's series and checks.
    from slokit.render.ruletests.thresholds import tier_scenarios

    def build(v: int) -> dict[int, dict[str, Any]]:
        scenarios, more = tier_scenarios(service, inputs, _VARIANTS[v][0])
        files = {step: {"rule_files": [rules_file], "evaluation_interval": _duration(step),
                        "tests": _groups(service, inputs, group)}
                 for step, group in scenarios.items()}
        notes.extend(more)
        return files

    return _first_unambiguous(build, "the threshold tests", notes) or {}


def _text(service: ServicePlan, data: dict[str, Any], notes: list[str], what: str,
          semantics: Semantics = PROMETHEUS_2) -> str:
    lines = [f"# {line}\n" for line in notes]
    if semantics != PROMETHEUS_2:
        # `slokit test` reads this line to tell the tests' Prometheus from the installed promtool's.
        lines.append(f"# {N.RULE_TESTS_PROMETHEUS_MARKER}{semantics.major} (left-open ranges).\n")
    lines.append(f"# {what} Run them with `slokit test` (promtool test rules).\n")
    return yaml_header(service.sources) + "".join(lines) + dump_yaml(data)


def _asserts(group: dict[str, Any]) -> bool:
    return bool(group.get("input_series")) and bool(group.get("alert_rule_test") or group.get("promql_expr_test"))


def _without_empty_tests(data: dict[str, Any]) -> dict[str, Any] | None:
    """The test file without test groups that feed nothing or assert nothing (they pass whatever the rules
    say); None when no group is left, so no file is written (validation already warned the SLO is untested)."""
    groups = [g for g in data["tests"] if _asserts(g)]
    return {**data, "tests": groups} if groups else None


def render_service(service: ServicePlan, catalog: Catalog, semantics: Semantics = PROMETHEUS_2) -> dict[str, str]:
    out = {}
    tests = build_tests(service, catalog, semantics)
    main = _without_empty_tests(tests.main)
    if main is not None:
        out[N.rule_tests_path(service.service)] = _text(
            service, main, tests.notes, "Unit tests of the rules of this service, on synthetic series.", semantics)
    if tests.budgets is not None:
        out[N.budget_rule_tests_path(service.service)] = _text(
            service, tests.budgets, [], "A week of synthetic spend, evaluated every 30m, for the cost "
            "regression alert.", semantics)
    for step, found in tests.thresholds.items():
        data = _without_empty_tests(found)
        if data is None:
            continue
        out[N.threshold_rule_tests_path(service.service, _duration(step))] = _text(
            service, data, [], f"Burn-rate tiers and budget alerts just below and just above their thresholds, "
            f"evaluated every {_duration(step)}: a wrong factor or window moves the instants they assert.", semantics)
    return out


def render(plan: ProjectPlan, cache: "Cache | None" = None, semantics: Semantics = PROMETHEUS_2) -> dict[str, str]:
    """Every service's test files; with a cache, those of a service whose plan and catalog did not change."""
    out = {}
    catalog = repr(plan.catalog) if cache is not None else ""
    for service in plan.services:
        if cache is None:
            out |= render_service(service, plan.catalog, semantics)
        else:
            # The plan as plain data is everything the tests are computed from (with the catalog).
            key = cache_digest("rule-tests", repr(service), catalog, repr(semantics))
            out |= cache.memo("rule-tests", key, lambda s=service: render_service(s, plan.catalog, semantics))
    return out
