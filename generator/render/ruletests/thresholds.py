"""Threshold-sensitive scenarios: a rule off by a factor or a window must fail its generated test.

For every enabled burn-rate tier (and every budget's overrun alert) the
input runs in three phases on the tier's own numbers:

  A. a burn rate just below the tier's factor (LOW x factor): silent;
  B. just above it (HIGH x factor): the long window's average climbs from
     LOW to HIGH and crosses the factor about 0.44 long windows in, once the
     window is full (A lasts 0.6 long windows), so the firing instant pins the
     factor and the long window;
  C. back to just below: the long window stays above the factor (the samples
     leaving it are phase A's, as low as those entering), the short window
     drops under it about 0.56 short windows in, so the resolving instant pins
     the short window.

The instants come from the model (bisected on the evaluation grid), and the
test asserts the alert's state one evaluation before and at each change. A
tier's scenario spans about 1.2 long windows plus a short one, so each is
evaluated at the coarsest of 5m, 15m and 1h that still resolves a quarter of
its short window (and a sixteenth of its long one), in a file per interval;
all SLOs whose k-th tier shares an interval run side by side in one group.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from slokit import naming as N
from slokit.plan import BudgetPlan, SLOPlan
from slokit.render.ruletests.prometheus_model import Labels, Sel, Series, ServiceModel, counter_values, parse_selector
from slokit.render.ruletests.promtool_tests import (
    MINUTE,
    BudgetInput,
    Check,
    Inputs,
    Profile,
    Scenario,
    SLOInput,
    _budget,
    _quantum,
    _selectors_of,
    _series_for,
)

LOW, HIGH = 0.8, 1.25  # burn rate (or spend pace) as multiples of the threshold, just below and above
EVAL_STEPS = (5 * MINUTE, 15 * MINUTE, 60 * MINUTE)  # evaluation intervals of the threshold files
INPUT_STEP = MINUTE  # input samples stay a minute apart (a 5m rate needs several in any range semantics)


def eval_step(long_s: int, short_s: int) -> int:
    fits = [s for s in EVAL_STEPS if 4 * s <= short_s and 16 * s <= long_s]
    return max(fits) if fits else EVAL_STEPS[0]


@dataclass
class _Case:
    """One alert under test: its phases (minutes) and how to find it among the firing alerts."""

    what: str  # for the group name
    alertname: str
    kind: str
    labels: Labels  # the alert's identifying labels (series identity, tier, group)
    a_end: int
    b_end: int
    end: int
    step_min: int  # evaluation interval, minutes


def _phases(long_s: int, short_s: int, for_s: int) -> tuple[int, int, int, int]:
    step = eval_step(long_s, short_s) // MINUTE
    long_m, short_m, for_m = long_s / MINUTE, short_s / MINUTE, for_s / MINUTE

    def ceil_step(minutes: float) -> int:
        return int(math.ceil(minutes / step) * step)

    a_end = ceil_step(max(0.6 * long_m, 3 * step, 15))
    # (LOW - 1) / (LOW - HIGH) of the long window into B, plus the 5m base rate's lag and a margin.
    cross = a_end + (1 - LOW) / (HIGH - LOW) * long_m
    b_end = ceil_step(cross + 0.15 * long_m + 2 * step + 5 + for_m)
    end = ceil_step(b_end + short_m + 2 * step + 5 + for_m)
    return a_end, b_end, end, step


def _for_s(rule) -> int:
    from slokit.model import duration_seconds

    return duration_seconds(rule.for_) if rule.for_ else 0


def _burn_rules(slo: SLOPlan):
    return [r for r in slo.rule_group.alerting_rules if r.what == N.ALERT_BURN]


def _ratios(slo: SLOPlan, factor: float) -> tuple[float, float] | None:
    """Error ratios just below and above a factor's threshold, or None if no error ratio can exceed it."""
    threshold = factor * _budget(slo)
    if threshold >= 0.98:
        return None
    high = HIGH * threshold if HIGH * threshold <= 1 else (1 + threshold) / 2
    return LOW * threshold, high


def _tier_case(inp: SLOInput, k: int) -> tuple[_Case, Callable[[int], float], float] | None:
    slo = inp.slo
    enabled = [t for t in slo.tiers if t.enabled]
    if k >= len(enabled):
        return None
    tier, rule = enabled[k], _burn_rules(slo)[k]
    ratios = _ratios(slo, float(tier.burn_factor))
    if ratios is None:
        return None
    low, high = ratios
    a_end, b_end, end, step = _phases(tier.tier.long_s, tier.tier.short_s, _for_s(rule))
    labels = dict(rule.labels) | {N.LABEL_SERVICE: slo.service, N.LABEL_SLO: slo.name} | dict(inp.groups[0].group)
    case = _Case(f"{slo.name} {tier.tier.long_window}/{tier.tier.short_window} x{tier.burn_factor}", rule.alert,
                 N.ALERT_BURN, tuple(sorted(labels.items())), a_end, b_end, end, step)

    def ratio(k: int) -> float:
        return high if a_end <= k < b_end else low
    return case, ratio, low


def _firing(model: ServiceModel, case: _Case, t: int, slos: bool, budgets: bool) -> bool:
    snap = model.alerts_at(t, slos=slos, budgets=budgets, alertnames=frozenset({case.kind}))
    want = dict(case.labels)
    return any(a.name == case.alertname and all(dict(a.labels).get(k) == v for k, v in want.items())
               for a in snap.firing)


def _change(model: ServiceModel, case: _Case, lo: int, hi: int, to: bool, slos: bool, budgets: bool
            ) -> int | None:
    """The first evaluation minute in (lo, hi] where the alert's state is `to` (it is not at lo, is at hi)."""
    state = lambda m: _firing(model, case, m * MINUTE, slos, budgets)  # noqa: E731
    if state(lo) == to or state(hi) != to:
        return None
    step = case.step_min
    while hi - lo > step:
        mid = lo + (hi - lo) // 2 // step * step
        if state(mid) == to:
            hi = mid
        else:
            lo = mid
    return hi


def _checks(model: ServiceModel, cases: list[_Case], slos: bool, budgets: bool) -> tuple[list[Check], list[str]]:
    checks, notes = [], []
    for case in cases:
        instants = [case.a_end]
        fire = _change(model, case, case.a_end, case.b_end, True, slos, budgets)
        resolve = _change(model, case, case.b_end, case.end, False, slos, budgets) if fire is not None else None
        if fire is None or resolve is None:
            notes.append(f"{case.what}: no clean fire/resolve crossing in the threshold scenario; its states at "
                         "the phase ends are asserted instead.")
            instants += [case.b_end, case.end]
        else:
            instants += [fire - case.step_min, fire, resolve - case.step_min, resolve]
        for minute in dict.fromkeys(instants):
            checks.append(Check(minute, (), alert_filters=((case.alertname, case.kind, case.labels),)))
    return checks, notes


def tier_scenarios(service, inputs: Inputs, traffic: float) -> tuple[dict[int, list[Scenario]], list[str]]:
    """Threshold scenarios by evaluation interval (seconds)."""
    depth = max((len([t for t in i.slo.tiers if t.enabled]) for i in inputs.slos), default=0)
    scenarios: dict[int, list[Scenario]] = {}
    notes: list[str] = []
    cases = [(inp, f) for k in range(depth) for inp in inputs.slos if (f := _tier_case(inp, k)) is not None]
    # Longest first, each into the first group of its interval that holds neither its SLO nor one that reads
    # its series: few groups, each as long as its longest case.
    cases.sort(key=lambda c: (-c[1][0].end, c[0].slo.name))
    for step in sorted({f[0].step_min for _, f in cases}):
        at_step = [c for c in cases if c[1][0].step_min == step]
        for part in _apart(at_step, lambda x: _slo_reads(x[0]), lambda a, b: a[0] is b[0]):
            sc, more = _tier_scenario(service, inputs, traffic, step, part)
            scenarios.setdefault(step * MINUTE, []).append(sc)
            notes += more
    for part in _apart(inputs.budgets, _budget_reads):
        budget = budget_scenario(service, inputs, part)
        if budget is not None:
            scenarios.setdefault(budget[0].eval_step, []).append(budget[0])
            notes += budget[1]
    return dict(sorted(scenarios.items())), notes


def _slo_reads(inp: SLOInput) -> tuple[list[Sel], list[tuple[str, Labels]]]:
    own = [gs.events for gs in inp.groups] + [gs.other for gs in inp.groups if gs.other is not None]
    return [inp.events_sel, inp.total_sel], own


def _budget_reads(bi: BudgetInput) -> tuple[list[Sel], list[tuple[str, Labels]]]:
    return [parse_selector(bi.budget.query)], [gs.events for gs in bi.groups]


def _apart(items: list, reads: Callable, same: Callable = lambda a, b: False) -> list[list]:
    """Items split so that none reads another's series in its part (each follows its own profile).

    SLOs of one metric often select each other's synthetic series (a total
    over all statuses counts a sibling SLO's requests too); side by side, one
    SLO's phases would blur another's threshold crossing.
    """
    parts: list[list] = []
    for item in items:
        sels, own = reads(item)
        for part in parts:
            if not any(same(item, other) or _overlap(sels, own, *reads(other)) for other in part):
                part.append(item)
                break
        else:
            parts.append([item])
    return parts


def _overlap(sels_a: list[Sel], own_a: list, sels_b: list[Sel], own_b: list) -> bool:
    return any(s.matches(m, dict(lbl)) for s in sels_a for m, lbl in own_b) or \
        any(s.matches(m, dict(lbl)) for s in sels_b for m, lbl in own_a)


def _tier_scenario(service, inputs: Inputs, traffic: float, step: int, found) -> tuple[Scenario, list[str]]:
    events, total = _selectors_of(inputs)
    cases = []
    profiles: dict[str, tuple[Profile, Profile]] = {}
    for inp, (case, ratio, low) in found:
        cases.append(case)
        profiles[inp.slo.name] = (lambda m, r=ratio: (traffic, r(m)), lambda m, lo=low: (traffic, lo))
    minutes = max(c.end for c in cases)
    series: list[Series] = []
    for inp in inputs.slos:
        if inp.slo.name not in profiles:
            continue  # not in this part: its series are absent, its rules record nothing
        main, rest = profiles[inp.slo.name]
        series += _series_for(inp, 0, main, minutes + 1)
        for gi in range(1, len(inp.groups)):
            series += _series_for(inp, gi, rest, minutes + 1)
    model = ServiceModel(service, series, INPUT_STEP, step * MINUTE, events, total, inputs.semantics)
    checks, notes = _checks(model, cases, True, False)
    name = (f"burn-rate tiers at {LOW}x their factor, {HIGH}x from 0.6 long windows (fire), "
            f"{LOW}x again (resolve): " + "; ".join(c.what for c in cases))
    return Scenario(name, series, checks, minutes, step=INPUT_STEP, eval_step=step * MINUTE,
                    slos=True, budgets=False), notes


def _overrun_rule(service, b: BudgetPlan):
    for group in service.rule_groups:
        if group.name == N.budget_group(service.service):
            for rule in group.alerting_rules:
                if rule.what == N.ALERT_BUDGET_OVERRUN and dict(rule.labels).get(N.LABEL_BUDGET) == b.name:
                    return rule
    return None


def budget_scenario(service, inputs: Inputs, budgets: list[BudgetInput]) -> tuple[Scenario, list[str]] | None:
    from slokit.model import duration_seconds
    from slokit.promql import number

    cases: list[tuple[_Case, BudgetInput]] = []
    for bi in budgets:
        rule = _overrun_rule(service, bi.budget)
        if rule is None:
            continue
        b = bi.budget
        # Every budget at the finest interval any of them needs: one group.
        a_end, b_end, end, step = _phases(duration_seconds(b.long_window), duration_seconds(b.short_window),
                                          _for_s(rule))
        labels = dict(rule.labels) | {N.LABEL_SERVICE: b.service, N.LABEL_BUDGET: b.name} | dict(bi.groups[0].group)
        cases.append((_Case(f"{b.name} overrun {b.long_window}/{b.short_window}", rule.alert, N.ALERT_BUDGET_OVERRUN,
                            tuple(sorted(labels.items())), a_end, b_end, end, step), bi))
    if not cases:
        return None
    step = min(c.step_min for c, _ in cases)
    cases = [(_Case(c.what, c.alertname, c.kind, c.labels, c.a_end, c.b_end, c.end, step), bi) for c, bi in cases]
    minutes = max(c.end for c, _ in cases)
    series: list[Series] = []
    for case, bi in cases:
        pace = float(number(bi.budget.limit)) / (bi.budget.window_s / MINUTE)
        for gi, gs in enumerate(bi.groups):
            def spend(m: int, case=case, gi=gi) -> float:
                return pace * (HIGH if gi == 0 and case.a_end <= m < case.b_end else LOW)
            series.append(Series(gs.events[0], gs.events[1],
                                 counter_values([_quantum(spend(m)) for m in range(minutes + 1)])))
    model = ServiceModel(service, series, INPUT_STEP, step * MINUTE, {}, {}, inputs.semantics)
    checks, notes = _checks(model, [c for c, _ in cases], False, True)
    name = (f"budgets: spending at {LOW}x the pace of the limit, {HIGH}x (the projected overrun fires), "
            f"{LOW}x again (resolves): " + "; ".join(c.what for c, _ in cases))
    return Scenario(name, series, checks, minutes, step=INPUT_STEP, eval_step=step * MINUTE, slos=False,
                    budgets=True), notes
