"""Runbooks: docs/runbooks/<service>.md, one section per SLO and budget, rendered from Jinja2 templates.

Alerts link here (`runbook_url` defaults to docs/runbooks/<service>.md#<slo>),
so each section is anchored by the SLO name (GitHub turns the heading
`## api-success` into `#api-success`) and budgets by `budget-<name>`. A section
says what the SLO measures, which alerts it has and when they fire, the
playbook of its failure mode (the first five questions and the mitigations,
`playbooks.py` says which), the dashboard panels and Tempo searches to open,
PromQL to paste into Prometheus, and a section the team keeps (`keep.py`).

The text comes from the templates shipped in `slokit/templates/runbook*.md.j2`;
a repository overrides any of them (`slokit.templating`). User text reaches
the templates raw and is escaped once, by the template's filters (md, code,
url, fence); autoescaping is off, since it would escape for HTML, not
Markdown. Markdown this module builds itself (the alert table) is passed as
`*_rows` and printed as is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from slokit import naming as N
from slokit.errors import Diagnostic, SlokitError
from slokit.escape import markdown_code, markdown_fence, markdown_text, markdown_url
from slokit.explain import ERROR_RATES, human_duration, one_in, percent, sli_text, tier_row, window_text
from slokit.model import Catalog
from slokit.plan import NO_DATA_FOR, BudgetPlan, ProjectPlan, ServicePlan, SLOPlan
from slokit.promql import number
from slokit.render.common import header_lines
from slokit.render.keep import Keeper, kept_sections
from slokit.render.playbooks import DashboardIndex, LinkTo, Playbook, budget_playbook, category, slo_playbook

TEMPLATE = "runbook.md.j2"


def _no_file(rel: str) -> str | None:
    return None


@dataclass(frozen=True)
class RunbookInputs:
    """What a runbook needs beyond the plan: the repository's templates and the current file (for kept text)."""

    templates: Path | None = None
    existing: Callable[[str], str | None] = field(default=_no_file)


def _rate(query: str, by: list[str], kind: str) -> str:
    if kind == "raw":
        return f"sum by ({', '.join(by)}) ({query.replace('{{window}}', '5m')})"
    return f"sum by ({', '.join(by)}) (rate({query}[5m]))"


def promql(slo: SLOPlan, playbook: Playbook) -> list[str]:
    lines = [f"# burn rate per window (1 = the budget lasts exactly {slo.window})"]
    lines += [slo.series(N.slo_burn_rate(w)) for w in slo.windows if w in slo.alert_windows]
    lines += ["# error budget left over the SLO window (1 = untouched, below 0 = overspent)",
              slo.series(N.SLO_BUDGET_REMAINING),
              "# 1 while the error budget is spent (left at 0 or below), else 0",
              slo.series(N.SLO_BUDGET_EXHAUSTED)]
    if slo.group_by:
        lines += [f"# the {', '.join(slo.group_by)} values burning fastest",
                  f"topk(5, {slo.series(N.slo_burn_rate(slo.tiers[0].tier.long_window if slo.tiers else '1h'))})"]
    for label in (*playbook.kinds, *playbook.slices)[:4]:
        by = [*slo.group_by, label]
        events = _rate(slo.sli.events_query, by, slo.sli.kind)
        total = _rate(slo.sli.total_query, by, slo.sli.kind)
        if slo.sli.events == "good":
            lines += [f"# error ratio by {label} over 5m", f"1 - (\n  {events}\n  /\n  {total}\n)"]
        else:
            lines += [f"# error ratio by {label} over 5m", f"{events}\n  /\n{total}"]
    return lines


def alert_rows(slo: SLOPlan) -> list[str]:
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
        if slo.exhausted_alert:
            rows.append(f"| `{N.ALERT_SLO_EXHAUSTED}` | {severity} | the error budget over {slo.window} is spent "
                        f"(`{N.SLO_BUDGET_EXHAUSTED}` is 1) | 100 | " + " | ".join("" for _ in ERROR_RATES) + " |")
    return rows


@dataclass(frozen=True)
class SLOView:
    """One SLO as its template sees it; description and queries are raw user text (escape in the template)."""

    name: str
    description: str
    objective: str
    window: str
    sli_kind: str
    sli_text: str
    events_query: str
    total_query: str
    group_by: tuple[str, ...]
    budget_text: str
    guard: str
    alert_rows: tuple[str, ...]  # Markdown table rows, built here
    page: bool
    ticket: bool
    playbook: Playbook
    promql: tuple[str, ...]


@dataclass(frozen=True)
class BudgetView:
    name: str
    description: str
    query: str
    limit: str
    unit: str
    window: str
    by: tuple[str, ...]
    alerts_text: str
    playbook: Playbook
    promql: tuple[str, ...]

    @property
    def group_by(self) -> tuple[str, ...]:
        return self.by


@dataclass(frozen=True)
class ServiceView:
    name: str
    description: str
    owner: str
    team: bool
    dashboard_uid: str
    dashboard_url: str
    scope_text: str  # what the links preselect, e.g. feature=rag_answer


def slo_view(slo: SLOPlan, service: ServicePlan, catalog: Catalog, index: DashboardIndex) -> SLOView:
    playbook = slo_playbook(slo, service, catalog, index)
    budget = (f"{percent(slo.error_budget)} of events ({one_in(slo.error_budget)}); a full outage spends it in "
              f"{human_duration(float(slo.error_budget) * slo.window_s)}. Recorded windows: {window_text(slo)}.")
    guard = (f"Burn-rate alerts stay silent below {number(slo.min_events_per_hour)} events per hour on their "
             "long window." if slo.min_events_per_hour else "")
    return SLOView(slo.name, slo.description, number(slo.objective), slo.window, slo.sli.kind, sli_text(slo),
                   slo.sli.events_query, slo.sli.total_query, tuple(slo.group_by), budget, guard,
                   tuple(alert_rows(slo)), slo.page.enabled, slo.ticket.enabled, playbook,
                   tuple(promql(slo, playbook)))


def _spend_breakdown(b: BudgetPlan, playbook: Playbook) -> list[str]:
    labels = list(playbook.slices[:2])
    if not labels:
        return ["# use over the last 24h", f"sum(increase({b.query}[1d]))"]
    return [f"# use over the last 24h by {' and '.join(labels)}",
            f"sum by ({', '.join(labels)}) (increase({b.query}[1d]))"]


def budget_view(b: BudgetPlan, service: ServicePlan, catalog: Catalog, index: DashboardIndex) -> BudgetView:
    playbook = budget_playbook(b, service, catalog, index)
    alerts = (f"`{N.ALERT_BUDGET_OVERRUN}` (ticket): the rate of the last {b.long_window}, extrapolated over "
              f"{b.window}, exceeds the limit and the last {b.short_window} agrees. `{N.ALERT_BUDGET_EXHAUSTED}` "
              f"(ticket): the use over the last {b.window} is over the limit already, whether or not spending goes "
              "on; it resolves once enough of that use ages out of the window.")
    if b.regression_factor is not None:
        alerts += (f" `{N.ALERT_COST_REGRESSION}` (ticket): spend per event over 1h above "
                   f"{number(b.regression_factor)}x its value {b.regression_offset} earlier, at "
                   f"{number(b.regression_min_events_per_hour or 0)}+ events per hour, for 30m.")
    lines = ["# projected use over the budget window, and the share of the budget left",
             b.series(N.BUDGET_PROJECTED), b.series(N.BUDGET_REMAINING),
             f"# use over the budget window (over {number(b.limit)} fires {N.ALERT_BUDGET_EXHAUSTED})",
             b.series(N.BUDGET_USED_WINDOW), *_spend_breakdown(b, playbook)]
    return BudgetView(b.name, b.description, b.query, number(b.limit), f" {b.unit}" if b.unit else "", b.window,
                      tuple(b.by), alerts, playbook, tuple(lines))


def service_view(service: ServicePlan) -> ServiceView:
    scope = ", ".join(f"{k}={'|'.join(v)}" for k, v in service.scope)
    return ServiceView(service.service, service.description, service.owner, service.team is not None,
                       service.dashboard_uid, service.dashboard_url, markdown_code(scope) if scope else "")


# -- templates ------------------------------------------------------------------


def codes(labels, conjunction: str = "and", otherwise: str = "") -> str:
    """Label names as code spans joined for prose ("`a`, `b` and `c`"), or `otherwise` (slokit's text) when none."""
    items = [markdown_code(str(x)) for x in labels]
    if not items:
        return otherwise
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def fence(lines, info: str = "") -> str:
    return "\n".join(markdown_fence(list(lines), info))


def environment(templates: Path | None):
    import jinja2

    from slokit.templating import loader

    # Markdown, not HTML: autoescape stays off; every user value goes through exactly one filter below.
    env = jinja2.Environment(loader=loader(templates), autoescape=False, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(md=lambda s: markdown_text(str(s)), code=lambda s: markdown_code(str(s)),
                       url=lambda s: markdown_url(str(s)), fence=fence, codes=codes)
    return env


def _template_error(exc: BaseException, templates: Path | None) -> SlokitError:
    """A template mistake as file:line:column, the line taken from Jinja's rewritten traceback."""
    name, line = getattr(exc, "filename", None) or getattr(exc, "name", None), getattr(exc, "lineno", None)
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(".j2"):
            name, line = tb.tb_frame.f_code.co_filename, tb.tb_lineno
        tb = tb.tb_next
    where = str(name or (templates / TEMPLATE if templates else TEMPLATE))
    message = getattr(exc, "message", None) or str(exc)
    return SlokitError([Diagnostic(where, line or 1, 1, f"runbook template: {message}",
                                   "fix the template, or remove it to use the one shipped with slokit")])


def render_service(service: ServicePlan, catalog: Catalog, inputs: RunbookInputs = RunbookInputs(),
                   env=None) -> str:
    import jinja2

    env = env if env is not None else environment(inputs.templates)
    old = inputs.existing(N.runbook_path(service.service))
    keeper = Keeper(kept_sections(old) if old else {})

    def keep(name: str, default: str = "") -> str:
        try:
            return keeper.section(name, default)
        except ValueError as exc:
            raise jinja2.TemplateRuntimeError(str(exc)) from None

    index = DashboardIndex.of(service, catalog)
    header = header_lines(service.sources)
    context = {"header": f"{header[0]} {header[1]}", "service": service_view(service),
               "slos": [slo_view(s, service, catalog, index) for s in service.slos],
               "budgets": [budget_view(b, service, catalog, index) for b in service.budgets], "keep": keep}
    try:
        text = env.get_template(TEMPLATE).render(context)
    except jinja2.TemplateError as exc:
        raise _template_error(exc, inputs.templates) from None
    orphans = keeper.orphans()
    text = text.rstrip("\n") + "\n"
    return text + "\n" + orphans.rstrip("\n") + "\n" if orphans else text


def render(plan: ProjectPlan, inputs: RunbookInputs = RunbookInputs()) -> dict[str, str]:
    env = environment(inputs.templates)
    return {N.runbook_path(s.service): render_service(s, plan.catalog, inputs, env) for s in plan.services}


__all__ = ["RunbookInputs", "category", "render", "render_service", "LinkTo"]
