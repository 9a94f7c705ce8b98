"""The middle tier of a service dashboard ("what is moving?"), from the catalog.

Traffic and errors, latency (TTFT, time per output token, total) at p50/p95/p99
by feature and model, tokens and cache, decode rate, retrieval and tools,
quality, and the change strip. A panel is drawn only when the catalog has its
metric (see signals); it groups by the labels the catalog gives that
metric, so a catalog without `feature` on a histogram simply gets per-model
lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from slokit.plan import ServicePlan
from slokit.promql import Matcher
from slokit.render.grafana import signals as S
from slokit.render.grafana import trace_panels as T
from slokit.render.grafana.dashboard_json import Link, Panel, PromQuery, Row, Step, ValueText
from slokit.render.grafana.queries import Filters, legend, quantile, rate, ratio
from slokit.render.grafana.signals import Metric, Signals

QUANTILES = (0.5, 0.95, 0.99)
TOKENS_PER_SECOND = "suffix: tok/s"
EVENTS_PER_SECOND = "reqps"
# Display thresholds from DOMAIN.md section 2 and 6 (colours only).
DECODE_GRATING, DECODE_COMFORTABLE = 10.0, 30.0
CACHE_HIT_HEALTHY = 0.7
GREEN, AMBER, RED = "green", "orange", "red"


@dataclass(frozen=True)
class Context:
    service: ServicePlan
    signals: Signals
    filters: Filters

    def get(self, role: S.Role) -> Metric | None:
        return self.signals.get(role)

    def slo_bounds(self, metric: Metric) -> tuple[Decimal, ...]:
        """Threshold SLI bounds on this histogram (drawn as lines on its latency panel)."""
        return tuple(sorted({s.sli.threshold_bound for s in self.service.slos
                             if s.sli.kind == "threshold" and s.sli.threshold_bound is not None
                             and metric.name in s.sli.metrics}))

    def trace_links(self, *kinds: str) -> tuple[Link, ...]:
        slow_s = T.slow_seconds(self.service, self.signals.catalog)
        return tuple(T.explore_link(kind, self.service, slow_s) for kind in kinds)


def _by(metric: Metric, *labels: str) -> tuple[str, ...]:
    return metric.only(*labels)


# -- traffic and errors -----------------------------------------------------


def traffic_panels(c: Context) -> tuple[Panel, ...]:
    requests = c.get(S.REQUESTS)
    panels: list[Panel] = []
    if requests is not None:
        by = _by(requests, S.FEATURE, S.MODEL)
        panels.append(Panel(
            "timeseries", "Model calls per second", "Model calls per second by feature and model, after retries "
            "and fallback. A drop to zero with no errors means the callers stopped (or the scrape did); a spike "
            "is load or a retry loop: check retries and the token budget panel.",
            unit=EVENTS_PER_SECOND, width=8,
            queries=(PromQuery(rate(c.filters.raw(requests), by), legend(*by)),)))
    errors = error_queries(c)
    if errors:
        panels.append(Panel(
            "timeseries", "Errors by kind", "API errors (final status after retries: client errors, rate limits, "
            "server errors, timeouts), provider rate limits (HTTP 429 per attempt), output validation errors, "
            "refusals and guardrail rejections, each its own series: they have different owners and runbooks. "
            "API errors on one model point at the provider; validation errors or refusals on one feature "
            "point at a prompt change (see the change strip).",
            unit=EVENTS_PER_SECOND, width=8, queries=errors, links=c.trace_links(T.FAILED)))
    if requests is not None and requests.has(S.STATUS) and c.signals.has_value(S.STATUS, S.STATUS_OK):
        by = _by(requests, S.FEATURE)
        bad = c.filters.raw(requests, Matcher(S.STATUS, "!=", S.STATUS_OK))
        panels.append(Panel(
            "timeseries", "API error ratio", "Share of model calls that ended in an error, by feature. Compare "
            "with the availability SLO's error budget: 0.5% for a 99.5% objective.",
            unit="percentunit", width=8,
            queries=(PromQuery(ratio(rate(bad, by), rate(c.filters.raw(requests), by)), legend(*by)),),
            links=c.trace_links(T.FAILED)))
    return tuple(panels)


def error_queries(c: Context) -> tuple[PromQuery, ...]:
    queries: list[PromQuery] = []
    requests = c.get(S.REQUESTS)
    if requests is not None and requests.has(S.STATUS) and c.signals.has_value(S.STATUS, S.STATUS_OK):
        sel = c.filters.raw(requests, Matcher(S.STATUS, "!=", S.STATUS_OK))
        queries.append(PromQuery(rate(sel, (S.STATUS,)), legend(S.STATUS, prefix="API error:")))
    for role, label, name in ((S.RATE_LIMITS, None, "rate limited (429, per attempt)"),
                              (S.VALIDATION_ERRORS, S.ERROR_CLASS, "validation:"),
                              (S.REFUSALS, None, "refusals"),
                              (S.GUARDRAIL_REJECTIONS, S.SOURCE, "guardrail:")):
        metric = c.get(role)
        if metric is None:
            continue
        by = _by(metric, label) if label else ()
        queries.append(PromQuery(rate(c.filters.raw(metric), by), legend(*by, prefix=name)))
    return tuple(queries)


def saturation_panels(c: Context) -> tuple[Panel, ...]:
    panels: list[Panel] = []
    retries, fallbacks = c.get(S.RETRIES), c.get(S.FALLBACKS)
    queries = []
    if retries is not None:
        by = _by(retries, S.REASON)
        queries.append(PromQuery(rate(c.filters.raw(retries), by), legend(*by, prefix="retry:")))
    if fallbacks is not None:
        by = _by(fallbacks, S.MODEL)
        queries.append(PromQuery(rate(c.filters.raw(fallbacks), by), legend(*by, prefix="fallback from")))
    if queries:
        panels.append(Panel(
            "timeseries", "Retries and fallbacks", "Attempts retried (by reason) and calls that fell back from "
            "their primary model. Rising retries before errors rise is the early sign of a provider problem; "
            "steady fallbacks mean users get the secondary model (quality and cost change).",
            unit=EVENTS_PER_SECOND, width=8, queries=tuple(queries)))
    quota = c.get(S.QUOTA_REMAINING)
    if quota is not None:
        by = _by(quota, S.MODEL, S.RESOURCE)
        panels.append(Panel(
            "timeseries", "Provider quota left", "Share of the provider's per-minute request and token quota "
            "left, from rate-limit headers. Near 0 means 429s are next: shed load, queue, or raise the quota.",
            unit="percentunit", width=8, min=0, max=1, steps=(Step(None, RED), Step(0.1, AMBER), Step(0.3, GREEN)),
            threshold_style="dashed",
            queries=(PromQuery(f"min by ({', '.join(by)}) ({c.filters.raw(quota)})" if by
                               else f"min({c.filters.raw(quota)})", legend(*by)),)))
    breaker = c.get(S.CIRCUIT_BREAKER_OPEN)
    if breaker is not None:
        by = _by(breaker, S.PROVIDER, S.MODEL)
        panels.append(Panel(
            "state-timeline", "Circuit breakers", "Whether each model's circuit breaker is open (calls fail fast "
            "or go to the fallback). Open for long: the provider is down for that model; see the runbook's "
            "provider outage section.",
            unit="none", width=8, height=6,
            mappings=(ValueText(0, "closed", GREEN), ValueText(1, "open", RED)),
            queries=(PromQuery(f"max by ({', '.join(by)}) ({c.filters.raw(breaker)})" if by
                               else f"max({c.filters.raw(breaker)})", legend(*by)),)))
    inflight = c.get(S.INFLIGHT)
    if inflight is not None:
        by = _by(inflight, S.FEATURE)
        panels.append(Panel(
            "timeseries", "Requests in flight", "Requests being processed now, by feature. Growing while "
            "traffic is flat means calls got slower (see latency) or are stuck.",
            unit="short", width=8,
            queries=(PromQuery(f"sum by ({', '.join(by)}) ({c.filters.raw(inflight)})" if by
                               else f"sum({c.filters.raw(inflight)})", legend(*by)),)))
    return tuple(panels)


# -- latency ----------------------------------------------------------------


def _latency_panel(c: Context, metric: Metric, title: str, what: str, unit: str = "s") -> Panel:
    by = _by(metric, S.FEATURE, S.MODEL)
    bucket = c.filters.raw(metric, suffix="_bucket")
    bounds = c.slo_bounds(metric)
    steps = (Step(None, GREEN),) + tuple(Step(float(b), RED) for b in bounds)
    slo_note = (" The dashed line is the SLO threshold "
                f"({', '.join(str(b) for b in bounds)} s): calls above it spend error budget.") if bounds else ""
    queries = tuple(PromQuery(quantile(q, bucket, by), legend(*by, prefix=f"p{int(q * 100)}"),
                              exemplar=(q == 0.95)) for q in QUANTILES)
    return Panel(
        "timeseries", title, f"{what} at p50, p95 and p99 by {' and '.join(by) or 'service'}, from the histogram "
        "buckets. Exemplar dots (on p95) open the trace of one such call in Tempo. One model moving means the "
        f"provider; one feature moving means its prompt or input changed.{slo_note}",
        unit=unit, width=12, height=8, steps=steps, threshold_style="dashed" if bounds else "off",
        queries=queries, links=c.trace_links(T.SLOW))


def latency_panels(c: Context) -> tuple[Panel, ...]:
    panels: list[Panel] = []
    for role, title, what in (
            (S.TTFT, "Time to first token", "Time until the first streamed token (TTFT; under 0.5 s feels "
                                            "instant, over 2 s feels broken)"),
            (S.TPOT, "Time per output token", "Time per output token after the first (TPOT; 33 ms is 30 "
                                              "tokens/s, comfortable)"),
            (S.TOTAL_LATENCY, "Total latency", "Wall time of one model call")):
        metric = c.get(role)
        if metric is not None:
            panels.append(_latency_panel(c, metric, title, what))
    decode = c.get(S.DECODE_RATE)
    if decode is not None:
        by = _by(decode, S.MODEL)
        bucket = c.filters.raw(decode, suffix="_bucket")
        panels.append(Panel(
            "timeseries", "Decode rate", "Output tokens per second after the first token, by model: median and "
            "the slow 10% (p10; for a rate the bad tail is the low end). Healthy large models decode 30-80 "
            "tokens/s; under 10 is grating. A drop on one model with unchanged prompts means the provider is "
            "slow: consider failing over.",
            unit=TOKENS_PER_SECOND, width=12, threshold_style="dashed",
            steps=(Step(None, RED), Step(DECODE_GRATING, AMBER), Step(DECODE_COMFORTABLE, GREEN)),
            queries=(PromQuery(quantile(0.5, bucket, by), legend(*by, prefix="p50"), exemplar=True),
                     PromQuery(quantile(0.1, bucket, by), legend(*by, prefix="p10")))))
    gap = c.get(S.CHUNK_GAP)
    if gap is not None:
        by = _by(gap, S.MODEL)
        panels.append(Panel(
            "timeseries", "Streaming chunk gap", "Gap between streamed chunks at p95 and p99, by model. Long "
            "gaps are visible stalls in the user's stream even when total latency looks fine.",
            unit="s", width=12,
            queries=tuple(PromQuery(quantile(q, c.filters.raw(gap, suffix="_bucket"), by),
                                    legend(*by, prefix=f"p{int(q * 100)}"), exemplar=(q == 0.95))
                          for q in (0.95, 0.99))))
    return tuple(panels)


# -- tokens, cache ----------------------------------------------------------


def token_panels(c: Context) -> tuple[Panel, ...]:
    panels: list[Panel] = []
    inp, out = c.get(S.INPUT_TOKENS), c.get(S.OUTPUT_TOKENS)
    read, write = c.get(S.CACHE_READ_TOKENS), c.get(S.CACHE_WRITE_TOKENS)
    queries: list[PromQuery] = []
    if inp is not None:
        uncached = rate(c.filters.raw(inp))
        for cached in (read, write):
            if cached is not None:
                uncached += f"\n- ({rate(c.filters.raw(cached))} or vector(0))"
        queries.append(PromQuery(uncached, "input (not cached)"))
    for metric, name in ((read, "cache read"), (write, "cache write"), (out, "output")):
        if metric is not None:
            queries.append(PromQuery(rate(c.filters.raw(metric)), name))
    if queries:
        panels.append(Panel(
            "timeseries", "Tokens per second", "Tokens sent and received, stacked: input not served from the "
            "cache, cache reads, cache writes and output (input tokens include cached ones, so the cached part "
            "is shown on its own). Providers throttle and bill on tokens: a jump in output is rambling "
            "answers; in input, pasted documents or a retrieval change.",
            unit=TOKENS_PER_SECOND, width=12, stacked=True, queries=tuple(queries)))
    if inp is not None and read is not None:
        by = _by(read, S.FEATURE)
        panels.append(Panel(
            "timeseries", "Prompt cache hit rate", "Cache-read tokens / input tokens by feature. Healthy is "
            "70-95% after a conversation's first turn; a sudden drop usually follows a prompt change that "
            "moved the static prefix (the cost per call rises with it).",
            unit="percentunit", width=12, min=0, max=1, threshold_style="dashed",
            steps=(Step(None, AMBER), Step(CACHE_HIT_HEALTHY, GREEN)),
            queries=(PromQuery(ratio(rate(c.filters.raw(read), by), rate(c.filters.raw(inp), by)), legend(*by)),)))
    requests = c.get(S.REQUESTS)
    if requests is not None and (inp is not None or out is not None):
        queries = []
        for metric, name in ((inp, "input"), (out, "output")):
            if metric is None:
                continue
            by = _by(metric, S.FEATURE)
            per_call = ratio(rate(c.filters.raw(metric), by), rate(c.filters.raw(requests), by))
            queries.append(PromQuery(per_call, legend(*by, prefix=f"{name} now")))
            week_ago = ratio(rate(c.filters.raw(metric), by, offset="1w"),
                             rate(c.filters.raw(requests), by, offset="1w"))
            queries.append(PromQuery(week_ago, legend(*by, prefix=f"{name} a week ago")))
        panels.append(Panel(
            "timeseries", "Tokens per call vs last week", "Average input and output tokens per model call over "
            "the last hour, by feature, against the same hour a week earlier (the drift view). Longer inputs: "
            "users paste more or retrieval returns more; longer outputs: a prompt or model change.",
            unit="short", width=12, queries=tuple(queries)))
    exceeded = c.get(S.TOKEN_BUDGET_EXCEEDED)
    if exceeded is not None:
        by = _by(exceeded, S.FEATURE)
        panels.append(Panel(
            "timeseries", "Token budget exceeded", "Requests stopped for exceeding their per-request token budget "
            "(runaway agent loops, pasted documents). Any steady rate deserves a look at the traces.",
            unit=EVENTS_PER_SECOND, width=12,
            queries=(PromQuery(rate(c.filters.raw(exceeded), by), legend(*by)),)))
    return tuple(panels)


# -- retrieval and tools ----------------------------------------------------


def retrieval_tool_panels(c: Context) -> tuple[Panel, ...]:
    panels: list[Panel] = []
    whole_app = " These metrics carry no feature label, so they show the whole application."
    retrievals = c.get(S.RETRIEVALS)
    if retrievals is not None:
        by = _by(retrievals, S.CONNECTOR, S.OUTCOME)
        panels.append(Panel(
            "timeseries", "Retrieval outcomes", "Retrieval queries per second by connector and outcome (hit, "
            "empty, error). Empty results rising on one connector: its index is stale or a query rewrite "
            f"changed.{whole_app if not retrievals.has(S.FEATURE) else ''}",
            unit=EVENTS_PER_SECOND, width=8, stacked=True,
            queries=(PromQuery(rate(c.filters.raw(retrievals), by), legend(*by)),)))
    latency = c.get(S.RETRIEVAL_LATENCY)
    if latency is not None:
        by = _by(latency, S.CONNECTOR)
        panels.append(Panel(
            "timeseries", "Retrieval latency", "Retrieval query latency at p95 by connector. Retrieval runs "
            "before the model call, so it adds to time to first token.",
            unit="s", width=8,
            queries=(PromQuery(quantile(0.95, c.filters.raw(latency, suffix="_bucket"), by),
                               legend(*by, prefix="p95"), exemplar=True),)))
    tools = c.get(S.TOOL_CALLS)
    if tools is not None:
        by = _by(tools, S.TOOL, S.OUTCOME)
        panels.append(Panel(
            "timeseries", "Tool calls", "Agent tool calls per second by tool and outcome (success, invalid "
            "arguments, error, timeout). Invalid arguments rising after a prompt or tool-schema change is a "
            f"model/prompt problem; errors and timeouts are the tool backend's.{whole_app}",
            unit=EVENTS_PER_SECOND, width=8, stacked=True,
            queries=(PromQuery(rate(c.filters.raw(tools), by), legend(*by)),)))
    return tuple(panels)


# -- quality ----------------------------------------------------------------


def quality_panels(c: Context) -> tuple[Panel, ...]:
    panels: list[Panel] = []
    score = c.get(S.EVAL_SCORE)
    if score is not None:
        by = _by(score, S.FEATURE)
        bounds = c.slo_bounds(score)
        panels.append(Panel(
            "timeseries", "Eval score (sampled)", "Quality eval score (0-1) of sampled answers by feature: "
            "median and the worst 10% (p10). A drop after a prompt or model change (see the change strip) "
            "is the signal to roll the prompt back or pin the model."
            + (" The dashed line is the quality SLO's threshold." if bounds else ""),
            unit="none", decimals=2, width=8, min=0, max=1,
            steps=(Step(None, RED),) + tuple(Step(float(b), GREEN) for b in bounds),
            threshold_style="dashed" if bounds else "off",
            queries=(PromQuery(quantile(0.5, c.filters.raw(score, suffix="_bucket"), by),
                               legend(*by, prefix="p50"), exemplar=True),
                     PromQuery(quantile(0.1, c.filters.raw(score, suffix="_bucket"), by),
                               legend(*by, prefix="p10")))))
    guardrails = c.get(S.GUARDRAIL_REJECTIONS)
    if guardrails is not None:
        by = _by(guardrails, S.FEATURE, S.SOURCE)
        panels.append(Panel(
            "timeseries", "Guardrail rejections", "Requests or responses blocked, by feature and guardrail "
            "(input, output, provider content filter). Across all features: a provider policy change; on one "
            "feature: its input shifted.",
            unit=EVENTS_PER_SECOND, width=8,
            queries=(PromQuery(rate(c.filters.raw(guardrails), by), legend(*by)),)))
    feedback = c.get(S.USER_FEEDBACK)
    if feedback is not None:
        by = _by(feedback, S.FEATURE, S.RATING)
        panels.append(Panel(
            "timeseries", "User feedback", "Thumbs up and down per second by feature. Read together with the "
            "eval score: users notice regressions the sampled evals miss.",
            unit=EVENTS_PER_SECOND, width=8, stacked=True,
            queries=(PromQuery(rate(c.filters.raw(feedback), by), legend(*by)),)))
    refusals, requests = c.get(S.REFUSALS), c.get(S.REQUESTS)
    if refusals is not None and requests is not None:
        by = _by(refusals, S.FEATURE)
        panels.append(Panel(
            "timeseries", "Refusal rate", "Share of model calls in which the model declined to answer, by "
            "feature. Up on every feature: provider policy; on one: its prompt or input changed. Read samples "
            "in the traces before changing the prompt.",
            unit="percentunit", width=8,
            queries=(PromQuery(ratio(rate(c.filters.raw(refusals), by), rate(c.filters.raw(requests), by)),
                               legend(*by)),)))
    return tuple(panels)


# -- change strip -----------------------------------------------------------


def change_panels(c: Context) -> tuple[Panel, ...]:
    panels: list[Panel] = []
    prompts = c.get(S.PROMPT_TEMPLATE_INFO)
    if prompts is not None:
        by = _by(prompts, S.FEATURE, S.PROMPT_VERSION)
        panels.append(Panel(
            "state-timeline", "Prompt versions in use", "Which prompt template version each feature ran, over "
            "time: a new bar is a prompt change. Line it up with latency, cost, refusals and eval score above "
            "(the same changes are dashboard annotations).",
            unit="none", width=12, height=6, mappings=(ValueText(1, "in use", "blue"),),
            queries=(PromQuery(f"max by ({', '.join(by)}) ({c.filters.raw(prompts)})", legend(*by)),)))
    build = c.get(S.BUILD_INFO)
    if build is not None:
        by = _by(build, S.VERSION)
        panels.append(Panel(
            "state-timeline", "Application versions (deploys)", "Which application build ran, over time: a new "
            "bar is a deploy. First question of every incident: what changed in the last 24 hours?",
            unit="none", width=12, height=6, mappings=(ValueText(1, "running", "purple"),),
            queries=(PromQuery(f"max by ({', '.join(by)}) ({c.filters.raw(build)})", legend(*by)),)))
    return tuple(panels)


def change_annotation_exprs(c: Context) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """(name, expr, tag labels) of the change annotations: a label set that appeared in the last 5 minutes."""
    out = []
    for role, name, labels in ((S.PROMPT_TEMPLATE_INFO, "Prompt version change", (S.FEATURE, S.PROMPT_VERSION)),
                               (S.BUILD_INFO, "Deploy", (S.VERSION,))):
        metric = c.get(role)
        if metric is None:
            continue
        by = _by(metric, *labels)
        now = f"count by ({', '.join(by)}) ({c.filters.raw(metric)})"
        before = f"count by ({', '.join(by)}) ({c.filters.raw(metric)} offset 5m)"
        out.append((name, f"{now}\nunless\n{before}", by))
    return tuple(out)


def middle_rows(c: Context) -> tuple[Row, ...]:
    rows = [Row("Traffic and errors", traffic_panels(c) + saturation_panels(c)),
            Row("Latency", latency_panels(c)),
            Row("Tokens and cache", token_panels(c)),
            Row("Retrieval and tools", retrieval_tool_panels(c)),
            Row("Quality", quality_panels(c)),
            Row("Changes", change_panels(c))]
    return tuple(r for r in rows if r.panels)

