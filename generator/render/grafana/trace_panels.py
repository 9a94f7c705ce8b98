"""The debug tier: Tempo (TraceQL) searches for a service's slow, failed and
expensive LLM calls, as dashboard panels and as links from metric panels.

Span attributes follow the app's tracing conventions (DOMAIN.md section 7):
model-call spans carry `gen_ai.operation.name` = chat; every span of a
request carries the catalog's feature as `app.llm.feature`; the root span
carries `app.llm.expensive`. The service's scope on `feature` selects its
spans.
"""

from __future__ import annotations

import json
from decimal import Decimal
from urllib.parse import quote

from slokit import naming as N
from slokit.model import Catalog
from slokit.plan import ServicePlan
from slokit.promql import number, regex_escape
from slokit.render.grafana import signals as S
from slokit.render.grafana.dashboard_json import TEMPO_TYPE, Link, Panel, TraceQuery

SLOW, FAILED, EXPENSIVE = "slow", "failed", "expensive"
FEATURE_ATTRIBUTE = "span.app.llm.feature"
OPERATION_ATTRIBUTE = "span.gen_ai.operation.name"
EXPENSIVE_ATTRIBUTE = "span.app.llm.expensive"
CHAT_OPERATION = "chat"
# Slow means over the total-latency SLO threshold when there is one, else 5 s
# (the Collector keeps every trace slower than that; DOMAIN.md section 7).
DEFAULT_SLOW_SECONDS = Decimal(5)


def _string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def slow_seconds(service: ServicePlan, catalog: Catalog) -> Decimal:
    total = S.Signals(catalog).get(S.TOTAL_LATENCY)
    bounds = [s.sli.threshold_bound for s in service.slos
              if total is not None and s.sli.kind == "threshold" and total.name in s.sli.metrics
              and s.sli.threshold_bound is not None]
    return min(bounds) if bounds else DEFAULT_SLOW_SECONDS


def _feature_filter(service: ServicePlan) -> list[str]:
    for label, values in service.scope:
        if label == S.FEATURE:
            return [f"{FEATURE_ATTRIBUTE} =~ {_string('|'.join(regex_escape(v) for v in values))}"]
    return []


def traceql(kind: str, service: ServicePlan, slow_s: Decimal = DEFAULT_SLOW_SECONDS) -> str:
    conditions = _feature_filter(service)
    if kind == SLOW:
        conditions = [f"{OPERATION_ATTRIBUTE} = {_string(CHAT_OPERATION)}", *conditions,
                      f"duration > {number(slow_s)}s"]
    elif kind == FAILED:
        conditions = [*conditions, "status = error"]
    else:
        conditions = [*conditions, f"{EXPENSIVE_ATTRIBUTE} = true"]
    return "{ " + " && ".join(conditions) + " }"


def explore_link(kind: str, service: ServicePlan, slow_s: Decimal = DEFAULT_SLOW_SECONDS) -> Link:
    """A panel link to Grafana Explore running the TraceQL search over the panel's time range."""
    pane = {"datasource": N.DATASOURCE_TEMPO_UID,
            "queries": [{"refId": "A", "datasource": {"type": TEMPO_TYPE, "uid": N.DATASOURCE_TEMPO_UID},
                         "queryType": "traceql", "query": traceql(kind, service, slow_s), "limit": 20}],
            "range": {"from": "${__from}", "to": "${__to}"}}
    text = json.dumps({"a": pane}, sort_keys=True, separators=(",", ":"))
    # ${__from} and ${__to} stay readable: Grafana interpolates them when the link is clicked.
    return Link(f"{kind.capitalize()} calls in Tempo", f"/explore?schemaVersion=1&panes={quote(text, safe='${}_')}",
                new_tab=True)


def debug_panels(service: ServicePlan, catalog: Catalog) -> tuple[Panel, ...]:
    slow_s = slow_seconds(service, catalog)
    return (
        Panel("traces-table", "Slow LLM calls (traces)",
              f"Model calls of this service slower than {number(slow_s)} s, from Tempo (TraceQL: "
              f"{traceql(SLOW, service, slow_s)}). Open a trace to see which step took the time: retrieval, "
              "queueing, time to first token or decoding.",
              unit="none", width=12, height=9, queries=(TraceQuery(traceql(SLOW, service, slow_s)),)),
        Panel("traces-table", "Failed requests (traces)",
              f"Requests and model calls of this service that ended in an error (TraceQL: "
              f"{traceql(FAILED, service)}). The trace shows the error class, the model, retries and fallback.",
              unit="none", width=12, height=9, queries=(TraceQuery(traceql(FAILED, service)),)),
        Panel("traces-table", "Expensive requests (traces)",
              f"Requests of this service flagged expensive by the app (TraceQL: {traceql(EXPENSIVE, service)}). "
              "Look for runaway loops (many model calls), pasted documents (huge input) or rambling output.",
              unit="none", width=24, height=8, queries=(TraceQuery(traceql(EXPENSIVE, service)),)),
    )
