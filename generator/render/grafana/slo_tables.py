"""Panels over many SLOs at once, from the recorded series alone.

The recorded SLO series are uniform across SLOs (same names, `service` and
`slo` labels, group labels), so one query covers every SLO a selection
matches: the panel count and the JSON size do not grow with the project.
The overview, the cost dashboard and large service dashboards use these;
per-SLO detail (thresholds, tiers, runbooks) stays on the service dashboard.

`Selection.groups` is every label the catalog defines, not the union of the
project's `group_by`s: `by (...)` clauses then keep whatever group labels a
series has, and adding a service never rewrites a shared query.
"""

from __future__ import annotations

from dataclasses import dataclass

from slokit import naming as N
from slokit.model import Catalog
from slokit.plan import ProjectPlan
from slokit.promql import Matcher, Selector, one_of
from slokit.render.grafana.dashboard_json import Link, Override, Panel, PromQuery, ValueText
from slokit.render.grafana.queries import label_replace
from slokit.render.grafana.slo_panels import (
    ALERT_NAME, ALERTS, AMBER, BUDGET_LOW, BURN_UNIT, FIRING, GREEN, ON_SLO, RED, STATUS_AT_RISK, STATUS_BREACHED,
    STATUS_OK, budget_steps,
)

STATUS_MAPPINGS = (ValueText(STATUS_OK, "OK", GREEN), ValueText(STATUS_AT_RISK, "AT RISK", AMBER),
                   ValueText(STATUS_BREACHED, "BREACHED", RED))
BURN_PREFIX = "slo:burn_rate:rate"
COST_PER_EVENT_PREFIX = "slo_budget:usage_per_event:ratio_rate"


@dataclass(frozen=True)
class Selection:
    """Which SLOs a panel covers (matchers on recorded series) and what its rows keep."""

    matchers: tuple[Matcher, ...]
    groups: tuple[str, ...]
    # Severity label values of page and ticket burn alerts (mapped words included).
    page: tuple[str, ...] = (N.SEVERITY_PAGE,)
    ticket: tuple[str, ...] = (N.SEVERITY_TICKET,)

    def of(self, record: str, *extra: Matcher) -> str:
        return Selector(record, self.matchers + extra).render()

    def narrowed(self, *extra: Matcher) -> "Selection":
        return Selection(self.matchers + extra, self.groups, self.page, self.ticket)

    @property
    def by(self) -> str:
        return ", ".join((N.LABEL_SERVICE, N.LABEL_SLO, *self.groups))


def catalog_groups(catalog: Catalog) -> tuple[str, ...]:
    return tuple(sorted(catalog.labels))


def severities(plan: ProjectPlan) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The severity words page and ticket alerts carry across the project (default: page, ticket)."""
    slos = [slo for s in plan.services for slo in s.slos]
    page = {N.SEVERITY_PAGE} | {slo.page.severity_value for slo in slos if slo.page.severity_value}
    ticket = {N.SEVERITY_TICKET} | {slo.ticket.severity_value for slo in slos if slo.ticket.severity_value}
    return tuple(sorted(page)), tuple(sorted(ticket))


def _alerts(sel: Selection, *extra: Matcher) -> str:
    # Burn and no-data alerts carry an `slo` label; budget alerts do not (they are not SLO rows).
    return sel.of(ALERTS, FIRING, Matcher(N.LABEL_SLO, "!=", ""), *extra)


def status_expr(sel: Selection) -> str:
    """0 ok, 1 at risk (budget under 25% or a ticket alert firing), 2 breached (budget gone or paging)."""
    remaining = sel.of(N.SLO_BUDGET_REMAINING)
    # The recorded exhausted flag (1 once the budget left is 0 or below) lifts "at risk" to "breached".
    parts = [label_replace(f"({remaining} < bool {BUDGET_LOW}) + {sel.of(N.SLO_BUDGET_EXHAUSTED)}", "part", "budget")]
    for name, words, weight in (("page", sel.page, STATUS_BREACHED), ("ticket", sel.ticket, STATUS_AT_RISK)):
        alerts = _alerts(sel, one_of(N.LABEL_SEVERITY, list(words)))
        parts.append(label_replace(f"{weight} * max by ({sel.by}) ({alerts})", "part", name))
    return f"max by ({sel.by}) (\n  " + "\nor\n  ".join(parts) + "\n)"


def firing_expr(sel: Selection) -> str:
    """Firing slokit alerts per SLO row; 0 (not a missing row) when none fire."""
    return f"count by ({sel.by}) ({_alerts(sel)})\nor\n0 * {sel.of(N.SLO_ERROR_RATIO_WINDOW)}"


def objective_expr(sel: Selection) -> str:
    return f"0 * {sel.of(N.SLO_ERROR_RATIO_WINDOW)}\n+ {ON_SLO} group_left ()\n{sel.of(N.SLO_OBJECTIVE)}"


def burn_expr(sel: Selection) -> str:
    """Every recorded burn-rate window of the selection, one series per window (label `window`)."""
    series = sel.of("", Matcher("__name__", "=~", f"{BURN_PREFIX}.+"))
    renamed = f'label_replace({series}, "window", "$1", "__name__", "{BURN_PREFIX}(.+)")'
    return f"max without () ({renamed})"


def _overrides(columns: tuple[tuple[str, str, int], ...]) -> tuple[Override, ...]:
    return tuple(Override("byName", f"Value #{chr(ord('A') + i)}",
                          (("displayName", name), ("unit", unit), ("decimals", decimals)))
                 for i, (name, unit, decimals) in enumerate(columns))


def _status_colours() -> Override:
    return Override("byName", "Value #A", (("custom.cellOptions", {"type": "color-background"}),
                                          ("mappings", [{"type": "value", "options": {
                                              str(m.value): {"text": m.text, "color": m.color, "index": i}
                                              for i, m in enumerate(STATUS_MAPPINGS)}}])))


def _budget_colours(ref: str) -> Override:
    return Override("byName", f"Value #{ref}", (("custom.cellOptions", {"type": "color-background"}),
                                                ("thresholds", {"mode": "absolute",
                                                                "steps": [{"color": s.color, "value": s.value}
                                                                          for s in budget_steps()]})))


def slo_table(sel: Selection, title: str, what: str, links: tuple[Link, ...] = (), height: int = 10,
              worst_first: bool = False) -> Panel:
    """One row per SLO (and group value): status, objective, SLI, budget left in three units, firing alerts."""
    queries = (status_expr(sel), objective_expr(sel), f"1 - {sel.of(N.SLO_ERROR_RATIO_WINDOW)}",
               sel.of(N.SLO_BUDGET_REMAINING), sel.of(N.SLO_BUDGET_REMAINING_EVENTS),
               sel.of(N.SLO_BUDGET_REMAINING_OUTAGE), firing_expr(sel))
    columns = (("Status", "none", 0), ("Objective", "percentunit", 3), ("SLI over window", "percentunit", 3),
               ("Budget left", "percentunit", 1), ("Bad events still allowed", "short", 0),
               ("Full outage allowed", "s", 0), ("Firing alerts", "none", 0))
    return Panel(
        "table", title,
        f"{what} Per SLO (and group value): status (OK; AT RISK under {int(BUDGET_LOW * 100)}% of the error "
        "budget left or a ticket firing; BREACHED when the budget is gone or a page fires), objective, SLI over "
        "the SLO's own window, share of the error budget left, the bad events it still allows, how long a full "
        "outage could last before it is gone, and the slokit alerts firing. Sort by a column to triage.",
        unit="none", width=24, height=height, queries=tuple(PromQuery(q, instant=True, table=True) for q in queries),
        merge=True, overrides=_overrides(columns) + (_status_colours(), _budget_colours("D")), links=links,
        sort_by=(("Status", True),) if worst_first else ())


def status_count_panel(sel: Selection, status: int, title: str, colour: str, text: str) -> Panel:
    from slokit.render.grafana.dashboard_json import Step

    return Panel("stat", title, text, unit="none", width=6, height=4, color_background=True,
                 steps=(Step(None, colour),),
                 queries=(PromQuery(f"count(\n{status_expr(sel)}\n== {status})\nor vector(0)", title, instant=True),))


def burn_table(sel: Selection, title: str, links: tuple[Link, ...] = ()) -> Panel:
    return Panel(
        "table", title,
        "Burn rate (error ratio / error budget; 1 spends the budget exactly over the SLO window) over every "
        "recorded window, one row per SLO, group value and window. The alert thresholds of each tier are drawn "
        "on the service dashboard's burn-rate panels; an alert fires when both windows of a tier exceed its "
        "threshold.",
        unit=BURN_UNIT, decimals=2, width=24, height=8, links=links,
        queries=(PromQuery(burn_expr(sel), instant=True, table=True),),
        overrides=(Override("byName", "Value", (("displayName", "Burn rate"),)),))


def burn_timeseries(sel: Selection, legend: str) -> Panel:
    return Panel(
        "timeseries", "Burn rate by window",
        "Burn rate over every recorded window of the SLO (1 spends the budget exactly over the SLO window). "
        "The service's alert tiers fire when a tier's long and short windows both exceed its factor.",
        unit=BURN_UNIT, width=12, height=7, min=0, queries=(PromQuery(burn_expr(sel), legend),))


# -- budgets (spend and token limits) ------------------------------------------


def budget_table(matchers: tuple[Matcher, ...], title: str, what: str) -> Panel:
    def of(record: str) -> str:
        if record == N.BUDGET_LIMIT:  # recorded per budget, without its `by` labels
            return Selector(record, tuple(m for m in matchers if m.label == N.LABEL_SERVICE)).render()
        return Selector(record, matchers).render()

    projected_share = f"{of(N.BUDGET_PROJECTED)}\n/ on ({N.LABEL_SERVICE}, {N.LABEL_BUDGET}) group_left ()\n" \
                      f"{of(N.BUDGET_LIMIT)}"
    queries = (f"1 - {of(N.BUDGET_REMAINING)}", projected_share, of(N.BUDGET_USED_WINDOW), of(N.BUDGET_PROJECTED),
               f"0 * {of(N.BUDGET_USED_WINDOW)}\n+ on ({N.LABEL_SERVICE}, {N.LABEL_BUDGET}) group_left ()\n"
               f"{of(N.BUDGET_LIMIT)}")
    columns = (("Used", "percentunit", 1), ("Projected", "percentunit", 1), ("Used (budget unit)", "short", 0),
               ("Projected (budget unit)", "short", 0), ("Limit", "short", 0))
    return Panel(
        "table", title,
        f"{what} One row per budget (and per value of its `by` labels): the share of the limit used over the "
        "budget's window and the share projected at the recent rate, the same in the budget's unit (dollars or "
        "tokens), and the limit. Over 100% projected: the projected-overrun alert is due.",
        unit="none", width=24, height=8, queries=tuple(PromQuery(q, instant=True, table=True) for q in queries),
        merge=True, overrides=_overrides(columns))


def budget_used_timeseries(matchers: tuple[Matcher, ...]) -> Panel:
    return Panel(
        "timeseries", "Budget used, share of the limit",
        "Share of each budget's limit used over its rolling window. A line heading for 100% is a budget "
        "about to overrun; open its service dashboard for the used and projected amounts.",
        unit="percentunit", width=12, height=7,
        queries=(PromQuery(f"1 - {Selector(N.BUDGET_REMAINING, matchers).render()}", "{{service}}/{{budget}}"),))


def cost_per_event_timeseries(matchers: tuple[Matcher, ...]) -> Panel:
    series = Selector("", matchers + (Matcher("__name__", "=~", f"{COST_PER_EVENT_PREFIX}.+"),)).render()
    return Panel(
        "timeseries", "Usage per event, budgets with a regression check",
        "Spend or tokens per event of every budget with a cost-regression check. A step up after a prompt or "
        "model change is a regression; each service dashboard draws the alert line next to it.",
        unit="short", decimals=4, width=12, height=7,
        queries=(PromQuery(f"max without () ({series})", "{{service}}/{{budget}}"),))
