"""Runbooks: docs/runbooks/<service>.md, one section per SLO and budget.

Alerts link here (`runbook_url` defaults to docs/runbooks/<service>.md#<slo>),
so each section is anchored by the SLO name (GitHub turns the heading
`## api-success` into `#api-success`) and budgets by `budget-<name>`. A section
says what the SLO measures, which alerts it has and when they fire, the first
things to check, PromQL to paste into Prometheus, and the dashboard link.
"""

from __future__ import annotations

from slokit import naming as N
from slokit.explain import ERROR_RATES, human_duration, one_in, percent, sli_text, tier_row, window_text
from slokit.model import Catalog
from slokit.plan import NO_DATA_FOR, BudgetPlan, ProjectPlan, ServicePlan, SLOPlan
from slokit.escape import markdown_code, markdown_fence, markdown_text, markdown_url
from slokit.promql import number
from slokit.render.common import header_lines

# First checks by what an SLI measures (DOMAIN.md, incidents and runbooks).
FIVE_QUESTIONS = [
    "What deployed in the last 24h: code, prompt template, model, infrastructure?",
    "Did the input distribution change (input length, language, a new tenant or feature)?",
    "Is the provider healthy (its status page; 5xx, 429 and timeouts by provider and model)?",
    "Is it one feature, tenant, model or segment, or everything?",
    "Can it be replayed: find a failing trace from the dashboard's exemplars.",
]
CHECKS = {
    "latency": [
        "Which of TTFT, time per output token and total latency moved? Compare them on the dashboard.",
        "Slice by model (a provider problem) and by feature (a prompt or input change).",
        "A falling decode rate (llm_decode_tokens_per_second) means the provider is slow: fail over to the "
        "secondary model or roll back the change.",
    ],
    "errors": [
        "5xx or timeouts clustered on one provider: a provider outage. Let the circuit breaker fail over to "
        "the secondary, communicate, and review the SLO impact.",
        "429s: a quota problem (provider quota gauges, retries); client errors after a deploy: roll it back.",
    ],
    "cost": [
        "Top features and prompt versions by cost against last week's baseline.",
        "Big inputs or rambling outputs (token histograms); stuck agent loops (cumulative tokens per "
        "conversation, in traces).",
        "Revert the prompt, cap input size, add loop guards.",
    ],
    "quality": [
        "Slice the failures by feature, prompt version, served model and input segment.",
        "Refusals across every feature point at provider policy; one feature at an input shift: read samples.",
        "Roll back the prompt or pin the model.",
    ],
    "retrieval": [
        "Slice by connector: one connector empty or failing points at its index or freshness.",
        "Check retrieval latency and the connector's last successful sync.",
    ],
    "tools": [
        "Slice by tool: invalid arguments follow a prompt or tool-schema change; errors and timeouts follow the "
        "tool's backend.",
        "Use the kill switches: read-only mode, or disable the failing tool.",
    ],
}


def category(slo: SLOPlan, catalog: Catalog) -> str:
    metrics = " ".join(slo.sli.metrics)
    units = {catalog.metrics[m].unit for m in slo.sli.metrics if m in catalog.metrics}
    if "seconds" in units:
        return "latency"
    if "usd" in units or "cost" in metrics:
        return "cost"
    for word, kind in (("retrieval", "retrieval"), ("tool", "tools"), ("eval", "quality"), ("valid", "quality"),
                       ("refus", "quality"), ("guardrail", "quality"), ("feedback", "quality")):
        if word in metrics:
            return kind
    return "errors"


def _breakdown_labels(slo: SLOPlan, catalog: Catalog) -> list[str]:
    """Labels every SLI metric carries (minus the group_by ones): the slices worth a look."""
    sets = [set(catalog.metrics[m].labels) for m in slo.sli.metrics if m in catalog.metrics]
    common = set.intersection(*sets) if sets else set()
    return [label for label in ("model", "provider", "feature", "tenant", "connector", "tool", "prompt_version")
            if label in common and label not in slo.group_by][:3]


def _rate(query: str, by: list[str], kind: str) -> str:
    if kind == "raw":
        return f"sum by ({', '.join(by)}) ({query.replace('{{window}}', '5m')})"
    return f"sum by ({', '.join(by)}) (rate({query}[5m]))"


def promql(slo: SLOPlan, catalog: Catalog) -> list[str]:
    lines = [f"# burn rate per window (1 = the budget lasts exactly {slo.window})"]
    lines += [slo.series(N.slo_burn_rate(w)) for w in slo.windows if w in slo.alert_windows]
    lines += ["# error budget left over the SLO window (1 = untouched, below 0 = overspent)",
              slo.series(N.SLO_BUDGET_REMAINING)]
    by_group = ", ".join(slo.group_by)
    if slo.group_by:
        lines += [f"# the {by_group} values burning fastest",
                  f"topk(5, {slo.series(N.slo_burn_rate(slo.tiers[0].tier.long_window if slo.tiers else '1h'))})"]
    for label in _breakdown_labels(slo, catalog):
        by = [*slo.group_by, label]
        events = _rate(slo.sli.events_query, by, slo.sli.kind)
        total = _rate(slo.sli.total_query, by, slo.sli.kind)
        ratio = f"{events}\n  /\n{total}"
        if slo.sli.events == "good":
            lines += [f"# error ratio by {label} over 5m", f"1 - (\n  {events}\n  /\n  {total}\n)"]
        else:
            lines += [f"# error ratio by {label} over 5m", ratio]
    return lines


def _alert_rows(slo: SLOPlan) -> list[str]:
    head = ("| alert | severity | fires when | budget spent | " +
            " | ".join(f"at {percent(e)} errors" for e in ERROR_RATES) + " |")
    rows = [head, "|" + "---|" * (4 + len(ERROR_RATES))]
    for t in slo.tiers:
        r = tier_row(t)
        state = "" if r.enabled else " (disabled)"
        route = slo.page if t.severity == N.SEVERITY_PAGE else slo.ticket
        word = r.severity if route.severity_value == r.severity else f"{r.severity} (`severity={route.severity_value}`)"
        rows.append(f"| `{route.alert_name}` long_window={r.long_window} | {word}{state} | burn rate over "
                    f"{r.burn_factor} on {r.long_window} and {r.short_window} (error ratio over {r.error_ratio}) | "
                    f"{r.budget_percent} | " + " | ".join(r.detection) + " |")
    if slo.page.enabled or slo.ticket.enabled:
        severity = N.SEVERITY_TICKET if slo.ticket.enabled else N.SEVERITY_PAGE
        rows.append(f"| `{N.ALERT_NO_DATA}` | {severity} | no events recorded for {NO_DATA_FOR} | | " +
                    " | ".join("" for _ in ERROR_RATES) + " |")
    return rows


def slo_section(slo: SLOPlan, catalog: Catalog) -> list[str]:
    lines = [f"## {slo.name}", ""]
    what = markdown_text(slo.description) or "(no description)"
    lines += [f"**What it measures.** {what} Objective {number(slo.objective)}% over {slo.window}; "
              f"{sli_text(slo)}.", ""]
    lines += [f"- good or bad events: {markdown_code(slo.sli.events_query)}",
              f"- all events: {markdown_code(slo.sli.total_query)}"]
    if slo.group_by:
        lines.append(f"- one SLO, budget and alert per `{', '.join(slo.group_by)}`")
    lines += ["", f"**Error budget.** {percent(slo.error_budget)} of events ({one_in(slo.error_budget)}); a "
              f"full outage spends it in {human_duration(float(slo.error_budget) * slo.window_s)}. Recorded "
              f"windows: {window_text(slo)}.", ""]
    guard = (f" Burn-rate alerts stay silent below {number(slo.min_events_per_hour)} events per hour on their "
             "long window." if slo.min_events_per_hour else "")
    lines += [f"**Alerts.** Detection times assume the error ratio starts from zero.{guard}", ""]
    lines += _alert_rows(slo)
    lines += ["", "**First checks.**", ""]
    checks = CHECKS[category(slo, catalog)]
    lines += [f"1. Open the [dashboard]({markdown_url(slo.dashboard_url)}): is the burn still going, and in which "
              f"{'group' if slo.group_by else 'window'}?"]
    lines += [f"{i}. {c}" for i, c in enumerate(checks, start=2)]
    lines += [f"{len(checks) + 2}. The five questions: " + " ".join(FIVE_QUESTIONS)]
    lines += ["", "**PromQL.**", "", *markdown_fence(promql(slo, catalog), "promql"), ""]
    return lines


def budget_section(b: BudgetPlan, catalog: Catalog) -> list[str]:
    unit = f" {b.unit}" if b.unit else ""
    by = f" per `{', '.join(b.by)}`" if b.by else ""
    lines = [f"## budget-{b.name}", "", f"**What it caps.** {markdown_text(b.description) or '(no description)'} "
             f"{markdown_code(b.query)} may grow by at most {number(b.limit)}{unit} per {b.window}{by}.", ""]
    lines += [f"**Alerts.** `{N.ALERT_BUDGET_OVERRUN}` (ticket): the rate of the last {b.long_window}, "
              f"extrapolated over {b.window}, exceeds the limit and the last {b.short_window} agrees."]
    if b.regression_factor is not None:
        lines.append(f"`{N.ALERT_COST_REGRESSION}` (ticket): spend per event over 1h above "
                     f"{number(b.regression_factor)}x its value {b.regression_offset} earlier, at "
                     f"{number(b.regression_min_events_per_hour or 0)}+ events per hour, for 30m.")
    lines += ["", "**First checks.**", ""]
    lines += [f"{i}. {c}" for i, c in enumerate(CHECKS["cost"], start=1)]
    lines += ["", "**PromQL.**", "", *markdown_fence([
        "# projected use over the budget window, and the share of the budget left",
        b.series(N.BUDGET_PROJECTED), b.series(N.BUDGET_REMAINING), *_spend_breakdown(b, catalog)], "promql"), ""]
    return lines


def _spend_breakdown(b: BudgetPlan, catalog: Catalog) -> list[str]:
    metric = catalog.metrics.get(b.metric)
    labels = [label for label in ("feature", "model", "tenant", "prompt_version")
              if metric is not None and label in metric.labels][:2]
    if not labels:
        return ["# use over the last 24h", f"sum(increase({b.query}[1d]))"]
    return [f"# use over the last 24h by {' and '.join(labels)}",
            f"sum by ({', '.join(labels)}) (increase({b.query}[1d]))"]


def render_service(service: ServicePlan, catalog: Catalog) -> str:
    header = header_lines(service.sources)
    lines = [f"<!-- {header[0]} {header[1]} -->", "", f"# Runbook: {service.service}", ""]
    lines += [f"{markdown_text(service.description)} Owner: `{service.owner}`. Dashboard: "
              f"[{markdown_text(service.dashboard_uid)}]({markdown_url(service.dashboard_url)}).", ""]
    team = f" and `team=\"{service.owner}\"`" if service.team else ""
    lines += [f"Every alert of this service carries `service=\"{service.service}\"`{team}; "
              "burn-rate alerts also `slo`, `severity` (page or ticket) and `long_window` (the tier). A page "
              "means the budget goes within hours or days; a ticket means it is on course to run out within the "
              "SLO window. See docs/alerting.md for how the alerts are built.", ""]
    if service.slos:
        lines += ["| SLO | objective | window | SLI | page | ticket |", "|---|---|---|---|---|---|"]
        lines += [f"| [{s.name}](#{s.name}) | {number(s.objective)}% | {s.window} | {s.sli.kind} | "
                  f"{'on' if s.page.enabled else 'off'} | {'on' if s.ticket.enabled else 'off'} |"
                  for s in service.slos]
        lines.append("")
    for slo in service.slos:
        lines += slo_section(slo, catalog)
    for b in service.budgets:
        lines += budget_section(b, catalog)
    return "\n".join(lines).rstrip("\n") + "\n"


def render(plan: ProjectPlan) -> dict[str, str]:
    return {N.runbook_path(s.service): render_service(s, plan.catalog) for s in plan.services}
