"""An OpenAI-compatible chat-completions client (streaming), off by default.

Selected with SLOKIT_APP_PROVIDER=openai and SLOKIT_APP_OPENAI_BASE_URL
(e.g. http://127.0.0.1:8080/v1); SLOKIT_APP_OPENAI_API_KEY is sent as a
bearer token; SLOKIT_APP_OPENAI_MODELS maps the app's model roles to the
endpoint's ids (`sim-large=gpt-4o,sim-small=gpt-4o-mini`). Latencies are
measured for real and put on the request's timeline.
"""

from __future__ import annotations

import json
import time

import httpx

from slokit_app.config import OpenAISettings
from slokit_app.pricing import Usage
from slokit_app.providers.base import ModelRequest, ModelResponse, ProviderError, ToolCall
from slokit_app.timeline import Timeline

SYSTEM_PROMPT = "You are a helpful assistant. Reply as JSON {\"answer\": str, \"citations\": [str]}."


def _quota(headers: httpx.Headers) -> dict[str, float]:
    quota = {}
    for resource in ("requests", "tokens"):
        limit, remaining = headers.get(f"x-ratelimit-limit-{resource}"), headers.get(f"x-ratelimit-remaining-{resource}")
        try:
            if limit and remaining and float(limit) > 0:
                quota[resource] = max(0.0, min(1.0, float(remaining) / float(limit)))
        except ValueError:
            continue
    return quota


def _retry_after(headers: httpx.Headers) -> float | None:
    try:
        return float(headers["retry-after"])
    except (KeyError, ValueError):
        return None


def _error(status_code: int, headers: httpx.Headers, elapsed: float) -> ProviderError:
    if status_code == 429:
        return ProviderError("rate_limited", "429 Too Many Requests", _retry_after(headers), elapsed)
    if status_code in (408, 504):
        return ProviderError("timeout", f"{status_code} from provider", elapsed_s=elapsed)
    if status_code >= 500:
        return ProviderError("server_error", f"{status_code} from provider", elapsed_s=elapsed)
    return ProviderError("client_error", f"{status_code} from provider", elapsed_s=elapsed)


class OpenAICompatProvider:
    real_time = True  # backoff is slept for real, not simulated

    def __init__(self, settings: OpenAISettings, client: httpx.AsyncClient | None = None):
        self.name = settings.provider_name
        self._settings = settings
        self._client = client or httpx.AsyncClient(timeout=settings.timeout_s)

    def _payload(self, request: ModelRequest) -> dict:
        payload = {
            "model": self._settings.model_map.get(request.model, request.model),
            "messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": request.prompt}],
            "max_tokens": request.max_output_tokens, "temperature": request.temperature,
            "stream": True, "stream_options": {"include_usage": True},
        }
        if request.want_tool_call:
            payload["tools"] = [{"type": "function", "function": {
                "name": request.want_tool_call, "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}}}}]
            payload["tool_choice"] = {"type": "function", "function": {"name": request.want_tool_call}}
        return payload

    async def complete(self, request: ModelRequest, timeline: Timeline, timeout_s: float) -> ModelResponse:
        headers = {"content-type": "application/json"}
        if self._settings.api_key:
            headers["authorization"] = f"Bearer {self._settings.api_key}"
        url = self._settings.base_url.rstrip("/") + "/chat/completions"
        start = time.perf_counter()
        first = last = None
        gaps: list[float] = []
        text, finish, model, response_id = [], "stop", request.model, ""
        tools: dict[int, dict] = {}
        usage = None
        try:
            async with self._client.stream("POST", url, json=self._payload(request), headers=headers,
                                           timeout=httpx.Timeout(timeout_s, read=timeout_s)) as resp:
                if resp.status_code != 200:
                    await resp.aread()
                    elapsed = time.perf_counter() - start
                    timeline.advance_real(elapsed)
                    raise _error(resp.status_code, resp.headers, elapsed)
                quota = _quota(resp.headers)
                async for line in resp.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    now = time.perf_counter()
                    chunk = json.loads(data)
                    model, response_id = chunk.get("model", model), chunk.get("id", response_id)
                    usage = chunk.get("usage") or usage
                    for choice in chunk.get("choices", []):
                        delta = choice.get("delta", {})
                        if delta.get("content") or delta.get("tool_calls"):
                            if first is None:
                                first = now
                            elif last is not None:
                                gaps.append(now - last)
                            last = now
                        text.append(delta.get("content") or "")
                        for tc in delta.get("tool_calls") or []:
                            slot = tools.setdefault(tc.get("index", 0), {"id": "", "name": "", "arguments": ""})
                            slot["id"] = tc.get("id") or slot["id"]
                            fn = tc.get("function") or {}
                            slot["name"] = fn.get("name") or slot["name"]
                            slot["arguments"] += fn.get("arguments") or ""
                        finish = choice.get("finish_reason") or finish
        except httpx.TimeoutException:
            timeline.advance_real(time.perf_counter() - start)
            raise ProviderError("timeout", f"no response within {timeout_s:g}s", elapsed_s=timeout_s) from None
        except (httpx.TransportError, json.JSONDecodeError) as exc:
            elapsed = time.perf_counter() - start
            timeline.advance_real(elapsed)
            raise ProviderError("server_error", f"transport error: {type(exc).__name__}", elapsed_s=elapsed) from None
        total = time.perf_counter() - start
        timeline.advance_real(total)
        u = usage or {}
        cached = int((u.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
        return ModelResponse(
            provider=self.name, model=model, response_id=response_id, text="".join(text), finish_reason=finish,
            # OpenAI reports prompt_tokens including cached ones: already the normalised form.
            usage=Usage(input=int(u.get("prompt_tokens") or 0), output=int(u.get("completion_tokens") or 0),
                        cache_read=cached),
            ttft_s=(first - start) if first is not None else total, total_s=total, chunk_gaps_s=tuple(gaps),
            tool_calls=tuple(ToolCall(t["id"], t["name"], t["arguments"]) for _, t in sorted(tools.items())),
            quota_remaining=quota,
        )

    async def aclose(self) -> None:
        await self._client.aclose()
