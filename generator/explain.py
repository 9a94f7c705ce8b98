"""`slokit explain`: what each SLO's alerts promise, in plain numbers.

Everything printed is read from the plan (windows, burn factors, thresholds,
detection times); nothing is recomputed here. Users cannot tune what they
cannot see.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from slokit.plan import BudgetPlan, ProjectPlan, ServicePlan, SLOPlan, TierPlan
from slokit.promql import number
from slokit.windows import BASE_WINDOW, format_duration, uses_raw_counters
from slokit.model import duration_seconds

ERROR_RATES = (1.0, 0.1, 0.01)


def human_duration(seconds: float | None) -> str:
    """52s, 4m19s, 14h24m; `never` for None."""
    if seconds is None:
        return "never"
    s = int(round(seconds))
    if s <= 0:
        return "0s"
    if s >= 3600:  # seconds are noise at this scale
        s = int(round(s / 60)) * 60
    return format_duration(s)


def percent(ratio: Decimal | float) -> str:
    """0.072 -> 7.2%, 0.00144 -> 0.144%."""
    value = Decimal(str(ratio)) * 100
    return f"{number(Decimal(format(value, '.4g')))}%"


def one_in(ratio: Decimal) -> str:
    """0.005 -> `1 in 200`."""
    n = 1 / ratio
    return f"1 in {number(n.quantize(Decimal(1)) if n >= 10 else Decimal(format(n, '.3g')))}"


def outage_seconds(slo: SLOPlan) -> float:
    """How long a full outage takes to spend the whole error budget."""
    return float(slo.error_budget) * slo.window_s


def sli_text(slo: SLOPlan) -> str:
    sli = slo.sli
    if sli.kind == "threshold":
        unit = f" {sli.unit}" if sli.unit else ""
        return f"threshold SLI: good when {', '.join(sli.metrics)} {sli.threshold}{unit}"
    counted = "bad" if sli.events == "bad" else "good"
    return f"{sli.kind} SLI on {', '.join(sli.metrics)} ({counted} events / all events)"


def window_text(slo: SLOPlan) -> str:
    raw = [w for w in slo.windows if uses_raw_counters(duration_seconds(w))]
    derived = [w for w in slo.windows if not uses_raw_counters(duration_seconds(w))]
    text = f"{' '.join(raw)} from the raw counters"
    if derived:
        text += f"; {' '.join(derived)} averaged from the recorded {format_duration(BASE_WINDOW)} rates"
    return text


@dataclass(frozen=True)
class TierRow:
    severity: str
    enabled: bool
    budget_percent: str
    long_window: str
    short_window: str
    burn_factor: str
    error_ratio: str
    detection: tuple[str, ...]  # at ERROR_RATES


def tier_row(t: TierPlan) -> TierRow:
    return TierRow(t.severity, t.enabled, f"{number(t.tier.budget_percent)}%", t.tier.long_window,
                   t.tier.short_window, number(t.burn_factor), percent(t.error_ratio_threshold),
                   tuple(human_duration(t.detection_seconds(e)) for e in ERROR_RATES))


def _table(header: list[str], rows: list[list[str]], indent: str) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return [indent + fmt.format(*header).rstrip()] + [indent + fmt.format(*r).rstrip() for r in rows]


def explain_slo(slo: SLOPlan) -> list[str]:
    lines = [f"{slo.service}/{slo.name}" + (f": {slo.description}" if slo.description else "")]
    lines.append(f"  objective {number(slo.objective)}% over {slo.window}; {sli_text(slo)}")
    lines.append(f"  error budget: {percent(slo.error_budget)} of events ({one_in(slo.error_budget)}), "
                 f"counted by occurrence; a full outage spends it in {human_duration(outage_seconds(slo))}")
    lines += [f"  {line}" for line in slo.sli.selections]
    if slo.group_by:
        lines.append(f"  one budget and one alert per {', '.join(slo.group_by)}")
    lines.append(f"  recorded windows: {window_text(slo)}")
    guard = (f"; silent below {number(slo.min_events_per_hour)} events/h on the long window"
             if slo.min_events_per_hour else "")
    lines.append(f"  alerts fire when the burn rate exceeds the factor on both windows{guard}:")
    header = ["severity", "budget spent", "long", "short", "burn", "error ratio",
              *[f"at {percent(e)} errors" for e in ERROR_RATES]]
    rows = []
    for t in slo.tiers:
        r = tier_row(t)
        rows.append([r.severity + ("" if r.enabled else " (off)"), r.budget_percent, r.long_window,
                     r.short_window, r.burn_factor, r.error_ratio, *r.detection])
    lines += _table(header, rows, "    ")
    lines.append("    (detection from a clean start: burn factor x error budget x window / error ratio, "
                 "the later of the long and short window; a burn just above the factor takes the whole long "
                 "window)")
    enabled = [t for t in slo.tiers if t.enabled]
    if enabled:
        no_data = "ticket" if slo.ticket.enabled else "page"
        lines.append(f"  SLONoData ({no_data}) when no events are recorded for 10m")
        if slo.exhausted_alert:
            lines.append(f"  SLOErrorBudgetExhausted ({no_data}) while the error budget over {slo.window} is spent")
    else:
        lines.append("  no burn-rate alerts: page and ticket are both disabled")
    return lines


def explain_budget(b: BudgetPlan) -> list[str]:
    unit = f" {b.unit}" if b.unit else ""
    by = f" per {', '.join(b.by)}" if b.by else ""
    lines = [f"{b.service}/{b.name} (budget)" + (f": {b.description}" if b.description else "")]
    lines.append(f"  {b.metric} may increase by at most {number(b.limit)}{unit} per {b.window}{by}")
    per_hour = b.limit / Decimal(b.window_s) * 3600
    lines.append(f"  SLOBudgetProjectedOverrun when the last {b.long_window}'s rate, extrapolated over {b.window}, "
                 f"exceeds the limit and the last {b.short_window} agrees (over {number(Decimal(format(per_hour, '.4g')))}"
                 f"{unit}/h on both)" + ("" if b.route.enabled else " [disabled]"))
    lines.append(f"  SLOBudgetExhausted when the use over the last {b.window} is over {number(b.limit)}{unit}"
                 + ("" if b.route.enabled else " [disabled]"))
    if b.regression_factor is not None:
        lines.append(f"  SLOCostRegression when {b.metric} per event over 1h exceeds "
                     f"{number(b.regression_factor)}x its value {b.regression_offset} earlier, with at least "
                     f"{number(b.regression_min_events_per_hour or 0)} events/h, for 30m"
                     + ("" if b.route.enabled else " [disabled]"))
    return lines


class UnknownTarget(ValueError):
    pass


def select(plan: ProjectPlan, target: str | None) -> list[tuple[ServicePlan, list[SLOPlan], list[BudgetPlan]]]:
    """The services, SLOs and budgets a target (`SERVICE`, `SERVICE/SLO` or nothing) names."""
    if not target:
        return [(s, list(s.slos), list(s.budgets)) for s in plan.services]
    service_name, _, item = target.partition("/")
    services = {s.service: s for s in plan.services}
    if service_name not in services:
        raise UnknownTarget(f"no service {service_name!r}; services: {', '.join(sorted(services)) or 'none'}")
    service = services[service_name]
    if not item:
        return [(service, list(service.slos), list(service.budgets))]
    slos = [s for s in service.slos if s.name == item]
    budgets = [b for b in service.budgets if b.name == item]
    if not slos and not budgets:
        names = sorted([s.name for s in service.slos] + [b.name for b in service.budgets])
        raise UnknownTarget(f"service {service_name!r} has no SLO or budget {item!r}; it has: {', '.join(names)}")
    return [(service, slos, budgets)]


def explain(plan: ProjectPlan, target: str | None = None) -> str:
    blocks = []
    for _service, slos, budgets in select(plan, target):
        blocks += ["\n".join(explain_slo(s)) for s in slos]
        blocks += ["\n".join(explain_budget(b)) for b in budgets]
    return "\n\n".join(blocks) + "\n"
