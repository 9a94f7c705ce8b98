"""One logical model call: attempts with retries and backoff, a circuit breaker
per model, fallback to the feature's secondary model — each visible in
metrics and as one `chat <model>` span per attempt."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, replace

from opentelemetry.trace import SpanKind, Status, StatusCode

from slokit_app.appdata import ModelProfile
from slokit_app.pricing import cost_usd
from slokit_app.providers.base import ModelRequest, ModelResponse, Provider, ProviderError
from slokit_app.resilience import CircuitBreaker, backoff_s
from slokit_app.state import RequestState
from slokit_app.telemetry import Telemetry
from slokit_app.tracing import set_attributes


@dataclass(frozen=True)
class CallPolicy:
    max_retries: int
    backoff_base_s: float
    timeout_s: float
    breaker_failures: int
    breaker_cooldown_s: float


@dataclass(frozen=True)
class CallOutcome:
    response: ModelResponse | None
    status: str
    model: str
    cost_usd: float


class ModelCaller:
    def __init__(self, provider: Provider, models: dict[str, ModelProfile], policy: CallPolicy,
                 telemetry: Telemetry, rng: random.Random):
        self._provider = provider
        self._models = models
        self._policy = policy
        self._tel = telemetry
        self._rng = rng
        self._breakers: dict[str, CircuitBreaker] = {}

    def breaker(self, model: str) -> CircuitBreaker:
        if model not in self._breakers:
            self._breakers[model] = CircuitBreaker(self._policy.breaker_failures, self._policy.breaker_cooldown_s)
        return self._breakers[model]

    def _set_breaker_gauge(self, model: str) -> None:
        self._tel.metrics.set("llm_circuit_breaker_open", {"provider": self._provider.name, "model": model},
                              1.0 if self.breaker(model).is_open else 0.0)

    async def _attempt(self, state: RequestState, request: ModelRequest, attempt: int) -> ModelResponse:
        tel, provider = self._tel, self._provider
        attrs = {
            "gen_ai.operation.name": "chat", "gen_ai.provider.name": provider.name,
            "gen_ai.request.model": request.model, "gen_ai.request.max_tokens": request.max_output_tokens,
            "gen_ai.request.temperature": request.temperature, "gen_ai.conversation.id": state.conversation_id,
            "app.llm.feature": state.feature.name,
            "app.llm.attempt": attempt,
        }
        with tel.tracer.span(f"chat {request.model}", state.timeline, attrs, kind=SpanKind.CLIENT) as span:
            try:
                response = await provider.complete(request, state.timeline, self._policy.timeout_s)
            except ProviderError as exc:
                span.set_status(Status(StatusCode.ERROR, exc.status))
                set_attributes(span, {"error.type": exc.status, "app.llm.retry_after_s": exc.retry_after_s})
                raise
            prices = self._models[request.model].prices if request.model in self._models else None
            cost = cost_usd(response.usage, prices) if prices else 0.0
            set_attributes(span, {
                "gen_ai.response.model": response.model, "gen_ai.response.id": response.response_id,
                "gen_ai.response.finish_reasons": [response.finish_reason],
                "gen_ai.usage.input_tokens": response.usage.input, "gen_ai.usage.output_tokens": response.usage.output,
                "gen_ai.usage.cache_read.input_tokens": response.usage.cache_read,
                "gen_ai.usage.cache_creation.input_tokens": response.usage.cache_write,
                "app.llm.cost_usd": round(cost, 8), "app.llm.ttft_s": round(response.ttft_s, 6),
            })
            return response

    async def _try_model(self, state: RequestState, request: ModelRequest) -> tuple[ModelResponse | None, str]:
        """Attempts on one model; (response, status of the last attempt)."""
        m, provider, breaker = self._tel.metrics, self._provider.name, self.breaker(request.model)
        status = "server_error"
        for attempt in range(self._policy.max_retries + 1):
            if not breaker.allow():
                return None, "server_error"
            try:
                response = await self._attempt(state, request, attempt)
            except ProviderError as exc:
                status = exc.status
                ctx = {"provider": provider, "model": request.model}
                if exc.status == "rate_limited":
                    m.inc("llm_rate_limits_total", ctx, trace_id=state.trace_id)
                if exc.status in ("server_error", "timeout"):
                    breaker.record_failure()
                    self._set_breaker_gauge(request.model)
                if not exc.retryable or attempt == self._policy.max_retries or not breaker.allow():
                    return None, status
                m.inc("llm_retries_total", {**ctx, "reason": exc.status}, trace_id=state.trace_id)
                state.retries += 1
                pause = backoff_s(attempt, self._policy.backoff_base_s, exc.retry_after_s, self._rng)
                if getattr(self._provider, "real_time", False):
                    # A real endpoint must really be given the time it asked for.
                    await asyncio.sleep(pause)
                    state.timeline.advance_real(pause)
                else:
                    await state.timeline.advance(pause)
                continue
            breaker.record_success()
            self._set_breaker_gauge(request.model)
            return response, "ok"
        return None, status

    async def call(self, state: RequestState, request: ModelRequest) -> CallOutcome:
        m, provider = self._tel.metrics, self._provider.name
        feature = state.feature
        start = state.timeline.elapsed_s
        state.model_calls += 1
        response, status, model = None, "server_error", request.model
        for index, candidate in enumerate((feature.model, feature.fallback)):
            if index == 1:
                if candidate == feature.model:
                    break
                m.inc("llm_fallbacks_total", state.labels(provider=provider, model=feature.model), trace_id=state.trace_id)
                state.fallback_used = True
            model = candidate
            response, status = await self._try_model(state, replace(request, model=candidate))
            if response is not None:
                break

        labels = state.labels(provider=provider, model=response.model if response else model)
        m.inc("llm_requests_total", {**labels, "status": status}, trace_id=state.trace_id)
        if response is None:
            return CallOutcome(None, status, model, 0.0)

        usage = response.usage
        cost = cost_usd(usage, self._models[model].prices) if model in self._models else 0.0
        state.usage += usage
        state.cost_usd += cost
        state.provider, state.model_served = provider, response.model
        ttft = (state.timeline.elapsed_s - start) - response.decode_s
        total = state.timeline.elapsed_s - start
        if state.ttft_s is None:
            state.ttft_s = ttft
        tid = state.trace_id
        m.inc("llm_input_tokens_total", labels, usage.input, trace_id=tid)
        m.inc("llm_output_tokens_total", labels, usage.output, trace_id=tid)
        m.inc("llm_cache_read_tokens_total", labels, usage.cache_read, trace_id=tid)
        m.inc("llm_cache_write_tokens_total", labels, usage.cache_write, trace_id=tid)
        m.inc("llm_cost_usd_total", labels, cost, trace_id=tid)
        m.observe("llm_ttft_seconds", labels, ttft, trace_id=tid)
        m.observe("llm_total_latency_seconds", labels, total, trace_id=tid)
        if usage.input:
            m.observe("llm_cache_hit_ratio", labels, usage.cache_read / usage.input, trace_id=tid)
        if usage.output > 1 and response.decode_s > 0:
            m.observe("llm_tpot_seconds", labels, response.decode_s / (usage.output - 1), trace_id=tid)
            m.observe("llm_decode_tokens_per_second", labels, usage.output / response.decode_s, trace_id=tid)
        for i, gap in enumerate(response.chunk_gaps_s):
            # One exemplar per call is enough to find the trace; validating one per chunk is not free.
            m.observe("llm_streaming_chunk_gap_seconds", labels, gap, trace_id=tid if i == 0 else None)
        for resource, remaining in response.quota_remaining.items():
            m.set("llm_provider_quota_remaining", {**labels, "resource": resource}, remaining)
        return CallOutcome(response, "ok", response.model, cost)
