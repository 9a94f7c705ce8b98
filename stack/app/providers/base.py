"""What every provider returns, and how it fails."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from slokit_app.pricing import Usage
from slokit_app.timeline import Timeline


@dataclass(frozen=True)
class ModelRequest:
    model: str
    prompt: str
    max_output_tokens: int
    feature: str
    # The template's long system instructions, sent before `prompt` and
    # cacheable; the demo does not materialise them as text, only their length.
    cacheable_prefix_tokens: int = 0
    cache_key: str = ""
    # Simulator hints: the app's target answer length and fault effects.
    answer_tokens: int = 100
    want_tool_call: str | None = None
    refuse: bool = False
    # Simulated output defect: invalid_json, schema_mismatch or empty_output.
    defect: str | None = None
    temperature: float = 0.2


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class ModelResponse:
    provider: str
    model: str
    response_id: str
    text: str
    finish_reason: str
    usage: Usage
    ttft_s: float
    total_s: float
    chunk_gaps_s: tuple[float, ...] = ()
    tool_calls: tuple[ToolCall, ...] = ()
    quota_remaining: dict[str, float] = field(default_factory=dict)

    @property
    def decode_s(self) -> float:
        return max(0.0, self.total_s - self.ttft_s)


class ProviderError(Exception):
    """A failed attempt. `status` is the catalog status (rate_limited, server_error, timeout, client_error)."""

    def __init__(self, status: str, message: str, retry_after_s: float | None = None, elapsed_s: float = 0.0):
        super().__init__(message)
        self.status = status
        self.retry_after_s = retry_after_s
        self.elapsed_s = elapsed_s

    @property
    def retryable(self) -> bool:
        return self.status in ("rate_limited", "server_error", "timeout")


class Provider(Protocol):
    name: str

    async def complete(self, request: ModelRequest, timeline: Timeline, timeout_s: float) -> ModelResponse: ...
