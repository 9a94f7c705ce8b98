"""The alert-quality measurement, in the manner of the SRE workbook's table.

A 99.9% / 30d SLO with the default tiers, compiled by slokit, is run in
promtool on synthetic traffic: three days of clean traffic (so every alert
window is full), then constant error rates of 100%, 10%, 2% and 0.5% (one
`case` each), a one-minute 20% spike, a 30-minute full outage followed by
recovery, and a `wave` case whose traffic and error ratio change every hour.
promtool reports when each alert first (and last) fired; the same conditions
written naively over the raw counters (rate(x[6h]) etc.) are measured on the
same data, so the cost of the cheap derived windows is visible.

Run `python -m tests.rules.quality --write` from the repository root to
regenerate docs/alert-quality.md; tests/rules/test_alert_quality.py checks
the doc against a fresh measurement.
"""

from __future__ import annotations

import math
import sys
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import yaml

from slokit.model import duration_seconds
from slokit.plan import SLOPlan, build_plan
from slokit.project import load_project
from slokit.promql import number
from slokit.render import prometheus_rules
from slokit.windows import BASE_WINDOW, uses_raw_counters

try:
    from .promtool import Sample, counter, measure
except ImportError:  # run as a script
    from tests.rules.promtool import Sample, counter, measure  # type: ignore[no-redef]

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "alert-quality.md"
MINUTE = 60
TRAFFIC = 600.0  # requests per minute per case
RATES = {"e100": 1.0, "e10": 0.1, "e2": 0.02, "e05": 0.005}
SPIKE = ("spike", 0.2, 1)  # case, error ratio, minutes
OUTAGE = ("recovery", 1.0, 30)
CASES = [*RATES, SPIKE[0], OUTAGE[0], "wave"]


@dataclass(frozen=True)
class Run:
    """One promtool run: which tiers it measures, at which interval, with how much clean history.

    Two runs keep the suite fast: the page tiers need 6h of history and are
    measured at a 1m interval; the ticket tiers need 3d of history (their 3d
    window must be full), which at a 1m interval would take promtool minutes,
    so they are measured at a 5m interval.
    """

    severity: str
    interval: int  # seconds, input and evaluation
    history: int  # minutes of clean traffic before the errors start
    after: int  # minutes measured after the errors start


RUNS = (Run("page", MINUTE, 6 * 60, 2 * 60 + 10), Run("ticket", 5 * MINUTE, 3 * 24 * 60, 15 * 60 + 30))

CATALOG = {
    "version": 1,
    "labels": {"case": {"values": CASES}, "status": {"values": ["ok", "error"]}},
    "metrics": {"app_requests_total": {"type": "counter", "unit": "requests", "help": "Requests by outcome.",
                                       "labels": ["case", "status"]}},
}
SPEC = {
    "version": 1, "service": "quality", "owner": "sre",
    "slos": [{"name": "availability", "objective": 99.9, "window": "30d",
              "sli": {"ratio": {"bad": {"metric": "app_requests_total", "match": {"status": "error"}},
                                "total": {"metric": "app_requests_total"}}},
              "group_by": ["case"]}],
}


def _q(x: float) -> float:
    return round(x * 64) / 64  # exact binary sums


def wave(minute: int) -> tuple[float, float]:
    """Traffic and error ratio of the `wave` case: they change every hour (traffic-weighting matters)."""
    h = minute // 60
    return 400.0 + 100.0 * ((h * 7) % 5), 0.0005 * (1 + (h * 3) % 4)


def profile(case: str, minute: int, history: int) -> tuple[float, float]:
    """(requests per minute, error ratio) of `case` in `minute` (0-based; errors start at `history`)."""
    if case == "wave":
        return wave(minute)
    k = minute - history
    if case in RATES:
        return TRAFFIC, RATES[case] if k >= 0 else 0.0
    _name, rho, length = SPIKE if case == SPIKE[0] else OUTAGE
    return TRAFFIC, rho if 0 <= k < length else 0.0


def input_series(run: Run) -> list[dict[str, str]]:
    """A sample every run.interval; each step adds the requests of its minutes."""
    step = run.interval // MINUTE
    minutes = run.history + run.after + step
    out = []
    for case in CASES:
        bad, good = [], []
        for first in range(0, minutes, step):
            b = g = 0.0
            for m in range(first, first + step):
                n, rho = profile(case, m, run.history)
                b += _q(n * rho)
                g += _q(n) - _q(n * rho)
            bad.append(b)
            good.append(g)
        out.append({"series": f'app_requests_total{{case="{case}", status="error"}}', "values": counter(bad)})
        out.append({"series": f'app_requests_total{{case="{case}", status="ok"}}', "values": counter(good)})
    return out


def _naive_ratio(window: str, case: str) -> str:
    return (f'(sum by (case) (rate(app_requests_total{{case="{case}", status="error"}}[{window}])) / '
            f'sum by (case) (rate(app_requests_total{{case="{case}"}}[{window}])))')


@dataclass(frozen=True)
class TierResult:
    severity: str
    long_window: str
    short_window: str
    burn: str
    derived: bool
    interval: int
    formula_s: dict[str, float | None]  # by case
    first_fire_s: dict[str, float | None]  # measured, seconds after the errors started
    naive_fire_s: dict[str, float | None]
    short_agrees_s: dict[str, float | None]
    resolved_after_s: float | None  # recovery case: last firing + 1 interval - end of outage
    spike_fired: bool


@dataclass(frozen=True)
class Quality:
    slo: SLOPlan
    tiers: list[TierResult]
    equivalence: dict[str, tuple[float, int]]  # derived window -> (max relative difference to naive, interval)


def _first(samples: list[Sample]) -> float | None:
    return samples[0].value if samples else None


def compile_rules(workdir: Path) -> tuple[SLOPlan, Path]:
    (workdir / "catalog.yaml").write_text(yaml.safe_dump(CATALOG, sort_keys=False), encoding="utf-8")
    (workdir / "quality.yaml").write_text(yaml.safe_dump(SPEC, sort_keys=False), encoding="utf-8")
    plan = build_plan(load_project([workdir / "quality.yaml"], workdir / "catalog.yaml"))
    rules = workdir / "quality.rules.yaml"
    rules.write_text(next(iter(prometheus_rules.render(plan).values())), encoding="utf-8")
    return plan.services[0].slos[0], rules


def measure_run(workdir: Path, slo: SLOPlan, rules: Path, run: Run) -> tuple[list[TierResult], dict]:
    budget = slo.error_budget
    start = run.history * MINUTE
    end_min = run.history + run.after
    step = f"{run.interval // MINUTE}m"
    span = f"{run.after + 10}m"  # subquery range: from just before the errors start to the end
    tiers = [t for t in slo.tiers if t.severity == run.severity]
    exprs: dict[tuple, str] = {}
    alerts = 'ALERTS{{alertname="SLOErrorBudgetBurn", alertstate="firing", case="{case}", long_window="{w}"}}'
    for t in tiers:
        f, long_w, short_w = t.burn_factor, t.tier.long_window, t.tier.short_window
        for case in [*RATES, SPIKE[0], OUTAGE[0]]:
            sel = alerts.format(case=case, w=long_w)
            exprs[("first", long_w, case)] = f"min_over_time(timestamp({sel})[{span}:{step}])"
            exprs[("last", long_w, case)] = f"max_over_time(timestamp({sel})[{span}:{step}])"
        for case in RATES:
            exprs[("naive", long_w, case)] = (
                f"min_over_time(timestamp(({_naive_ratio(long_w, case)} / {budget} > {f}) and "
                f"({_naive_ratio(short_w, case)} / {budget} > {f}))[{span}:{step}])")
            exprs[("short", long_w, case)] = (
                f'min_over_time(timestamp(slo:burn_rate:rate{short_w}{{case="{case}"}} > {f})[{span}:{step}])')
    windows = {w for t in tiers for w in (t.tier.long_window,) if not uses_raw_counters(t.tier.long_s)}
    for w in sorted(windows, key=duration_seconds):
        full = end_min - duration_seconds(w) // MINUTE - 10
        exprs[("equiv", w, "wave")] = (
            f'max_over_time((abs(max by (case) (slo:error_ratio:rate{w}{{case="wave"}}) - {_naive_ratio(w, "wave")}) / '
            f'{_naive_ratio(w, "wave")})[{full}m:{step}])')
    keys = list(exprs)
    got = measure(workdir, [rules], input_series(run), [exprs[k] for k in keys], f"{end_min}m",
                  interval=step, evaluation_interval=step)
    value = {k: _first(got[exprs[k]]) for k in keys}
    outage_end = OUTAGE[2] * MINUTE
    results = []
    for t in tiers:
        w = t.tier.long_window

        def since(kind: str, case: str) -> float | None:
            v = value.get((kind, w, case))
            return None if v is None else v - start

        last = since("last", OUTAGE[0])
        results.append(TierResult(
            severity=t.severity, long_window=w, short_window=t.tier.short_window, burn=number(t.burn_factor),
            derived=not uses_raw_counters(t.tier.long_s), interval=run.interval,
            formula_s={case: t.detection_seconds(rate) for case, rate in RATES.items()},
            first_fire_s={case: since("first", case) for case in RATES},
            naive_fire_s={case: since("naive", case) for case in RATES},
            short_agrees_s={case: since("short", case) for case in RATES},
            resolved_after_s=None if last is None else last + run.interval - outage_end,
            spike_fired=value.get(("first", w, SPIKE[0])) is not None,
        ))
    equivalence = {k[1]: (value[k] if value[k] is not None else math.nan, run.interval)
                   for k in keys if k[0] == "equiv"}
    return results, equivalence


def run(workdir: Path) -> Quality:
    slo, rules = compile_rules(workdir)
    tiers: list[TierResult] = []
    equivalence: dict[str, tuple[float, int]] = {}
    for r in RUNS:
        t, e = measure_run(workdir, slo, rules, r)
        tiers += t
        equivalence.update(e)
    return Quality(slo, tiers, equivalence)


# --------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------


def minutes(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    if seconds >= 3600:
        return f"{seconds / 3600:.2f} h"
    return f"{seconds / 60:.2f} min"


def lag_bound_s(interval: int) -> float:
    """What the test allows a derived-window tier to lag its naive twin: half the base window plus 2 intervals."""
    return BASE_WINDOW / 2 + 2 * interval


def table(q: Quality) -> str:
    rates = list(RATES)
    lines = ["| tier | windows | burn | interval | error rate | formula | measured | naive rules | measured - naive |",
             "|---|---|---|---|---|---|---|---|---|"]
    for t in q.tiers:
        kind = "derived" if t.derived else "raw"
        for case in rates:
            measured, naive = t.first_fire_s[case], t.naive_fire_s[case]
            diff = "" if measured is None or naive is None else f"{(measured - naive) / 60:+.0f} min"
            lines.append(f"| {t.severity} {t.long_window} | {t.long_window} ({kind}) / {t.short_window} | {t.burn} "
                         f"| {t.interval // 60}m | {_pct(RATES[case])} | {minutes(t.formula_s[case])} | {minutes(measured)} "
                         f"| {minutes(naive)} | {diff} |")
    return "\n".join(lines)


def _pct(x: float) -> str:
    return f"{Decimal(str(x)) * 100:f}".rstrip("0").rstrip(".") + "%"


def summary(q: Quality) -> str:
    lines = ["| severity | error rate | first alert (measured) | tier |", "|---|---|---|---|"]
    for severity in ("page", "ticket"):
        for case, rate in RATES.items():
            fired = [(t.first_fire_s[case], t.long_window) for t in q.tiers
                     if t.severity == severity and t.first_fire_s[case] is not None]
            if fired:
                s, w = min(fired)
                lines.append(f"| {severity} | {_pct(rate)} | {minutes(s)} | {w} |")
            else:
                lines.append(f"| {severity} | {_pct(rate)} | never | |")
    return "\n".join(lines)


def recovery(q: Quality) -> str:
    lines = ["| tier | short window | interval | resolved after the outage ended (measured) |", "|---|---|---|---|"]
    for t in q.tiers:
        lines.append(f"| {t.severity} {t.long_window} | {t.short_window} | {t.interval // 60}m "
                     f"| {minutes(t.resolved_after_s)} |")
    return "\n".join(lines)


def equivalence(q: Quality) -> str:
    lines = ["| window | evaluation interval | largest relative difference, derived vs naive error ratio |",
             "|---|---|---|"]
    lines += [f"| {w} | {i // 60}m | {v * 100:.3f}% |" for w, (v, i) in q.equivalence.items()]
    return "\n".join(lines)


def derived_lags(q: Quality, interval: int = MINUTE) -> list[float]:
    return [t.first_fire_s[c] - t.naive_fire_s[c] for t in q.tiers if t.derived and t.interval == interval
            for c in RATES if t.first_fire_s[c] is not None and t.naive_fire_s[c] is not None]


def document(q: Quality) -> str:
    lags = derived_lags(q, MINUTE)
    lag_text = (f"{minutes(min(lags))} to {minutes(max(lags))}" if lags and min(lags) != max(lags)
                else minutes(lags[0]) if lags else "n/a")
    spike = ("no alert of any tier fired" if not any(t.spike_fired for t in q.tiers) else
             "alerts fired: " + ", ".join(f"{t.severity} {t.long_window}" for t in q.tiers if t.spike_fired))
    page, ticket = RUNS
    return f"""# Alert quality, as measured

<!-- Generated by `python -m tests.rules.quality --write` from promtool runs; tests/rules/test_alert_quality.py
     fails when this file differs from a fresh measurement. Do not edit by hand. -->

What slokit's burn-rate alerts promise, measured rather than assumed. A **99.9% / 30d** SLO with the default
tiers (the SRE workbook's multiwindow, multi-burn-rate alerts) is compiled by `slokit generate` and run in
`promtool test rules` on synthetic traffic: clean traffic until every window of the tiers measured is full,
then a constant error rate from minute zero. Page tiers are measured at a **{page.interval // 60}m** evaluation
interval after {page.history // 60}h of clean traffic; ticket tiers need three days of clean history (their 3d
window), which promtool would take minutes to evaluate every minute, so they are measured at a
**{ticket.interval // 60}m** interval.

"Formula" is the workbook's detection time, burn factor x (1 - objective) x window / error rate, for the long
and the short window, whichever is later. "Measured" is the first evaluation at which promtool reported the
alert firing, counted from the start of the errors; "naive rules" is the same condition written over the raw
counters (`rate(x[6h])` instead of slokit's averaged 5m rates), measured on the same data.

## When each severity first fires

{summary(q)}

## Every tier

{table(q)}

Tiers whose windows are both at most 2h read the raw counters and fire exactly when the naive rules do, at most
one evaluation interval after the formula. Tiers with a long window over 2h read `avg_over_time` of the
recorded 5m rate. At a 1m evaluation interval they fire {lag_text} after the naive rules: the averaging lag of
a 5m rate, which is centred (5m - interval) / 2 in the past (docs/alerting.md). At a 5m interval the average of
back-to-back 5m rates has no front lag; the window reaches 5m further back, which delays a slow burn by up to
one interval. The lag never moves the first page: whenever the derived 6h tier could page first (burn rates
between 6 and 14.4), its own detection time is at least 2.5 hours; at higher burn rates the raw 1h tier has
already paged.

## A short spike

One minute at 20% errors (0.46% of the 30-day budget): {spike}.

## Recovery

A 30-minute full outage, then clean traffic again. An alert resolves when its short window no longer sees the
errors:

{recovery(q)}

## Cheap long windows against naive ones

The `wave` case changes its traffic (400 to 800 requests/min) and its error ratio (0.05% to 0.2%) every hour.
Once a window is full, slokit's derived error ratio (the ratio of the averaged recorded 5m rates) against
`sum(rate(bad[W])) / sum(rate(total[W]))` over the raw counters:

{equivalence(q)}
"""


# Sections after this line are measured by other tests (each names its own) and kept by hand: the comparison
# with a fresh measurement stops here, and --write keeps them.
HAND_KEPT = "<!-- Sections below are measured by the tests they name, not by tests.rules.quality; --write keeps them. -->"


def generated_part(text: str) -> str:
    return text.split("\n" + HAND_KEPT, 1)[0]


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        text = document(run(Path(tmp)))
    if "--write" in argv:
        old = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
        DOC.write_text(text + old[len(generated_part(old)):], encoding="utf-8")
        print(f"wrote {DOC.relative_to(REPO)}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
