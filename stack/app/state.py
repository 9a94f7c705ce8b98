"""What one request accumulates as it runs through its steps."""

from __future__ import annotations

from dataclasses import dataclass, field

from slokit_app.appdata import FeatureConfig, PromptTemplate
from slokit_app.pricing import Usage
from slokit_app.timeline import Timeline


@dataclass
class RequestState:
    request_id: str
    feature: FeatureConfig
    tenant: str
    conversation_id: str
    timeline: Timeline
    trace_id: str | None = None
    span_id: str | None = None
    template: PromptTemplate | None = None
    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0
    model_calls: int = 0
    retries: int = 0
    fallback_used: bool = False
    provider: str = ""
    model_requested: str = ""
    model_served: str = ""
    ttft_s: float | None = None
    status: str = "ok"
    error_class: str | None = None
    guardrail: str = "pass"
    budget_exceeded: bool = False
    tool_calls: list[dict] = field(default_factory=list)

    def labels(self, **extra: object) -> dict[str, object]:
        """The label context for metrics; the catalog picks what each metric carries."""
        ctx: dict[str, object] = {"feature": self.feature.name, "tenant": self.tenant}
        if self.template is not None:
            ctx["prompt_version"] = self.template.version
        ctx.update(extra)
        return ctx
