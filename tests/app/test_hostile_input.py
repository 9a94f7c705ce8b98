"""Hostile callers, in-process: caller-supplied label values, trace state, body
sizes, the admin gate, and /metrics content negotiation (checked by real promtool)."""

from __future__ import annotations

import logging
import shutil
import subprocess

import pytest

from slokit_app.guard import CONTENT_BODY_LIMIT, SMALL_BODY_LIMIT
from slokit_app.labels import plain_id
from slokit_app.metrics import wants_openmetrics

from .helpers import ADMIN_TOKEN, PROMETHEUS_ACCEPT, make_harness

# Values that passed the old id filter (^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$ without `@`) and became labels.
HOSTILE_TENANTS = [
    "4155550132",                 # phone
    "+14155550132",               # phone (the `+` failed the old filter, kept for the header path)
    "4539148803436467",           # card
    "123-45-6789",                # SSN
    "203.0.113.195",              # IPv4
    "AKIAIOSFODNN7EXAMPLE",       # AWS key id
    "sk-proj-AbCdEf1234567890GhIjKlMn",
    "hf_aBcDeFgHiJkLmNoPqRsTuVwXyZ01234567",
    "ghp_1234567890abcdefghijABCDEFGHIJ123456",
    "GB82WEST12345698765432",     # IBAN
    "Zx9Qw3Er7Ty1Ui5Op2AsDf",     # random token
    "john.doe.example.com",       # an email with the `@` dropped still names a person
    "tenant-4155550132",          # a phone inside an id
    "pa55w0rd",                   # a password alone: digits inside a word
    "hunter2hunter2",
]


def _tenant_values(text: str) -> set[str]:
    return {part.split('"')[0] for part in text.split('tenant="')[1:]}


@pytest.mark.parametrize("value", HOSTILE_TENANTS)
def test_a_hostile_tenant_is_never_a_label_value(value):
    h = make_harness()
    h.client.post("/v1/chat", json={"message": "Where is my order?", "tenant": value})
    h.client.post("/v1/rag/answer", json={"question": "Refunds?"}, headers={"x-tenant-id": value})
    text = h.metrics_text()
    assert _tenant_values(text) == {"other"}, _tenant_values(text)
    assert value not in text
    assert value not in h.log.getvalue()
    root_tenants = {s.attributes.get("app.llm.tenant.id") for s in h.spans.get_finished_spans()
                    if s.name.endswith(" request")}
    assert root_tenants == {"other"}


def test_plain_tenants_still_get_their_own_series():
    h = make_harness()
    for tenant in ("acme", "tenant-007", "globex_eu"):
        h.client.post("/v1/chat", json={"message": "Where is my order?", "tenant": tenant})
    assert _tenant_values(h.metrics_text()) == {"acme", "tenant-007", "globex_eu"}


def test_plain_id_rules():
    assert plain_id("acme") and plain_id("tenant-123456") and plain_id("a") and plain_id("eu2_retail")
    for bad in ("Acme", "tenant-1234567", "a" * 49, "acme.com", "acme corp", "", "-acme", "9acme", "acme-",
                "pa55w0rd", "x1234567"):
        assert not plain_id(bad), bad


def test_a_hostile_tenant_does_not_use_up_the_cap():
    h = make_harness()
    for i in range(30):
        h.client.post("/v1/chat", json={"message": "hi there", "tenant": f"4155550{i:03d}"})
    h.client.post("/v1/chat", json={"message": "hi there", "tenant": "acme"})
    assert _tenant_values(h.metrics_text()) == {"other", "acme"}


def test_every_capped_label_gets_the_plain_id_rule():
    """prompt_version is capped like tenant: the rule lives in the shared label bound, not in the tenant path."""
    from slokit_app.catalog import load_catalog
    from slokit_app.metrics import Metrics

    from .helpers import CATALOG

    m = Metrics(load_catalog(CATALOG))
    for version in ("AKIAIOSFODNN7EXAMPLE", "v2-regressed"):
        m.set("llm_prompt_template_info", {"feature": "support_chat", "prompt_version": version}, 1)
    text = m.exposition()[0].decode()
    assert 'prompt_version="other"' in text and 'prompt_version="v2-regressed"' in text
    assert "AKIAIOSFODNN7EXAMPLE" not in text


def test_feedback_feature_from_the_caller_is_bounded():
    h = make_harness()
    h.client.post("/v1/feedback", json={"feature": "4539148803436467", "rating": "down"})
    text = h.metrics_text()
    assert 'llm_user_feedback_total{feature="other",rating="down"} 1.0' in text
    assert "4539148803436467" not in text


def test_caller_tracestate_and_baggage_are_not_exported(caplog):
    h = make_harness()
    trace_id, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    secret = "sk-proj-AbCdEf1234567890GhIjKlMn"
    with caplog.at_level(logging.DEBUG):
        for tracestate in (f"vendor={secret},other=4539148803436467", f"bad key={secret}\x7f,,==="):
            resp = h.client.post("/v1/chat", json={"message": "Where is my order?"}, headers={
                "traceparent": f"00-{trace_id}-{parent}-01", "tracestate": tracestate,
                "baggage": f"user.email=jane@example.com,key={secret}"})
            assert resp.json()["trace_id"] == trace_id
    spans = h.spans.get_finished_spans()
    roots = [s for s in spans if s.name.endswith(" request")]
    assert len(roots) == 2 and all(format(r.parent.span_id, "016x") == parent for r in roots)
    assert all(len(s.context.trace_state) == 0 for s in spans)
    assert all(r.parent.trace_state is None or len(r.parent.trace_state) == 0 for r in roots)
    dumped = repr([(s.attributes, s.context, s.parent, s.events) for s in spans])
    assert secret not in dumped and "jane@example.com" not in dumped
    assert not any(secret in r.getMessage() or "===" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("method,path,limit", [
    ("POST", "/v1/chat", CONTENT_BODY_LIMIT), ("POST", "/v1/rag/answer", CONTENT_BODY_LIMIT),
    ("POST", "/v1/feedback", SMALL_BODY_LIMIT), ("PUT", "/admin/scenarios/latency_spike", SMALL_BODY_LIMIT),
    ("GET", "/metrics", SMALL_BODY_LIMIT), ("GET", "/healthz", SMALL_BODY_LIMIT),
])
def test_a_body_over_the_limit_is_413(method, path, limit):
    h = make_harness()
    headers = {"content-type": "application/json", "authorization": f"Bearer {ADMIN_TOKEN}"}
    body = b'{"message": "' + b"x" * limit + b'"}'
    resp = h.client.request(method, path, content=body, headers=headers)
    assert resp.status_code == 413, resp.text
    assert not h.faults.active() and not h.spans.get_finished_spans()


def test_a_body_at_the_limit_is_served():
    h = make_harness()
    message = "Where is my order? " + "x" * (CONTENT_BODY_LIMIT - 200)
    assert h.client.post("/v1/chat", json={"message": message[:200_000]}).status_code == 200


def test_a_bad_content_length_is_400():
    h = make_harness()
    resp = h.client.post("/v1/feedback", content=b"{}", headers={"content-length": "12abc"})
    assert resp.status_code == 400


def test_admin_token_is_checked_before_the_body_is_parsed():
    """Old code parsed (and validated) the body first: a malformed body got 422, not 401."""
    h = make_harness()
    resp = h.client.put("/admin/scenarios/latency_spike", content=b"{not json", headers={"content-type": "application/json"})
    assert resp.status_code == 401
    resp = h.client.put("/admin/scenarios/latency_spike", content=b"{not json",
                        headers={"content-type": "application/json", "authorization": "Bearer wrong"})
    assert resp.status_code == 401
    assert not h.faults.active()
    # The gate sees the decoded path the router sees: an encoded or doubled path is no way around it.
    for path in ("/%61dmin/scenarios", "/admin/scenarios/", "/admin/%73cenarios"):
        assert h.client.get(path).status_code == 401, path
    ok = h.client.put("/admin/scenarios/latency_spike", json={"params": {}},
                      headers={"authorization": f"Bearer {ADMIN_TOKEN}"})
    assert ok.status_code == 200 and [s["name"] for s in ok.json()["active"]] == ["latency_spike"]


@pytest.mark.parametrize("accept,openmetrics", [
    (None, False), ("", False), ("*/*", False), ("text/plain", False), ("text/plain;version=0.0.4", False),
    (PROMETHEUS_ACCEPT, True), ("application/openmetrics-text", True),
    ("text/plain;version=0.0.4;q=1,application/openmetrics-text;q=0.5", False),
    ("application/openmetrics-text;q=0.9,text/plain;q=0.2", True),
])
def test_accept_negotiation(accept, openmetrics):
    assert wants_openmetrics(accept) is openmetrics


def test_metrics_default_to_the_text_format_that_promtool_checks():
    promtool = shutil.which("promtool")
    assert promtool, "promtool not installed (make system-deps)"
    h = make_harness()
    for feature in ("support_chat", "order_agent"):
        h.client.post("/v1/chat", json={"message": "Where is my order?", "feature": feature, "tenant": "acme"})
    h.client.post("/v1/rag/answer", json={"question": "Refunds?"})
    plain = h.client.get("/metrics")
    assert plain.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "# EOF" not in plain.text and "llm_requests_total{" in plain.text
    check = subprocess.run([promtool, "check", "metrics"], input=plain.content, capture_output=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    om = h.client.get("/metrics", headers={"accept": PROMETHEUS_ACCEPT})
    assert om.headers["content-type"].startswith("application/openmetrics-text")
    assert om.text.rstrip().endswith("# EOF") and "trace_id=" in om.text
    # The OpenMetrics form is what promtool 2.x rejects (the reported bug), so the negotiation matters.
    check_om = subprocess.run([promtool, "check", "metrics"], input=om.content, capture_output=True, timeout=60)
    assert check_om.returncode != 0
