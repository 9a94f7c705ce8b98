"""The OpenAI-compatible provider against a fake server on 127.0.0.1 (never the internet)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from slokit_app.config import OpenAISettings

from .helpers import make_harness, sample_sum

API_KEY = "sk-test-abcdefghijklmnop0123456789"


class FakeOpenAI:
    """Serves /v1/chat/completions as SSE; `plan` holds the next responses (status, headers)."""

    def __init__(self):
        self.plan: list[tuple[int, dict]] = []
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                fake.requests.append({"path": self.path, "auth": self.headers.get("authorization"), "body": body})
                status, headers = fake.plan.pop(0) if fake.plan else (200, {})
                if status != 200:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("content-length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                    return
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("x-ratelimit-limit-requests", "100")
                self.send_header("x-ratelimit-remaining-requests", "75")
                self.end_headers()
                model = body["model"]
                if "tools" in body:
                    name = body["tool_choice"]["function"]["name"]
                    deltas = [{"tool_calls": [{"index": 0, "id": "call_1", "function": {"name": name, "arguments": ""}}]},
                              {"tool_calls": [{"index": 0, "function": {"arguments": '{"order_id": "A1"}'}}]}]
                    finish = "tool_calls"
                else:
                    answer = json.dumps({"answer": "Your parcel ships tomorrow.", "citations": ["kb-101"]})
                    deltas = [{"content": answer[i:i + 8]} for i in range(0, len(answer), 8)]
                    finish = "stop"
                for i, delta in enumerate(deltas):
                    chunk = {"id": "chatcmpl-fake1", "model": model,
                             "choices": [{"index": 0, "delta": delta,
                                          "finish_reason": finish if i == len(deltas) - 1 else None}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                usage = {"id": "chatcmpl-fake1", "model": model, "choices": [],
                         "usage": {"prompt_tokens": 1500, "completion_tokens": 20,
                                   "prompt_tokens_details": {"cached_tokens": 1024}}}
                self.wfile.write(f"data: {json.dumps(usage)}\n\ndata: [DONE]\n\n".encode())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake():
    server = FakeOpenAI()
    yield server
    server.close()


def _harness(fake):
    openai = OpenAISettings(base_url=fake.url, api_key=API_KEY,
                            model_map={"sim-large": "fake-large", "sim-small": "fake-small"})
    return make_harness(provider="openai", openai=openai, backoff_base_s=0.01)


def test_streams_usage_cost_and_spans(fake):
    h = _harness(fake)
    resp = h.client.post("/v1/chat", json={"message": "Where is my parcel?", "tenant": "acme"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["answer"] == "Your parcel ships tomorrow."
    assert body["usage"] == {"input_tokens": 1500, "output_tokens": 20, "cache_read_tokens": 1024, "cache_write_tokens": 0}
    # sim-large prices: (1500 - 1024) * 3.00 + 1024 * 0.30 + 20 * 15.00, per 1M tokens
    assert body["cost_usd"] == pytest.approx((476 * 3.0 + 1024 * 0.3 + 20 * 15.0) / 1e6)
    (request,) = fake.requests
    assert request["path"] == "/v1/chat/completions" and request["auth"] == f"Bearer {API_KEY}"
    assert request["body"]["model"] == "fake-large" and request["body"]["stream"] is True
    chat = next(s for s in h.spans.get_finished_spans() if s.name == "chat sim-large")
    assert chat.attributes["gen_ai.provider.name"] == "openai"
    assert chat.attributes["gen_ai.response.model"] == "fake-large"
    assert chat.attributes["gen_ai.response.id"] == "chatcmpl-fake1"
    fams = h.families()
    # An endpoint's model ids are outside the catalog's set: they are counted as `other`.
    assert sample_sum(fams, "llm_requests", "llm_requests_total", provider="openai", model="other", status="ok") == 1
    assert sample_sum(fams, "llm_provider_quota_remaining", "llm_provider_quota_remaining", resource="requests") == 0.75
    assert sample_sum(fams, "llm_cache_read_tokens", "llm_cache_read_tokens_total", provider="openai") == 1024
    logs = h.log.getvalue()
    spans = "".join(str(s.attributes) for s in h.spans.get_finished_spans())
    assert API_KEY not in logs and API_KEY not in spans


def test_rate_limit_is_retried_after_retry_after(fake):
    h = _harness(fake)
    fake.plan = [(429, {"retry-after": "0"})]
    assert h.client.post("/v1/rag/answer", json={"question": "Refunds?"}).status_code == 200
    fams = h.families()
    assert sample_sum(fams, "llm_rate_limits", "llm_rate_limits_total", provider="openai") == 1
    assert sample_sum(fams, "llm_retries", "llm_retries_total", reason="rate_limited") == 1
    assert len(fake.requests) == 2


def test_server_errors_fall_back_to_the_secondary_model(fake):
    h = _harness(fake)
    fake.plan = [(500, {}), (502, {}), (503, {})]  # every attempt on the primary fails
    resp = h.client.post("/v1/chat", json={"message": "Hello"})
    assert resp.status_code == 200 and resp.json()["fallback_used"] is True
    assert [r["body"]["model"] for r in fake.requests] == ["fake-large"] * 3 + ["fake-small"]
    fams = h.families()
    assert sample_sum(fams, "llm_fallbacks", "llm_fallbacks_total", model="sim-large", feature="support_chat") == 1
    assert sample_sum(fams, "llm_retries", "llm_retries_total", reason="server_error") == 2


def test_agent_tool_calls_go_through_the_endpoint(fake):
    h = _harness(fake)
    resp = h.client.post("/v1/chat", json={"message": "Where is order A1?", "feature": "order_agent"})
    assert resp.status_code == 200, resp.text
    tools = resp.json()["tool_calls"]
    assert tools and all(t["outcome"] == "success" for t in tools)
    assert sum("tools" in r["body"] for r in fake.requests) == len(tools)


def test_unreachable_endpoint_is_a_server_error(fake):
    fake.close()
    h = _harness(fake)
    resp = h.client.post("/v1/chat", json={"message": "Hello"})
    assert resp.status_code == 503 and resp.json()["status"] == "server_error"
    fams = h.families()
    assert sample_sum(fams, "llm_requests", "llm_requests_total", status="server_error") == 1


def test_openai_is_off_by_default():
    h = make_harness()
    assert h.client.get("/healthz").json()["provider"] == "simulated"
