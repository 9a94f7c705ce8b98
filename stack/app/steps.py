"""The non-model steps of a request, as simulations: guardrails, retrieval,
tools, output validation and the sampled quality eval. Pure decisions; the
telemetry around them lives in `flow`."""

from __future__ import annotations

import json
import math
import random
import re
from dataclasses import dataclass

from slokit_app.appdata import Connector, Passage
from slokit_app.faults import Faults

_INJECTION = re.compile(
    r"(?i)ignore (all |any )?(previous|prior|above) instructions|reveal (your|the) system prompt|\bjailbreak\b|\bDAN mode\b"
)
BASE_OUTPUT_BLOCK_RATE = 0.002
# Healthy base rates burn each bundled SLO's budget at about a tenth of its
# rate, far below the slowest tier that can fire (burn 1 for the default
# tiers; 1.05 for answered-not-refused's custom 15%/1d one), so an idle demo
# stays quiet even at low traffic, where a few events make ratios noisy.
# Empty retrievals: 0.1% against retrieval-non-empty's 2% budget (burn 0.05).
BASE_EMPTY_RETRIEVAL = 0.001
# Tool failures: 0.1% against tool-call-success's 1% budget (burn 0.1).
TOOL_INVALID_ARGS_RATE = 0.0005
TOOL_ERROR_RATE = 0.0003
TOOL_TIMEOUT_RATE = 0.0002
# Spread of the judge's score around its mean: healthy answers fall to 0.8 or
# below 0.1% of the time (quality-above-0-8 has a 5% budget).
EVAL_SCORE_STDDEV = 0.035


def input_guardrail(message: str) -> str | None:
    """The rejection source, or None when the input may proceed."""
    if not message.strip():
        return "input_guardrail"
    return "input_guardrail" if _INJECTION.search(message) else None


def output_guardrail(text: str, finish_reason: str, rng: random.Random) -> str | None:
    if finish_reason == "content_filter":
        return "provider_filter"
    # Stand-in for a toxicity / policy classifier with a small base rate.
    return "output_guardrail" if text and rng.random() < BASE_OUTPUT_BLOCK_RATE else None


@dataclass(frozen=True)
class RetrievalResult:
    connector: str
    outcome: str  # hit, empty, error, timeout
    latency_s: float
    passages: tuple[Passage, ...]


def retrieve(connector: Connector, query: str, k: int, faults: Faults, rng: random.Random) -> RetrievalResult:
    latency = rng.lognormvariate(math.log(connector.latency.median), connector.latency.sigma)
    error_rate, empty_rate = faults.retrieval(connector.name)
    if rng.random() < error_rate:
        outcome = "timeout" if rng.random() < 0.2 else "error"
        return RetrievalResult(connector.name, outcome, latency * 3, ())
    if k <= 0 or rng.random() < max(empty_rate, BASE_EMPTY_RETRIEVAL):
        return RetrievalResult(connector.name, "empty", latency, ())
    words = set(query.lower().split())
    ranked = sorted(connector.passages, key=lambda p: (-len(words & set(p.text.lower().split())), p.id))
    return RetrievalResult(connector.name, "hit", latency, tuple(ranked[:k]))


@dataclass(frozen=True)
class ToolResult:
    outcome: str  # success, invalid_args, error, timeout
    latency_s: float
    output: str


def run_tool(name: str, arguments: str, result_factor: float, rng: random.Random) -> ToolResult:
    latency = rng.lognormvariate(math.log(0.12), 0.5)
    try:
        args = json.loads(arguments or "{}")
    except json.JSONDecodeError:
        return ToolResult("invalid_args", latency * 0.1, '{"error": "arguments are not JSON"}')
    roll = rng.random()
    if roll < TOOL_INVALID_ARGS_RATE:
        return ToolResult("invalid_args", latency * 0.1, '{"error": "missing field"}')
    if roll < TOOL_INVALID_ARGS_RATE + TOOL_ERROR_RATE:
        return ToolResult("error", latency, '{"error": "backend unavailable"}')
    if roll < TOOL_INVALID_ARGS_RATE + TOOL_ERROR_RATE + TOOL_TIMEOUT_RATE:
        return ToolResult("timeout", 5.0, '{"error": "timeout"}')
    records = max(1, int(6 * result_factor))
    payload = {"tool": name, "order_id": args.get("order_id"),
               "records": [{"line": i, "status": "shipped", "note": "carrier scan at depot"} for i in range(records)]}
    return ToolResult("success", latency, json.dumps(payload))


def validate_output(text: str, finish_reason: str) -> str | None:
    """The catalog's error_class of an invalid answer, or None when it is valid."""
    if not text.strip():
        return "empty_output"
    if finish_reason == "length":
        return "truncated"
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return "invalid_json"
    if not isinstance(data, dict) or not isinstance(data.get("answer"), str) or not isinstance(data.get("citations"), list):
        return "schema_mismatch"
    return None


def eval_score(quality_shift: float, grounded: bool, valid: bool, rng: random.Random) -> float:
    """A simulated LLM-as-judge score in [0, 1]; healthy traffic scores ~0.9."""
    mean = 0.91 + quality_shift - (0.0 if grounded else 0.2) - (0.0 if valid else 0.3)
    return min(1.0, max(0.0, rng.gauss(mean, EVAL_SCORE_STDDEV)))
