"""The catalog metrics the dashboards know how to show, resolved against the catalog.

The dashboards draw LLM-specific panels (TTFT, decode rate, cache hit rate,
...), so they need to know which catalog metric plays which role. The roles
are declared once, here, by the catalog's metric names (the same vocabulary
the demo app emits). At render time each role is looked up in the user's
catalog object: a role whose metric is missing, or has another type, is not
drawn, and every label a query groups or filters by is taken from the
catalog's `labels` list of that metric. So a dashboard can never query a
metric or label the catalog does not declare (the dashboards tests check it
on every expression as well).
"""

from __future__ import annotations

from dataclasses import dataclass

from slokit.model import Catalog, MetricDef


@dataclass(frozen=True)
class Role:
    metric: str
    type: str  # counter | histogram | gauge


# Traffic and errors
REQUESTS = Role("llm_requests_total", "counter")
RATE_LIMITS = Role("llm_rate_limits_total", "counter")
RETRIES = Role("llm_retries_total", "counter")
FALLBACKS = Role("llm_fallbacks_total", "counter")
REFUSALS = Role("llm_refusals_total", "counter")
VALIDATION_ERRORS = Role("llm_validation_errors_total", "counter")
GUARDRAIL_REJECTIONS = Role("llm_guardrail_rejections_total", "counter")
TOKEN_BUDGET_EXCEEDED = Role("llm_token_budget_exceeded_total", "counter")
# Saturation
CIRCUIT_BREAKER_OPEN = Role("llm_circuit_breaker_open", "gauge")
QUOTA_REMAINING = Role("llm_provider_quota_remaining", "gauge")
INFLIGHT = Role("llm_inflight_requests", "gauge")
# Latency
TTFT = Role("llm_ttft_seconds", "histogram")
TPOT = Role("llm_tpot_seconds", "histogram")
TOTAL_LATENCY = Role("llm_total_latency_seconds", "histogram")
DECODE_RATE = Role("llm_decode_tokens_per_second", "histogram")
CHUNK_GAP = Role("llm_streaming_chunk_gap_seconds", "histogram")
# Tokens, cache, cost
INPUT_TOKENS = Role("llm_input_tokens_total", "counter")
OUTPUT_TOKENS = Role("llm_output_tokens_total", "counter")
CACHE_READ_TOKENS = Role("llm_cache_read_tokens_total", "counter")
CACHE_WRITE_TOKENS = Role("llm_cache_write_tokens_total", "counter")
COST = Role("llm_cost_usd_total", "counter")
REQUEST_COST = Role("llm_request_cost_usd", "histogram")
# Retrieval, tools, quality
RETRIEVALS = Role("llm_retrieval_requests_total", "counter")
RETRIEVAL_LATENCY = Role("llm_retrieval_latency_seconds", "histogram")
TOOL_CALLS = Role("llm_tool_calls_total", "counter")
EVAL_SCORE = Role("llm_eval_score", "histogram")
USER_FEEDBACK = Role("llm_user_feedback_total", "counter")
# Change markers (info gauges: value 1, the version is a label)
PROMPT_TEMPLATE_INFO = Role("llm_prompt_template_info", "gauge")
BUILD_INFO = Role("llm_app_build_info", "gauge")


@dataclass(frozen=True)
class Metric:
    """A resolved role: the catalog's name and definition."""

    name: str
    definition: MetricDef

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.definition.labels)

    def has(self, label: str) -> bool:
        return label in self.definition.labels

    def only(self, *labels: str) -> tuple[str, ...]:
        """The given labels that this metric carries, in the order given."""
        return tuple(label for label in labels if self.has(label))


class Signals:
    """The user's catalog, seen through the roles above."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog

    def get(self, role: Role) -> Metric | None:
        definition = self.catalog.metrics.get(role.metric)
        if definition is None or definition.type != role.type:
            return None
        return Metric(role.metric, definition)

    def label_values(self, label: str) -> tuple[str, ...]:
        """The declared values of a bounded label (empty for capped ones such as tenant)."""
        definition = self.catalog.labels.get(label)
        return tuple(definition.values or ()) if definition is not None else ()

    def has_value(self, label: str, value: str) -> bool:
        return value in self.label_values(label)


# Catalog labels the dashboards slice by. Like the roles, each is used only
# where the catalog says the metric carries it (`Metric.only`).
FEATURE = "feature"
MODEL = "model"
PROVIDER = "provider"
STATUS = "status"
TENANT = "tenant"
ERROR_CLASS = "error_class"
SOURCE = "source"
REASON = "reason"
CONNECTOR = "connector"
OUTCOME = "outcome"
TOOL = "tool"
RATING = "rating"
RESOURCE = "resource"
PROMPT_VERSION = "prompt_version"
VERSION = "version"
# The `status` value of a successful call (a catalog value, checked with has_value).
STATUS_OK = "ok"
