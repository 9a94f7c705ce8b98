"""No PII or secret sent in a request reaches logs, spans or metrics."""

from __future__ import annotations

import json

import pytest

from slokit_app.redact import redact

from .helpers import drive, make_harness
from .redaction_corpus import CORPUS


def test_corpus_is_large_enough():
    assert len(CORPUS) >= 50


@pytest.mark.parametrize("text,secret", CORPUS)
def test_redact_removes_the_sensitive_part(text, secret):
    assert secret in text
    out = redact(text)
    assert secret not in out and "[REDACTED:" in out


def test_redact_keeps_ordinary_text():
    text = "Where is order A12345? It cost 42.50 and shipped 3 days ago."
    assert redact(text) == text


def _span_text(spans) -> str:
    parts = []
    for s in spans:
        parts.append(s.name)
        parts += [f"{k}={v}" for k, v in s.attributes.items()]
        for event in s.events:
            parts.append(event.name)
            parts += [f"{k}={v}" for k, v in event.attributes.items()]
        parts.append(str(s.status.description))
    return "\n".join(parts)


def test_requests_full_of_pii_leave_no_trace_of_it():
    h = make_harness(debug_capture_rate=1.0)
    for i, (text, _) in enumerate(CORPUS):
        feature = ("support_chat", "order_agent")[i % 2]
        h.client.post("/v1/chat", json={"message": text, "feature": feature, "tenant": text[:60],
                                        "conversation_id": text[:60]}, headers={"x-tenant-id": text[:60]})
        h.client.post("/v1/rag/answer", json={"question": f"About {text}: what now?", "conversation_id": text[:60]})
        h.client.post("/v1/feedback", json={"feature": text[:60], "rating": "down", "request_id": text[:60]})
    logs = h.log.getvalue()
    spans = _span_text(h.spans.get_finished_spans())
    metrics = h.metrics_text()
    # The debug capture did log (redacted) content, so the check below is not vacuous.
    captures = [json.loads(line) for line in logs.splitlines() if '"debug_capture"' in line]
    assert len(captures) >= len(CORPUS) and any("[REDACTED:" in c["prompt_redacted"] for c in captures)
    assert "app.llm.content_capture" in spans and "[REDACTED:" in spans
    for text, secret in CORPUS:
        assert secret not in logs, f"log leaks {secret!r}"
        assert secret not in spans, f"span leaks {secret!r}"
        assert secret not in metrics, f"metrics leak {secret!r}"


def test_default_logs_carry_hashes_and_lengths_not_prompts():
    h = make_harness()
    message = "Please check order A777 for my sister, she is worried"
    h.client.post("/v1/chat", json={"message": message, "tenant": "acme"})
    (line,) = h.log_records()
    record = json.loads(line)
    assert "sister" not in line and "debug_capture" not in line
    assert record["prompt"]["chars"] == len(message) and len(record["prompt"]["hash"]) == 16
    for field in ("timestamp", "trace_id", "span_id", "request_id", "conversation_id", "tenant", "feature",
                  "provider", "model_requested", "model_served", "prompt_template_id", "prompt_template_sha",
                  "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "cost_usd",
                  "ttft_s", "latency_s", "status", "error_class", "retry_count", "fallback_used", "guardrail"):
        assert field in record, field
    assert record["tenant"] == "acme" and record["status"] == "ok"


def test_debug_capture_redacts_before_it_cuts():
    """A secret straddling the 2000-character cut must not survive as a fragment."""
    h = make_harness(debug_capture_rate=1.0)
    secret = "sk-proj-AbCdEf1234567890GhIjKlMn"
    message = "x" * 1985 + " " + secret + " is my key"
    assert message.index(secret) < 2000 < message.index(secret) + len(secret)
    h.client.post("/v1/chat", json={"message": message})
    (capture,) = [json.loads(line) for line in h.log_records() if '"debug_capture"' in line]
    assert len(capture["prompt_redacted"]) == 2000 and capture["prompt_redacted"].endswith(" [REDACTED:api_")
    spans = _span_text(h.spans.get_finished_spans())
    for where in (h.log.getvalue(), spans):
        assert "sk-proj" not in where and "AbCdEf" not in where


def test_debug_capture_is_sampled_at_its_rate():
    h = make_harness(debug_capture_rate=0.25)
    drive(h, 200)
    captures = [json.loads(line) for line in h.log_records() if '"debug_capture"' in line]
    # Seeded, so the count is fixed; the bounds are +-4 standard deviations of Binomial(200, 0.25).
    assert 25 <= len(captures) <= 75
    roots = {format(s.context.trace_id, "032x") for s in h.spans.get_finished_spans()
             if any(e.name == "app.llm.content_capture" for e in s.events)}
    assert {c["trace_id"] for c in captures} == roots


def test_debug_capture_is_off_by_default():
    h = make_harness()
    drive(h, 50)
    assert not any('"debug_capture"' in line for line in h.log_records())
    assert not any(s.events for s in h.spans.get_finished_spans())
