"""One user request through the steps of an LLM app:

input guardrail -> retrieval -> prompt assembly -> model call(s) (+ tool calls
in the agent path) -> output validation -> output guardrail -> refusal check
-> sampled quality eval -> one log line. Each step is a span; each outcome a
catalog metric; the request's trace id rides on the exemplars.
"""

from __future__ import annotations

import json
import math
import random
import re
import uuid
from dataclasses import dataclass

from opentelemetry.trace import SpanKind, Status, StatusCode

from slokit_app.appdata import AppData, PromptTemplate
from slokit_app.calls import ModelCaller
from slokit_app.faults import Faults
from slokit_app.logs import text_fingerprint, utc_timestamp
from slokit_app.providers.base import ModelRequest
from slokit_app.providers.simulated import REFUSAL_TEXT
from slokit_app.labels import OTHER, plain_id
from slokit_app.redact import looks_sensitive, redact
from slokit_app.state import RequestState
from slokit_app.steps import (eval_score, input_guardrail, output_guardrail, retrieve, run_tool,
                              validate_output)
from slokit_app.telemetry import Telemetry
from slokit_app.timeline import Timeline
from slokit_app.tracing import set_attributes, trace_ids

_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
EXPENSIVE_USD = 0.10
CAPTURE_CHARS = 2000
# Healthy refusals: 0.2% of answers, a tenth of answered-not-refused's 2% budget
# (refused answers also fail the quality eval).
BASE_REFUSAL_RATE = 0.002


@dataclass(frozen=True)
class Ask:
    """A user request as the HTTP layer hands it over."""

    feature: str
    message: str
    tenant: str = "default"
    conversation_id: str | None = None


@dataclass(frozen=True)
class Reply:
    http_status: int
    body: dict


def safe_id(value: str | None, fallback: str) -> str:
    """Ids from callers become log fields and span attributes: keep only tame
    ones, and none that a redaction rule would touch (a phone number, a key)."""
    return value if value and _SAFE_ID.match(value) and "@" not in value and not looks_sensitive(value) else fallback


def safe_tenant(value: str | None) -> str:
    """The tenant as logged, traced and labelled: a plain id, else `other` (labels.plain_id)."""
    return value if value and plain_id(value) else OTHER


class Flow:
    def __init__(self, data: AppData, faults: Faults, caller: ModelCaller, telemetry: Telemetry,
                 rng: random.Random, time_scale: float):
        self._data = data
        self._faults = faults
        self._caller = caller
        self._tel = telemetry
        self._rng = rng
        self._time_scale = time_scale
        self._published_versions: dict[str, str] = {}

    # ---- prompt versions ------------------------------------------------
    def template_for(self, feature: str) -> PromptTemplate:
        version = self._faults.prompt_version(feature) or self._data.active_versions[feature]
        template = self._data.templates[(feature, version)]
        self._publish_version(feature, version)
        return template

    def _publish_version(self, feature: str, version: str) -> None:
        previous = self._published_versions.get(feature)
        if previous == version:
            return
        m = self._tel.metrics
        if previous is not None:
            m.remove("llm_prompt_template_info", {"feature": feature, "prompt_version": previous})
        m.set("llm_prompt_template_info", {"feature": feature, "prompt_version": version}, 1)
        self._published_versions[feature] = version

    def publish_all_versions(self) -> None:
        for feature in self._data.features:
            self.template_for(feature)

    # ---- the request ----------------------------------------------------
    async def handle(self, ask: Ask, parent_context=None) -> Reply:
        feature = self._data.features.get(ask.feature)
        if feature is None:
            return Reply(404, {"error": "unknown_feature", "known": sorted(self._data.features)})
        state = RequestState(
            request_id=uuid.uuid4().hex, feature=feature, tenant=safe_tenant(ask.tenant),
            conversation_id=self._conversation_id(ask.conversation_id), timeline=Timeline(self._time_scale),
        )
        tel, m = self._tel, self._tel.metrics
        capture = None
        m.add("llm_inflight_requests", {"feature": feature.name}, 1)
        try:
            with tel.tracer.span(f"{feature.name} request", state.timeline, context=parent_context,
                                 kind=SpanKind.SERVER) as root:
                state.trace_id, state.span_id = trace_ids(root)
                reply = await self._run(state, ask.message)
                self._finish_span(root, state)
                capture = self._capture(ask.message, reply)
                if capture is not None:
                    # Content goes in a span event, never in attributes, and only redacted.
                    root.add_event("app.llm.content_capture", capture)
        finally:
            m.add("llm_inflight_requests", {"feature": feature.name}, -1)
        self._log(state, ask.message, reply, capture)
        return reply

    def _conversation_id(self, given: str | None) -> str:
        """A caller's conversation id is caller text (it may be an email, a ticket
        number, a key): logs and spans carry its keyed hash, which still groups the
        conversation's requests. Without one, a fresh id."""
        if not given:
            return uuid.uuid4().hex
        return text_fingerprint(self._tel.hash_key, given)["hash"]

    def _capture(self, message: str, reply: Reply) -> dict[str, str] | None:
        """The debug-capture sample of a sampled share of requests: redacted, then cut.

        Redacting the whole text before cutting matters: a secret that straddles
        the cut would otherwise survive as a fragment too short for any rule.
        """
        rate = self._tel.debug_capture_rate
        if rate <= 0 or self._rng.random() >= rate:
            return None
        return {"prompt": redact(message)[:CAPTURE_CHARS],
                "answer": redact(str(reply.body.get("answer")))[:CAPTURE_CHARS]}

    async def _run(self, state: RequestState, message: str) -> Reply:
        tel, m, rng, feature = self._tel, self._tel.metrics, self._rng, state.feature
        with tel.tracer.span("guardrail input", state.timeline, {"app.llm.guardrail.stage": "input"}) as span:
            await state.timeline.advance(rng.uniform(0.002, 0.01))
            rejected = input_guardrail(message)
            set_attributes(span, {"app.llm.guardrail.outcome": "rejected" if rejected else "pass"})
        if rejected:
            state.status, state.guardrail, state.error_class = "rejected", rejected, "input_rejected"
            m.inc("llm_guardrail_rejections_total", state.labels(source=rejected), trace_id=state.trace_id)
            return Reply(400, self._body(state, {"error": "input_rejected"}))

        output_factor, input_factor, runaway = self._faults.token_explosion(feature.name)
        if input_factor > 1:
            # Pasted documents / bloated history: the message arrives many times longer.
            message = " ".join([message] * max(1, math.ceil(input_factor * 8)))
        state.template = template = self.template_for(feature.name)
        passages = await self._retrieve(state, message, template.context_docs)

        with tel.tracer.span("prompt assemble", state.timeline, {
            "app.llm.prompt.template.id": template.template_id, "app.llm.prompt.template.sha": template.sha,
            "app.llm.prompt.template.version": template.version, "app.llm.retrieval.passages": len(passages),
        }):
            context = "\n".join(f"[{p.id}] {p.text}" for p in passages)
            prompt = template.text.replace("{context}", context).replace("{message}", message)

        answer_tokens = int(rng.lognormvariate(math.log(feature.answer_tokens.median), feature.answer_tokens.sigma)
                            * output_factor)
        base = ModelRequest(
            model=feature.model, prompt=prompt, max_output_tokens=int(feature.max_output_tokens * output_factor),
            feature=feature.name, cacheable_prefix_tokens=template.padding_tokens,
            cache_key=f"{feature.name}:{template.sha}" if template.cache_prefix else "", answer_tokens=answer_tokens,
        )
        outcome = await self._model_loop(state, base, runaway)
        if outcome is None:
            return Reply(self._http_status(state.status), self._body(state, {"error": state.status}))
        text, finish = outcome
        return await self._check_answer(state, text, finish, grounded=bool(passages) or not feature.connectors)

    async def _retrieve(self, state: RequestState, query: str, k: int) -> list:
        tel, m = self._tel, self._tel.metrics
        passages: list = []
        for name in state.feature.connectors:
            connector = self._data.connectors[name]
            with tel.tracer.span(f"retrieve {name}", state.timeline, {"app.llm.retrieval.connector": name,
                                                                      "app.llm.retrieval.top_k": k}) as span:
                result = retrieve(connector, query, k, self._faults, self._rng)
                await state.timeline.advance(result.latency_s)
                set_attributes(span, {"app.llm.retrieval.outcome": result.outcome,
                                      "app.llm.retrieval.source_ids": [p.id for p in result.passages]})
                if result.outcome in ("error", "timeout"):
                    span.set_status(Status(StatusCode.ERROR, result.outcome))
            m.inc("llm_retrieval_requests_total", {"connector": name, "outcome": result.outcome}, trace_id=state.trace_id)
            m.observe("llm_retrieval_latency_seconds", {"connector": name}, result.latency_s, trace_id=state.trace_id)
            passages.extend(result.passages)
        return passages[: max(k, 0)] if k else []

    async def _model_loop(self, state: RequestState, base: ModelRequest, runaway: bool) -> tuple[str, str] | None:
        """Model calls until an answer: one for chat and RAG; for the agent, a
        tool call per step. Returns (text, finish_reason) or None on failure."""
        feature, rng = state.feature, self._rng
        template = state.template
        steps = rng.randint(1, 3) if feature.tools else 0
        prompt = base.prompt
        result_factor = 6.0 if runaway else 1.0
        step = 0
        while True:
            want_tool = None
            if feature.tools and step < feature.max_agent_steps - 1 and (step < steps or runaway):
                want_tool = rng.choice(feature.tools)
            refuse = want_tool is None and rng.random() < max(self._faults.refusal_rate(feature.name), BASE_REFUSAL_RATE)
            defect = None
            if want_tool is None and rng.random() < template.validation_error_rate:
                defect = rng.choice(("invalid_json", "schema_mismatch", "empty_output"))
            request = ModelRequest(**{**base.__dict__, "prompt": prompt, "want_tool_call": want_tool,
                                      "refuse": refuse, "defect": defect})
            state.model_requested = feature.model
            outcome = await self._caller.call(state, request)
            if outcome.response is None:
                state.status, state.error_class = outcome.status, outcome.status
                return None
            response = outcome.response
            if state.usage.total > feature.token_budget:
                state.budget_exceeded = True
                self._tel.metrics.inc("llm_token_budget_exceeded_total", state.labels(), trace_id=state.trace_id)
                state.status, state.error_class = "budget_exceeded", "token_budget_exceeded"
                return response.text or json.dumps({"answer": "This request needs a human agent.", "citations": []}), "length"
            if not response.tool_calls:
                return response.text, response.finish_reason
            for call in response.tool_calls:
                prompt += "\n" + await self._run_tool(state, call.id, call.name, call.arguments, result_factor)
            step += 1

    async def _run_tool(self, state: RequestState, call_id: str, name: str, arguments: str, factor: float) -> str:
        with self._tel.tracer.span(f"execute_tool {name}", state.timeline, {
            "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name, "gen_ai.tool.call.id": call_id,
        }) as span:
            result = run_tool(name, arguments, factor, self._rng)
            await state.timeline.advance(result.latency_s)
            set_attributes(span, {"app.llm.tool.outcome": result.outcome})
            if result.outcome != "success":
                span.set_status(Status(StatusCode.ERROR, result.outcome))
        self._tel.metrics.inc("llm_tool_calls_total", {"tool": name, "outcome": result.outcome}, trace_id=state.trace_id)
        state.tool_calls.append({"tool": name, "outcome": result.outcome})
        return result.output

    async def _check_answer(self, state: RequestState, text: str, finish: str, grounded: bool) -> Reply:
        tel, m, rng = self._tel, self._tel.metrics, self._rng
        refused = text.strip() == REFUSAL_TEXT
        with tel.tracer.span("validate output", state.timeline) as span:
            error_class = None if refused else validate_output(text, finish)
            set_attributes(span, {"app.llm.validation.error_class": error_class or "none"})
        if error_class and not state.budget_exceeded:
            m.inc("llm_validation_errors_total", state.labels(error_class=error_class), trace_id=state.trace_id)
            state.error_class = error_class
            if state.status == "ok":
                state.status = "invalid_output"
        with tel.tracer.span("guardrail output", state.timeline, {"app.llm.guardrail.stage": "output"}) as span:
            blocked = output_guardrail(text, finish, rng)
            set_attributes(span, {"app.llm.guardrail.outcome": "rejected" if blocked else "pass"})
        if blocked:
            m.inc("llm_guardrail_rejections_total", state.labels(source=blocked), trace_id=state.trace_id)
            state.guardrail, state.status = blocked, "blocked"
        if refused:
            m.inc("llm_refusals_total", state.labels(provider=state.provider, model=state.model_served),
                  trace_id=state.trace_id)
            state.status = "refused"
        score = None
        if rng.random() < state.feature.eval_sample_rate:
            with tel.tracer.span("eval quality", state.timeline) as span:
                score = eval_score(state.template.quality_shift, grounded, error_class is None and not refused, rng)
                set_attributes(span, {"app.llm.eval.score": round(score, 4)})
            m.observe("llm_eval_score", state.labels(), score, trace_id=state.trace_id)
        answer = None
        if not blocked and error_class is None:
            answer = json.loads(text).get("answer") if not refused else text
        return Reply(200, self._body(state, {"answer": answer, "eval_score": score}))

    # ---- bookkeeping ------------------------------------------------------
    @staticmethod
    def _http_status(status: str) -> int:
        return {"rate_limited": 429, "timeout": 504, "client_error": 502}.get(status, 503)

    def _body(self, state: RequestState, extra: dict) -> dict:
        template = state.template
        return {
            "request_id": state.request_id, "conversation_id": state.conversation_id, "trace_id": state.trace_id,
            "feature": state.feature.name, "status": state.status, "model": state.model_served or None,
            "prompt": {"id": template.template_id, "sha": template.sha} if template else None,
            "usage": {"input_tokens": state.usage.input, "output_tokens": state.usage.output,
                      "cache_read_tokens": state.usage.cache_read, "cache_write_tokens": state.usage.cache_write},
            "cost_usd": round(state.cost_usd, 8), "latency_s": round(state.timeline.elapsed_s, 6),
            "ttft_s": round(state.ttft_s, 6) if state.ttft_s is not None else None,
            "retries": state.retries, "fallback_used": state.fallback_used, "tool_calls": state.tool_calls,
            **extra,
        }

    def _finish_span(self, root, state: RequestState) -> None:
        template = state.template
        self._tel.metrics.observe("llm_request_cost_usd", state.labels(), state.cost_usd, trace_id=state.trace_id)
        set_attributes(root, {
            "app.llm.feature": state.feature.name, "app.llm.tenant.id": state.tenant,
            "app.llm.conversation.id": state.conversation_id, "app.llm.request.id": state.request_id,
            "app.llm.prompt.template.id": template.template_id if template else None,
            "app.llm.prompt.template.sha": template.sha if template else None,
            "app.llm.cost_usd": round(state.cost_usd, 8), "app.llm.cost_micros": int(round(state.cost_usd * 1e6)),
            "app.llm.expensive": state.cost_usd > EXPENSIVE_USD,
            "app.llm.tokens.cumulative": state.usage.total, "app.llm.budget_exceeded": state.budget_exceeded,
            "app.llm.status": state.status, "app.llm.retries": state.retries,
            "app.llm.fallback_used": state.fallback_used, "app.llm.model_calls": state.model_calls,
        })
        if state.status not in ("ok", "refused"):
            root.set_status(Status(StatusCode.ERROR, state.status))

    def _log(self, state: RequestState, message: str, reply: Reply, capture: dict[str, str] | None) -> None:
        tel = self._tel
        if not tel.logger.enabled:
            return
        template = state.template
        record = {
            "timestamp": utc_timestamp(state.timeline.start_ns), "level": "info", "event": "llm_request",
            "trace_id": state.trace_id, "span_id": state.span_id, "request_id": state.request_id,
            "conversation_id": state.conversation_id, "tenant": state.tenant, "feature": state.feature.name,
            "provider": state.provider or None, "model_requested": state.model_requested or state.feature.model,
            "model_served": state.model_served or None,
            "prompt_template_id": template.template_id if template else None,
            "prompt_template_sha": template.sha if template else None,
            "prompt": text_fingerprint(tel.hash_key, message),
            "input_tokens": state.usage.input, "output_tokens": state.usage.output,
            "cache_read_tokens": state.usage.cache_read, "cache_write_tokens": state.usage.cache_write,
            "cost_usd": round(state.cost_usd, 8), "ttft_s": round(state.ttft_s, 6) if state.ttft_s is not None else None,
            "latency_s": round(state.timeline.elapsed_s, 6), "status": state.status, "http_status": reply.http_status,
            "error_class": state.error_class, "retry_count": state.retries, "fallback_used": state.fallback_used,
            "guardrail": state.guardrail, "budget_exceeded": state.budget_exceeded, "model_calls": state.model_calls,
        }
        tel.logger.write(record)
        if capture is not None:
            tel.logger.write({
                "timestamp": record["timestamp"], "level": "debug", "event": "debug_capture",
                "trace_id": state.trace_id, "request_id": state.request_id,
                "prompt_redacted": capture["prompt"], "answer_redacted": capture["answer"],
            })
