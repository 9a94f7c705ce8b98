"""SLO and budget panels, read from the recording rules the plan defines.

The SLI and budget over the SLO window come from `slo:*:slo_window` and
`slo:error_budget_remaining:ratio` (recorded from the base rates), never from
long subqueries such as `[30d:1h]`, which break Mimir/Thanos query-length
limits. Burn-rate panels draw each enabled tier's burn factor as a threshold
line, so a line crossing it is the alert condition.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

from slokit import naming as N
from slokit.plan import SLOPlan
from slokit.promql import Matcher, equals, number, one_of, regex_escape
from slokit.render.grafana.dashboard_json import Link, Override, Panel, PromQuery, Step
from slokit.render.grafana.queries import Filters, label_replace, legend, service_matcher

# Display thresholds (colours only; alerting is the rules' business).
BUDGET_LOW = 0.25
GREEN, AMBER, RED, BLUE = "green", "orange", "red", "blue"
BURN_UNIT = "suffix:x"
# Prometheus' own series of pending and firing alerts.
ALERTS = "ALERTS"
ALERT_NAME = "alertname"
FIRING = Matcher("alertstate", "=", "firing")
# Status values of the traffic light.
STATUS_OK, STATUS_AT_RISK, STATUS_BREACHED = 0, 1, 2


@dataclass(frozen=True)
class SeriesOf:
    """How a panel selects recorded SLO series: per group value, and per SLO
    (objective, budget and window are recorded without group labels)."""

    grouped: Callable[[str], str]
    constant: Callable[[str], str]
    group_by: tuple[str, ...]


def of_slo(slo: SLOPlan, filters: Filters) -> SeriesOf:
    return SeriesOf(lambda r: filters.slo(slo, r), lambda r: filters.slo_constant(slo, r), slo.group_by)


def of_service(service: str, slos: tuple[SLOPlan, ...], filters: Filters) -> SeriesOf:
    """Every SLO of a service at once (the recorded series are uniform across SLOs)."""
    identity = (service_matcher(service),)
    groups = _group_labels(slos)
    return SeriesOf(lambda r: filters.recorded(r, identity, groups), lambda r: filters.recorded(r, identity, ()),
                    groups)


def sli_word(slo: SLOPlan) -> str:
    return f"{number(slo.objective)}% over {slo.window}"


def group_legend(slo: SLOPlan, prefix: str = "") -> str:
    return legend(*slo.group_by, prefix=prefix) or prefix or slo.name


def _group_note(slo: SLOPlan, filters: Filters) -> str:
    if slo.group_by:
        applied = [g for g in slo.group_by if g in filters.variables]
        note = f" One series per value of {', '.join(slo.group_by)}"
        return note + (f", filtered by the {', '.join(applied)} variable." if applied else ".")
    if filters.variables:
        return (" The SLO aggregates the whole service, so the "
                f"{' and '.join(filters.variables)} variables do not narrow it.")
    return ""


def short_window(slo: SLOPlan) -> str:
    """The window for the 'right now' SLI line: 1h when recorded, else the shortest."""
    return "1h" if "1h" in slo.windows else slo.windows[0]


ON_SLO = f"on ({N.LABEL_SERVICE}, {N.LABEL_SLO})"


def sli_expr(s: SeriesOf, window: str | None = None) -> str:
    record = N.SLO_ERROR_RATIO_WINDOW if window is None else N.slo_error_ratio(window)
    return f"1 - {s.grouped(record)}"


def objective_expr(s: SeriesOf) -> str:
    """The objective, repeated for every group value (so a table joins it row by row)."""
    return f"0 * {s.grouped(N.SLO_ERROR_RATIO_WINDOW)}\n+ {ON_SLO} group_left ()\n{s.constant(N.SLO_OBJECTIVE)}"


def budget_events_left_expr(s: SeriesOf) -> str:
    """Bad events the rest of the budget allows over the window (recorded by the plan)."""
    return s.grouped(N.SLO_BUDGET_REMAINING_EVENTS)


def budget_time_left_expr(s: SeriesOf) -> str:
    """How long a full outage could last before the budget is gone (recorded by the plan)."""
    return s.grouped(N.SLO_BUDGET_REMAINING_OUTAGE)


def runbook_links(slo: SLOPlan) -> tuple[Link, ...]:
    """The alerts' runbooks, when they are web pages (the default is a path in the repository)."""
    urls = dict.fromkeys(r.runbook_url for r in (slo.page, slo.ticket)
                         if r.enabled and r.runbook_url.startswith(("http://", "https://")))
    return tuple(Link(f"Runbook: {slo.name}", url, new_tab=True) for url in urls)


def objective_steps(slo: SLOPlan) -> tuple[Step, ...]:
    return (Step(None, RED), Step(float(slo.objective_ratio), GREEN))


def budget_steps() -> tuple[Step, ...]:
    return (Step(None, RED), Step(0.0, AMBER), Step(BUDGET_LOW, GREEN))


def burn_steps(slo: SLOPlan) -> tuple[Step, ...]:
    """One step per enabled tier factor: ticket tiers amber, page tiers red."""
    colours: dict[Decimal, str] = {}
    for t in slo.tiers:
        if t.enabled:
            colour = RED if t.severity == N.SEVERITY_PAGE else AMBER
            colours[t.burn_factor] = RED if colours.get(t.burn_factor) == RED else colour
    return (Step(None, GREEN),) + tuple(Step(float(f), colours[f]) for f in sorted(colours))


def tiers_text(slo: SLOPlan) -> str:
    parts = []
    for t in slo.tiers:
        state = "" if t.enabled else " (disabled)"
        parts.append(f"{t.severity}{state} when the burn rate over {t.tier.long_window} and over "
                     f"{t.tier.short_window} both exceed {number(t.burn_factor)}x "
                     f"({number(t.tier.budget_percent)}% of the budget in {t.tier.long_window})")
    return "; ".join(parts)


# --------------------------------------------------------------------------
# Service dashboard: one group of panels per SLO
# --------------------------------------------------------------------------


def slo_panels(slo: SLOPlan, filters: Filters) -> tuple[Panel, ...]:
    group = _group_note(slo, filters)
    series = of_slo(slo, filters)
    what = slo.description or slo.name
    sli_kind = f"SLI ({slo.sli.kind}, {slo.sli.events} events counted"
    sli_kind += f", threshold {slo.sli.threshold} {slo.sli.unit})" if slo.sli.threshold else ")"
    panels = [
        Panel("stat", f"{slo.name}: SLI over {slo.window}",
              f"{what} Share of good events over the last {slo.window} against the objective of "
              f"{number(slo.objective)}%: red means the objective is missed. {sli_kind}.{group} "
              "If red: open the burn-rate panel to see when the budget went, then the latency and error "
              "panels below.",
              unit="percentunit", decimals=3, width=6, height=6, steps=objective_steps(slo),
              queries=(PromQuery(sli_expr(series), group_legend(slo, "SLI"), instant=True),),
              color_background=True, links=runbook_links(slo), key=N.slo_panel_key(slo.name)),
        Panel("stat", f"{slo.name}: error budget left",
              f"Share of the error budget ({number(slo.error_budget * 100)}% of events over {slo.window}) not "
              "yet spent; the bad events still allowed; and how long a full outage could last before the "
              f"budget is gone. Amber under {int(BUDGET_LOW * 100)}%, red when exhausted: freeze risky "
              f"changes (prompts, models, deploys) until it recovers.{group}",
              unit="percentunit", decimals=1, width=6, height=6, steps=budget_steps(),
              queries=(PromQuery(filters.slo(slo, N.SLO_BUDGET_REMAINING), group_legend(slo, "left"), instant=True),
                       PromQuery(budget_events_left_expr(series), group_legend(slo, "events left"),
                                 instant=True),
                       PromQuery(budget_time_left_expr(series), group_legend(slo, "full outage"),
                                 instant=True)),
              overrides=(Override("byFrameRefID", "B", (("unit", "short"), ("decimals", 0))),
                         Override("byFrameRefID", "C", (("unit", "s"), ("decimals", 0)))),
              color_background=True),
        Panel("timeseries", f"{slo.name}: SLI vs objective",
              f"SLI over the rolling {slo.window} window and over the last {short_window(slo)}, with the "
              f"objective ({number(slo.objective)}%) as the threshold line. A short-window dip that stays "
              f"above the line costs little; a {slo.window} line near the objective means no budget is left."
              f"{group}",
              unit="percentunit", decimals=3, width=12, height=6, steps=objective_steps(slo),
              threshold_style="dashed",
              queries=(PromQuery(sli_expr(series), group_legend(slo, f"{slo.window}")),
                       PromQuery(sli_expr(series, short_window(slo)),
                                 group_legend(slo, short_window(slo))))),
        Panel("timeseries", f"{slo.name}: error budget burn-down",
              f"Error budget left over the rolling {slo.window} window (100% = untouched, 0 = exhausted). "
              f"A steep fall is an incident; a steady slope that would reach 0 before the window ends is a "
              f"ticket-worthy trend.{group}",
              unit="percentunit", width=12, height=7, steps=budget_steps(), threshold_style="dashed",
              queries=(PromQuery(filters.slo(slo, N.SLO_BUDGET_REMAINING), group_legend(slo, "left")),)),
        Panel("timeseries", f"{slo.name}: burn rate by alert window",
              f"Burn rate (error ratio / error budget; 1 spends the budget exactly over {slo.window}) over each "
              f"alert window. Dashed lines are the alert thresholds: {tiers_text(slo)}. If a long-window line "
              f"is above its threshold and the short one too, the alert fires; check the runbook.{group}",
              unit=BURN_UNIT, width=12, height=7, steps=burn_steps(slo), threshold_style="dashed", min=0,
              soft_max=float(max((t.burn_factor for t in slo.tiers), default=Decimal(1))) * 1.2,
              queries=tuple(PromQuery(filters.slo(slo, N.slo_burn_rate(w)), group_legend(slo, w))
                            for w in slo.alert_windows)),
    ]
    if slo.group_by:
        panels.append(group_table(slo, filters))
    return tuple(panels)


def group_table(slo: SLOPlan, filters: Filters) -> Panel:
    """One row per group value: SLI, budget left and the burn rate over each tier's long window."""
    queries = [PromQuery(sli_expr(of_slo(slo, filters)), instant=True, table=True),
               PromQuery(filters.slo(slo, N.SLO_BUDGET_REMAINING), instant=True, table=True)]
    overrides = [Override("byName", "Value #A", (("displayName", f"SLI ({slo.window})"), ("unit", "percentunit"),
                                                 ("decimals", 3))),
                 Override("byName", "Value #B", (("displayName", "Budget left"), ("unit", "percentunit"),
                                                 ("decimals", 1)))]
    long_windows = list(dict.fromkeys(t.tier.long_window for t in slo.tiers))
    for i, w in enumerate(long_windows):
        ref = chr(ord("C") + i)
        queries.append(PromQuery(filters.slo(slo, N.slo_burn_rate(w)), instant=True, table=True))
        overrides.append(Override("byName", f"Value #{ref}", (("displayName", f"Burn {w}"), ("unit", BURN_UNIT),
                                                             ("decimals", 2))))
    return Panel("table", f"{slo.name}: per {', '.join(slo.group_by)}",
                 f"One row per {', '.join(slo.group_by)} value, so one bad value is never averaged away by the "
                 f"others: SLI over {slo.window}, error budget left, and the burn rate over each alert's long "
                 "window. Sort by budget left to find the value that needs attention.",
                 unit="none", width=24, height=6, queries=tuple(queries), merge=True,
                 hide_columns=(N.LABEL_SERVICE, N.LABEL_SLO), overrides=tuple(overrides))


# --------------------------------------------------------------------------
# Overview: all SLOs of a service at a glance
# --------------------------------------------------------------------------


def _group_labels(slos: tuple[SLOPlan, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(g for s in slos for g in s.group_by))


def status_expr(service: str, slos: tuple[SLOPlan, ...], filters: Filters) -> str:
    """0 ok, 1 at risk (budget under 25% or a ticket alert firing), 2 breached (budget gone or paging).

    Each part gets a `part` label so `or` keeps them all; max picks the worst.
    """
    groups = _group_labels(slos)
    by = ", ".join((N.LABEL_SERVICE, N.LABEL_SLO, *groups))
    identity = (service_matcher(service),)
    remaining = filters.recorded(N.SLO_BUDGET_REMAINING, identity, groups)
    exhausted = filters.recorded(N.SLO_BUDGET_EXHAUSTED, identity, groups)
    parts = [label_replace(f"({remaining} < bool {BUDGET_LOW}) + {exhausted}", "part", "budget")]
    for severity, weight in ((N.SEVERITY_PAGE, STATUS_BREACHED), (N.SEVERITY_TICKET, STATUS_AT_RISK)):
        # Alert names and severity words are the SLOs' own (renamed for existing routes).
        routes = [s.page if severity == N.SEVERITY_PAGE else s.ticket for s in slos]
        alerts = filters.recorded(ALERTS, identity + (
            one_of(ALERT_NAME, sorted({r.alert_name for r in routes})), FIRING,
            one_of(N.LABEL_SEVERITY, sorted({r.severity_value for r in routes}))), groups)
        parts.append(label_replace(f"{weight} * max by ({by}) ({alerts})", "part", severity))
    return f"max by ({by}) (\n  " + "\nor\n  ".join(parts) + "\n)"


def firing_expr(service: str, slos: tuple[SLOPlan, ...], filters: Filters) -> str:
    """Firing slokit alerts per SLO; 0 (not a missing row) when none fire."""
    groups = _group_labels(slos)
    identity = (service_matcher(service),)
    # Budget alerts (SLOBudgetProjectedOverrun, SLOCostRegression) carry no slo label: not SLO rows.
    renamed = sorted({r.alert_name for s in slos for r in (s.page, s.ticket)} - {N.ALERT_BURN})
    names = "|".join(["SLO.*", *(regex_escape(n) for n in renamed)])
    alerts = filters.recorded(ALERTS, identity + (Matcher(ALERT_NAME, "=~", names), FIRING,
                                                  Matcher(N.LABEL_SLO, "!=", "")), groups)
    ratio = filters.recorded(N.SLO_ERROR_RATIO_WINDOW, identity, groups)
    return f"count by ({', '.join((N.LABEL_SERVICE, N.LABEL_SLO, *groups))}) ({alerts})\nor\n0 * {ratio}"


def burn_table_expr(slo: SLOPlan, filters: Filters, threshold: bool) -> str:
    """Burn rate (or its alert threshold) per tier and window, as rows labelled `alert` and `window`."""
    parts = []
    for t in slo.tiers:
        name = f"{t.severity} {number(t.burn_factor)}x{'' if t.enabled else ' (off)'}"
        for w in (t.tier.long_window, t.tier.short_window):
            series = filters.slo(slo, N.slo_burn_rate(w))
            expr = f"0 * {series} + {number(t.burn_factor)}" if threshold else series
            parts.append(label_replace(label_replace(expr, "alert", name), "window", w))
    return "\nor\n".join(parts)
