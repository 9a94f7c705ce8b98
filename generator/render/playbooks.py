"""What a runbook section tells the on-call to open and do, by the kind of failure its SLI measures.

The category follows from the SLO definition and the catalog, never from a
list of metric names: the catalog entries of the metrics the SLI reads (their
unit, HELP text, OpenTelemetry mapping, labels and the descriptions of those
labels) say whether the SLI counts provider errors, latency (and which part:
time to first token, decoding or the whole call), cost, quality, refusals,
retrieval or tool calls. The templates (`slokit/templates/runbook-*.md.j2`)
hold the playbook text of each category; this module gives them the facts:
which labels to slice by, the dashboard panels to open (links to the panel
on the service dashboard, with the service's scope preselected) and the
Tempo searches to run.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from slokit import naming as N
from slokit.model import Catalog, MetricDef
from slokit.plan import BudgetPlan, ServicePlan, SLOPlan
from slokit.render.grafana import signals as S
from slokit.render.grafana import trace_panels as T
from slokit.render.grafana.dashboard_json import TEMPO_TYPE, PromQuery, layout
from slokit.render.grafana.service_dashboard import service_dashboard
from slokit.render.grafana.shared import VARIABLE_LABELS

ERRORS, LATENCY, COST, QUALITY, REFUSALS, RETRIEVAL, TOOLS = (
    "errors", "latency", "cost", "quality", "refusals", "retrieval", "tools")
CATEGORIES = (ERRORS, LATENCY, COST, QUALITY, REFUSALS, RETRIEVAL, TOOLS)
# Which part of a call a latency SLI times.
TTFT, DECODE, TOTAL = "ttft", "decode", "total"
TIME_UNITS = ("seconds", "milliseconds")
# Words of a metric's catalog entry that say what it counts, most specific first: a tool call that
# timed out is a tool problem before it is a latency one.
_WORDS = (
    (TOOLS, re.compile(r"\btools?\b|\bfunction call")),
    (RETRIEVAL, re.compile(r"retriev|\bconnector|\bindex\b|\bvector")),
    (REFUSALS, re.compile(r"refus|declin")),
    (QUALITY, re.compile(r"\beval|quality|validat|guardrail|feedback|rating|\bscore|hallucinat")),
    (COST, re.compile(r"\bcost|\busd\b|spend|price")),
)
_TTFT_WORDS = re.compile(r"first (streamed )?token|first_token|\bttft")
_DECODE_WORDS = re.compile(r"per output token|per_output_token|decod")
# The roles (signals.py: the dashboards' vocabulary) whose panels help with each category.
_ROLES = {
    ERRORS: (S.REQUESTS, S.RATE_LIMITS, S.RETRIES, S.FALLBACKS, S.CIRCUIT_BREAKER_OPEN, S.QUOTA_REMAINING),
    LATENCY: (S.TTFT, S.TPOT, S.DECODE_RATE, S.TOTAL_LATENCY, S.INFLIGHT, S.OUTPUT_TOKENS),
    COST: (S.COST, S.INPUT_TOKENS, S.OUTPUT_TOKENS, S.TOKEN_BUDGET_EXCEEDED, S.CACHE_READ_TOKENS, S.REQUEST_COST),
    QUALITY: (S.EVAL_SCORE, S.VALIDATION_ERRORS, S.GUARDRAIL_REJECTIONS, S.USER_FEEDBACK, S.PROMPT_TEMPLATE_INFO),
    REFUSALS: (S.REFUSALS, S.GUARDRAIL_REJECTIONS, S.PROMPT_TEMPLATE_INFO, S.BUILD_INFO),
    RETRIEVAL: (S.RETRIEVALS, S.RETRIEVAL_LATENCY),
    TOOLS: (S.TOOL_CALLS, S.TOTAL_LATENCY),
}
_TRACES = {ERRORS: (T.FAILED, T.SLOW), LATENCY: (T.SLOW,), COST: (T.EXPENSIVE,), QUALITY: (T.FAILED,),
           REFUSALS: (T.FAILED,), RETRIEVAL: (T.FAILED, T.SLOW), TOOLS: (T.FAILED, T.SLOW)}
# The time range links open with: the last hours, where an alert's burn is.
LINK_RANGE = (("from", "now-6h"), ("to", "now"))
MAX_SIGNAL_PANELS = 6


@dataclass(frozen=True)
class LinkTo:
    """A link the runbook shows: the text is slokit's own, the URL is escaped by the template."""

    title: str
    url: str


@dataclass(frozen=True)
class TraceSearch:
    title: str
    query: str  # TraceQL, shown in a code span
    url: str  # Grafana Explore running it


@dataclass(frozen=True)
class Playbook:
    category: str
    part: str  # ttft | decode | total for latency, else ""
    slices: tuple[str, ...]  # labels worth a breakdown (the SLI's metrics all carry them)
    kinds: tuple[str, ...]  # labels naming an outcome or error kind, e.g. status
    panels: tuple[LinkTo, ...]
    traces: tuple[TraceSearch, ...]
    dashboards: tuple[LinkTo, ...]  # other slokit dashboards worth opening (cost, overview)
    has: frozenset[str]  # the roles' metrics the catalog has, for "if you have X" text: REQUESTS -> "requests"

    def can(self, what: str) -> bool:
        return what in self.has


def _entry_text(name: str, metric: MetricDef, catalog: Catalog) -> str:
    """What the catalog says the metric itself counts: unit, HELP, OpenTelemetry mapping."""
    otel = f"{metric.otel.name} {metric.otel.note}" if metric.otel else ""
    return f"{metric.unit} {metric.help} {otel}".lower()


def _labels_text(metric: MetricDef, catalog: Catalog) -> str:
    """What its labels say (weaker: one outcome label may serve retrievals and tool calls alike)."""
    return " ".join(f"{label} {catalog.labels[label].description}" if label in catalog.labels else label
                    for label in metric.labels).lower()


def _metrics(names: tuple[str, ...], catalog: Catalog) -> list[tuple[str, MetricDef]]:
    return [(m, catalog.metrics[m]) for m in names if m in catalog.metrics]


def category(slo: SLOPlan, catalog: Catalog) -> str:
    """The failure mode the SLI measures, from the catalog entries of its metrics."""
    metrics = _metrics(slo.sli.metrics, catalog)
    if not metrics:
        return ERRORS
    texts = [_entry_text(n, m, catalog) for n, m in metrics] + [_labels_text(m, catalog) for _, m in metrics]
    # The metrics' own entries decide before their labels; any metric before the default (for a ratio of
    # refusals over requests, the refusals).
    for text in texts:
        for kind, words in _WORDS:
            if words.search(text):
                return kind
    if any(m.unit in TIME_UNITS for _, m in metrics):
        return LATENCY
    return ERRORS


def latency_part(slo: SLOPlan, catalog: Catalog) -> str:
    text = " ".join(_entry_text(n, m, catalog) for n, m in _metrics(slo.sli.metrics, catalog))
    if _TTFT_WORDS.search(text):
        return TTFT
    if _DECODE_WORDS.search(text):
        return DECODE
    return TOTAL


def _common_labels(names: tuple[str, ...], catalog: Catalog) -> list[str]:
    sets = [m.labels for _, m in _metrics(names, catalog)]
    if not sets:
        return []
    return [label for label in sets[0] if all(label in s for s in sets[1:])]


_KIND_WORDS = re.compile(r"outcome|status|error|result|reason|why")


def _slices_and_kinds(names: tuple[str, ...], group_by: tuple[str, ...], catalog: Catalog,
                      fixed: tuple[str, ...] = ()):
    """Labels to break down by (`fixed`: ones the service's scope pins to one value, nothing to slice)."""
    labels = [label for label in _common_labels(names, catalog) if label not in group_by and label not in fixed]
    kinds = [label for label in labels if label in catalog.labels and
             _KIND_WORDS.search(f"{label} {catalog.labels[label].description}".lower())]
    return tuple(label for label in labels if label not in kinds), tuple(kinds)


def _pinned(service: ServicePlan) -> tuple[str, ...]:
    return tuple(label for label, values in service.scope if len(values) == 1)


def _queried(query: object, metrics: set[str]) -> bool:
    if not isinstance(query, PromQuery):
        return False
    found = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", query.expr))
    return any(m in found or f"{m}_bucket" in found or f"{m}_count" in found or f"{m}_sum" in found
               for m in metrics)


def grafana_base(service: ServicePlan) -> str:
    suffix = f"/d/{service.dashboard_uid}"
    url = service.dashboard_url
    return url[: -len(suffix)] if url.endswith(suffix) else url.rsplit("/d/", 1)[0]


def _variables(service: ServicePlan, catalog: Catalog) -> list[tuple[str, str]]:
    """The dashboard variables the runbook can know: the service's scope (a group's value it cannot)."""
    source = S.Signals(catalog).get(S.REQUESTS)
    out = []
    for label, values in service.scope:
        if label in VARIABLE_LABELS and source is not None and source.has(label):
            out += [(f"var-{label}", v) for v in values]
    return out


def panel_url(service: ServicePlan, catalog: Catalog, panel_id: int) -> str:
    query = [("viewPanel", str(panel_id)), *LINK_RANGE, *_variables(service, catalog)]
    return f"{service.dashboard_url}?{urlencode(query)}"


@dataclass(frozen=True)
class DashboardIndex:
    """The placed panels of a service dashboard: (id, title, queries), in dashboard order."""

    panels: tuple[tuple[int, str, tuple], ...]

    @staticmethod
    def of(service: ServicePlan, catalog: Catalog) -> "DashboardIndex":
        rows = layout(service_dashboard(service, catalog).rows)
        return DashboardIndex(tuple((p.id, p.panel.title, p.panel.queries) for r in rows for p in r.panels))

    def titled(self, prefix: str) -> list[tuple[int, str]]:
        return [(i, t) for i, t, _ in self.panels if t.startswith(prefix)]

    def querying(self, metrics: set[str]) -> list[tuple[int, str]]:
        return [(i, t) for i, t, qs in self.panels if any(_queried(q, metrics) for q in qs)]


def _role_metrics(kind: str, catalog: Catalog) -> tuple[set[str], frozenset[str]]:
    signals = S.Signals(catalog)
    found = {role: signals.get(role) for role in _ROLES[kind]}
    names = {m.name for m in found.values() if m is not None}
    has = frozenset(role.metric.removeprefix("llm_").removesuffix("_total") for role, m in found.items() if m)
    return names, has


def trace_search(kind: str, service: ServicePlan, catalog: Catalog) -> TraceSearch:
    slow_s = T.slow_seconds(service, catalog)
    query = T.traceql(kind, service, slow_s)
    pane = {"datasource": N.DATASOURCE_TEMPO_UID,
            "queries": [{"refId": "A", "datasource": {"type": TEMPO_TYPE, "uid": N.DATASOURCE_TEMPO_UID},
                         "queryType": "traceql", "query": query, "limit": 20}],
            "range": {"from": LINK_RANGE[0][1], "to": LINK_RANGE[1][1]}}
    text = json.dumps({"a": pane}, sort_keys=True, separators=(",", ":"))
    url = f"{grafana_base(service)}/explore?schemaVersion=1&panes={quote(text, safe='')}"
    return TraceSearch(f"{kind.capitalize()} calls in Tempo", query, url)


def slo_playbook(slo: SLOPlan, service: ServicePlan, catalog: Catalog, index: DashboardIndex) -> Playbook:
    kind = category(slo, catalog)
    part = latency_part(slo, catalog) if kind == LATENCY else ""
    slices, kinds = _slices_and_kinds(slo.sli.metrics, slo.group_by, catalog, _pinned(service))
    related, has = _role_metrics(kind, catalog)
    own = index.titled(f"{slo.name}: ")
    signal = [p for p in index.querying(set(slo.sli.metrics) | related) if p not in own]
    chosen = dict.fromkeys([*own[2:], *signal[:MAX_SIGNAL_PANELS]])
    panels = tuple(LinkTo(title, panel_url(service, catalog, i)) for i, title in chosen)
    traces = tuple(trace_search(k, service, catalog) for k in _TRACES[kind])
    return Playbook(kind, part, slices, kinds, panels, traces, other_dashboards(kind, service), has)


def budget_playbook(budget: BudgetPlan, service: ServicePlan, catalog: Catalog, index: DashboardIndex) -> Playbook:
    related, has = _role_metrics(COST, catalog)
    metrics = (budget.metric,)
    slices, kinds = _slices_and_kinds(metrics, (), catalog, _pinned(service))
    own = index.titled(f"{budget.service}/{budget.name}: ")
    signal = [p for p in index.querying({budget.metric} | related) if p not in own]
    chosen = dict.fromkeys([*own, *signal[:MAX_SIGNAL_PANELS]])
    panels = tuple(LinkTo(title, panel_url(service, catalog, i)) for i, title in chosen)
    return Playbook(COST, "", slices, kinds, panels, (trace_search(T.EXPENSIVE, service, catalog),),
                    other_dashboards(COST, service), has)


def other_dashboards(kind: str, service: ServicePlan) -> tuple[LinkTo, ...]:
    """The cost dashboard for cost alerts (spend of every service side by side), the overview for the rest."""
    uid, title = (N.DASHBOARD_COST_UID, "Cost") if kind == COST else (N.DASHBOARD_OVERVIEW_UID, "SLO overview")
    return (LinkTo(title, f"{grafana_base(service)}/d/{uid}?{urlencode(LINK_RANGE)}"),)
