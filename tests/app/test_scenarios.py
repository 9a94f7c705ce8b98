"""Each fault scenario moves the metrics its SLOs and alerts read; admin and
scenario-file controls work and are protected."""

from __future__ import annotations

import pytest

from slokit_app.faults import ScenarioError

from .helpers import ADMIN_TOKEN, bucket_share, drive, make_harness, sample_sum

N = 240


def _run(scenario: str | None):
    h = make_harness()
    if scenario:
        h.faults.activate(scenario)
    drive(h, N)
    return h.families()


@pytest.fixture(scope="module")
def baseline():
    return _run(None)


def total(f, family, **match):
    return sample_sum(f, family, family + "_total", **match)


def error_ratio(f, **match):
    return 1 - total(f, "llm_requests", status="ok", **match) / total(f, "llm_requests", **match)


def per_request(f, family, hist="llm_request_cost_usd", **match):
    return total(f, family, **match) / sample_sum(f, hist, hist + "_count", **match)


def mean(f, hist, **match):
    return sample_sum(f, hist, hist + "_sum", **match) / sample_sum(f, hist, hist + "_count", **match)


CHECKS = {
    "provider_outage": lambda b, s: error_ratio(b) < 0.01 and error_ratio(s) > 0.95,
    "primary_model_outage": lambda b, s: (total(s, "llm_fallbacks", model="sim-large") > 0 == total(b, "llm_fallbacks")
                                          and error_ratio(s) < 0.05),
    "rate_limit_storm": lambda b, s: (total(s, "llm_rate_limits") > 10 * max(1, total(b, "llm_rate_limits"))
                                      and total(s, "llm_retries", reason="rate_limited") > 0
                                      and total(s, "llm_requests", status="rate_limited") > 0
                                      and bucket_share(s, "llm_ttft_seconds", 1) < bucket_share(b, "llm_ttft_seconds", 1) - 0.3),
    "latency_spike": lambda b, s: bucket_share(b, "llm_ttft_seconds", 1) > 0.95 > 0.5 > bucket_share(s, "llm_ttft_seconds", 1),
    "slow_decode": lambda b, s: (mean(s, "llm_decode_tokens_per_second") < 0.3 * mean(b, "llm_decode_tokens_per_second")
                                 and mean(s, "llm_tpot_seconds") > 3 * mean(b, "llm_tpot_seconds")
                                 and bucket_share(s, "llm_total_latency_seconds", 5) < 0.9 < bucket_share(b, "llm_total_latency_seconds", 5)),
    "token_explosion": lambda b, s: (per_request(s, "llm_output_tokens") > 3 * per_request(b, "llm_output_tokens")
                                     and mean(s, "llm_request_cost_usd") > 3 * mean(b, "llm_request_cost_usd")
                                     and bucket_share(s, "llm_request_cost_usd", 0.1) < 0.9
                                     and total(s, "llm_token_budget_exceeded", feature="order_agent") > 0
                                     and total(b, "llm_token_budget_exceeded") == 0),
    "retrieval_outage": lambda b, s: (total(s, "llm_retrieval_requests", outcome="hit") == 0
                                      and total(s, "llm_retrieval_requests", outcome="error") > 0
                                      and bucket_share(s, "llm_eval_score", 0.8) > bucket_share(b, "llm_eval_score", 0.8) + 0.3),
    "retrieval_empty": lambda b, s: (total(s, "llm_retrieval_requests", outcome="empty") > 0.5 * total(s, "llm_retrieval_requests")
                                     and total(b, "llm_retrieval_requests", outcome="empty") < 0.05 * total(b, "llm_retrieval_requests")),
    "prompt_regression": lambda b, s: (bucket_share(s, "llm_eval_score", 0.8, prompt_version="v2-regressed") > 0.5
                                       and bucket_share(b, "llm_eval_score", 0.8, prompt_version="v1") < 0.1
                                       and total(s, "llm_validation_errors") > 5 * max(1, total(b, "llm_validation_errors"))),
    "refusal_spike": lambda b, s: total(s, "llm_refusals") > 0.15 * total(s, "llm_requests", status="ok") > 5 * total(b, "llm_refusals"),
    "cost_regression": lambda b, s: (mean(s, "llm_request_cost_usd", feature="support_chat")
                                     > 1.5 * mean(b, "llm_request_cost_usd", feature="support_chat")
                                     and mean(s, "llm_request_cost_usd", feature="rag_answer")
                                     == pytest.approx(mean(b, "llm_request_cost_usd", feature="rag_answer"), rel=0.25)),
}


def test_every_bundled_scenario_has_a_check():
    assert set(make_harness().faults.known()) == set(CHECKS)


@pytest.mark.parametrize("scenario", sorted(CHECKS))
def test_scenario_moves_its_metrics(baseline, scenario):
    assert CHECKS[scenario](baseline, _run(scenario))


def test_prompt_version_info_follows_the_scenario():
    h = make_harness()
    info = lambda: {(s.labels["feature"], s.labels["prompt_version"]) for s in h.families()["llm_prompt_template_info"].samples}
    assert ("support_chat", "v1") in info()
    h.client.put("/admin/scenarios/cost_regression", headers={"authorization": f"Bearer {ADMIN_TOKEN}"})
    assert ("support_chat", "v2-verbose") in info() and ("support_chat", "v1") not in info()
    assert ("rag_answer", "v1") in info()


def test_admin_requires_token_and_loopback():
    from fastapi.testclient import TestClient

    h = make_harness()
    assert h.client.get("/admin/scenarios").status_code == 401
    assert h.client.get("/admin/scenarios", headers={"authorization": "Bearer wrong"}).status_code == 401
    remote = TestClient(h.app, client=("10.1.2.3", 40000))
    assert remote.get("/admin/scenarios", headers={"authorization": f"Bearer {ADMIN_TOKEN}"}).status_code == 403
    auth = {"authorization": f"Bearer {ADMIN_TOKEN}"}
    resp = h.client.put("/admin/scenarios/latency_spike", headers=auth, json={"params": {"ttft_factor": 3}})
    assert resp.status_code == 200
    assert resp.json()["active"] == [{"name": "latency_spike", "kind": "latency",
                                      "params": {"models": ["sim-large", "sim-small"], "ttft_factor": 3}}]
    assert h.client.put("/admin/scenarios/nope", headers=auth).status_code == 404
    assert h.client.put("/admin/scenarios/latency_spike", headers=auth, json={"params": {"bogus": 1}}).status_code == 422
    bad = h.client.put("/admin/scenarios/latency_spike", headers=auth, json={"params": {"ttft_factor": "fast"}})
    assert bad.status_code == 422 and "must be a number" in bad.json()["error"]
    bad = h.client.put("/admin/scenarios/prompt_regression", headers=auth, json={"params": {"version": "v9"}})
    assert bad.status_code == 422 and "no prompt template version 'v9'" in bad.json()["error"]
    assert h.client.delete("/admin/scenarios/latency_spike", headers=auth).json()["active"] == []
    assert h.client.delete("/admin/scenarios/latency_spike", headers=auth).status_code == 404


def test_admin_token_is_generated_and_announced_once_when_unset():
    from dataclasses import replace

    from fastapi.testclient import TestClient

    from slokit_app.app import create_app
    from slokit_app.config import Settings

    announced: list[str] = []
    app = create_app(replace(Settings(), admin_token=None), announce=announced.append)
    assert len(announced) == 1 and len(announced[0]) >= 24
    client = TestClient(app, client=("127.0.0.1", 1))
    assert client.get("/admin/scenarios").status_code == 401
    assert client.get("/admin/scenarios", headers={"x-admin-token": announced[0]}).status_code == 200


def test_scenario_file_at_start(tmp_path):
    path = tmp_path / "faults.yaml"
    path.write_text("scenarios:\n  - latency_spike\n  - name: cost_regression\n    params: {features: [rag_answer]}\n")
    h = make_harness(scenario_file=path)
    assert [(s.name, s.params.get("features")) for s in h.faults.active()] == [
        ("latency_spike", None), ("cost_regression", ["rag_answer"])]
    path.write_text("scenarios:\n  - name: no_such_thing\n")
    with pytest.raises(ScenarioError, match=r"scenarios\[0\]: unknown scenario 'no_such_thing'"):
        make_harness(scenario_file=path)


def test_time_scale_sleeps_the_scaled_simulated_latency():
    import time

    h = make_harness(time_scale=0.01)
    start = time.perf_counter()
    body = h.client.post("/v1/chat", json={"message": "Where is my order?"}).json()
    # asyncio.sleep never returns early: a lower bound, not a timing race.
    assert time.perf_counter() - start >= 0.01 * body["latency_s"] * 0.99
