"""The built-in simulated provider: no network, no keys.

Per model (data/models.yaml): log-normal TTFT, normal decode rate, token
counts from the text, a prompt cache, per-minute quotas, and a small
background rate of 429s, 5xx and timeouts. Active fault scenarios raise
those rates or stretch the latencies. Streaming is modelled chunk by chunk:
each chunk's gap is drawn and reported, the time is spent on the timeline.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections import deque

from slokit_app.appdata import ModelProfile
from slokit_app.faults import Faults
from slokit_app.pricing import Usage
from slokit_app.providers.base import ModelRequest, ModelResponse, ProviderError, ToolCall
from slokit_app.timeline import Timeline
from slokit_app.tokens import count_tokens, filler

# Background failure rates of a healthy provider, per attempt.
BASE_RATE_LIMIT = 0.001
BASE_SERVER_ERROR = 0.0005
REFUSAL_TEXT = "I'm sorry, but I can't help with that request."
CACHE_HIT_CHANCE = 0.9


class _Quota:
    """Requests and tokens used in the last minute of wall time."""

    def __init__(self, profile: ModelProfile):
        self._profile = profile
        self._events: deque[tuple[float, int]] = deque()
        self._tokens = 0

    def use(self, tokens: int) -> dict[str, float]:
        now = time.monotonic()
        while self._events and now - self._events[0][0] > 60:
            self._tokens -= self._events.popleft()[1]
        self._events.append((now, tokens))
        self._tokens += tokens
        return {
            "requests": max(0.0, 1 - len(self._events) / self._profile.requests_per_minute),
            "tokens": max(0.0, 1 - self._tokens / self._profile.tokens_per_minute),
        }


class SimulatedProvider:
    name = "simulated"

    def __init__(self, models: dict[str, ModelProfile], faults: Faults, rng: random.Random):
        self._models = models
        self._faults = faults
        self._rng = rng
        self._cache: set[str] = set()
        self._quotas = {name: _Quota(p) for name, p in models.items()}

    def _fail_attempt(self, request: ModelRequest, timeout_s: float) -> ProviderError | None:
        rng = self._rng
        limit_rate, retry_after = self._faults.rate_limits(request.model)
        if rng.random() < max(limit_rate, BASE_RATE_LIMIT):
            return ProviderError("rate_limited", "429 Too Many Requests", retry_after_s=retry_after or 1.0,
                                 elapsed_s=rng.uniform(0.02, 0.08))
        error_rate, timeout_share = self._faults.provider_errors(request.model)
        if rng.random() < max(error_rate, BASE_SERVER_ERROR):
            if rng.random() < timeout_share:
                return ProviderError("timeout", f"no first byte within {timeout_s:g}s", elapsed_s=timeout_s)
            return ProviderError("server_error", "503 Service Unavailable", elapsed_s=rng.uniform(0.05, 0.4))
        return None

    def _cache_usage(self, request: ModelRequest) -> tuple[int, int]:
        if not request.cache_key or request.cacheable_prefix_tokens < 1024:
            return 0, 0  # providers cache only long prefixes
        if request.cache_key in self._cache and self._rng.random() < CACHE_HIT_CHANCE:
            return request.cacheable_prefix_tokens, 0
        self._cache.add(request.cache_key)
        return 0, request.cacheable_prefix_tokens

    def _completion(self, request: ModelRequest) -> tuple[str, str, tuple[ToolCall, ...]]:
        rng = self._rng
        if request.want_tool_call:
            call = ToolCall(f"call_{rng.getrandbits(48):012x}", request.want_tool_call,
                            json.dumps({"order_id": f"A{rng.randint(10000, 99999)}"}))
            return "", "tool_calls", (call,)
        if request.refuse:
            return REFUSAL_TEXT, "stop", ()
        tokens = max(1, request.answer_tokens)
        if request.defect == "empty_output":
            return "", "stop", ()
        if request.defect == "schema_mismatch":
            return json.dumps({"reply": filler(rng, tokens)}), "stop", ()
        if request.defect == "invalid_json":
            return "Sure! " + filler(rng, tokens), "stop", ()
        body = json.dumps({"answer": filler(rng, tokens), "citations": []})
        if tokens > request.max_output_tokens:
            # Cut mid-stream at the token limit, as a provider does.
            cut = int(len(body) * request.max_output_tokens / tokens)
            return body[:cut], "length", ()
        return body, "stop", ()

    async def complete(self, request: ModelRequest, timeline: Timeline, timeout_s: float) -> ModelResponse:
        profile = self._models.get(request.model)
        if profile is None:
            raise ProviderError("client_error", f"404 unknown model {request.model!r}")
        failure = self._fail_attempt(request, timeout_s)
        if failure is not None:
            await timeline.advance(failure.elapsed_s)
            raise failure

        rng = self._rng
        ttft = rng.lognormvariate(math.log(profile.ttft.median), profile.ttft.sigma) * self._faults.ttft_factor(request.model)
        if ttft > timeout_s:
            await timeline.advance(timeout_s)
            raise ProviderError("timeout", f"no first byte within {timeout_s:g}s", elapsed_s=timeout_s)

        text, finish, tool_calls = self._completion(request)
        output_tokens = count_tokens(text) if text else (8 + 12 * len(tool_calls) if tool_calls else 1)
        input_tokens = count_tokens(request.prompt) + request.cacheable_prefix_tokens
        cache_read, cache_write = self._cache_usage(request)

        tps = max(1.0, rng.gauss(profile.decode_mean, profile.decode_stddev) * self._faults.decode_factor(request.model))
        chunks = max(1, math.ceil(output_tokens / profile.chunk_tokens))
        mean_gap = profile.chunk_tokens / tps
        gaps = tuple(rng.expovariate(1 / mean_gap) for _ in range(chunks - 1))
        decode = sum(gaps)
        await timeline.advance(ttft)
        await timeline.advance(decode)
        quota = self._quotas[request.model].use(input_tokens + output_tokens)
        return ModelResponse(
            provider=profile.provider, model=request.model, response_id=f"simresp-{rng.getrandbits(64):016x}",
            text=text, finish_reason=finish,
            usage=Usage(input=input_tokens, output=output_tokens, cache_read=cache_read, cache_write=cache_write),
            ttft_s=ttft, total_s=ttft + decode, chunk_gaps_s=gaps, tool_calls=tool_calls, quota_remaining=quota,
        )
