"""`slokit gate` on the live demo app: four app processes scraped by one real Prometheus.

`stable` is the baseline; `regressed` runs the prompt_regression scenario
(lower eval scores, more invalid output), `clean` is the same build as the
baseline with another seed, `trickle` gets too little traffic to judge. Each
is a Prometheus target with a `track` label, as a canary pod would be. The
load is the real `slokit-loadgen`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from support.demo_app import DemoApp
from support.fixtures import REPO_ROOT, slokit_argv
from support.process import ManagedProcess, clean_env
from support.prometheus import PrometheusServer
from support.wait import wait_until

LOAD_SECONDS = 45
TRACKS = {"stable": (7, 12.0), "regressed": (8, 12.0), "clean": (9, 12.0), "trickle": (10, 0.2)}
SERVICE = "support-chatbot"
# The quality SLO counts sampled evals (a fifth of the requests): about 80 per arm here.
MIN_EVENTS = 30


def loadgen_argv(app: DemoApp, rate: float, seed: int) -> list[str]:
    exe = Path(sys.executable).parent / "slokit-loadgen"
    return [str(exe) if exe.exists() else "slokit-loadgen", "--url", app.url, "--rate", str(rate),
            "--duration", f"{LOAD_SECONDS}s", "--concurrency", "8", "--seed", str(seed), "--json"]


@pytest.fixture(scope="module")
def canaries(tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("gate")
    apps = {track: DemoApp(work / track, seed=seed) for track, (seed, _rate) in TRACKS.items()}
    started: list = []
    try:
        for app in apps.values():
            started.append(app.start())
        apps["regressed"].activate("prompt_regression")
        config = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                  "scrape_configs": [{"job_name": "demo-app", "static_configs": [
                      {"targets": [app.address], "labels": {"track": track}} for track, app in apps.items()]}]}
        prom = PrometheusServer(config, work / "prometheus")
        started.append(prom.start())
        wait_until(lambda: len([t for t in prom.client.targets() if t["health"] == "up"]) == len(apps), timeout=60,
                   what="all four apps scraped")
        loads = [ManagedProcess(f"loadgen-{track}", loadgen_argv(apps[track], rate, seed), work / f"load-{track}.log",
                                env=clean_env()).start() for track, (seed, rate) in TRACKS.items()]
        for load in loads:
            load.proc.wait(timeout=LOAD_SECONDS + 120)
            assert load.proc.returncode == 0, load.log_tail()
        # Two more scrapes, so the last requests are in Prometheus.
        last = prom.client.value('max(timestamp(up{job="demo-app"}))')
        wait_until(lambda: prom.client.value('min(timestamp(up{job="demo-app"}))') > last + 2, timeout=30,
                   what="a scrape after the load")
        yield prom
    finally:
        for item in reversed(started):
            item.stop()


def gate(prom: PrometheusServer, candidate: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([*slokit_argv(), "gate", str(REPO_ROOT / "slos"), "--prometheus", prom.url,
                           "--candidate", f'track="{candidate}"', "--baseline", 'track="stable"', "--slo", SERVICE,
                           "--window", "5m", "--min-events", str(MIN_EVENTS), *extra], capture_output=True, text=True, timeout=120)


def results(proc: subprocess.CompletedProcess) -> dict[str, dict]:
    return {r["target"].split("/")[1]: r for r in json.loads(proc.stdout)["results"]}


def test_prompt_regression_fails_the_gate(canaries):
    text = gate(canaries, "regressed")
    print(text.stdout)
    assert text.returncode == 1, text.stdout + text.stderr
    assert "result: regression (exit 1)" in text.stdout
    doc = gate(canaries, "regressed", "--format", "json")
    assert doc.returncode == 1
    by = results(doc)
    # The regressed prompt writes invalid output and scores lower in evals.
    assert by["output-validity"]["verdict"] == "regression"
    assert by["output-validity"]["candidate_value"] > by["output-validity"]["baseline_value"]
    assert by["output-validity"]["p_value"] < by["output-validity"]["level"]
    assert by["quality-above-0-8"]["verdict"] == "regression"
    # Provider errors are not what a prompt changes.
    assert by["api-success"]["verdict"] == "pass"


def test_clean_canary_passes(canaries):
    proc = gate(canaries, "clean")
    print(proc.stdout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "result: pass (exit 0)" in proc.stdout
    by = results(gate(canaries, "clean", "--format", "json"))
    assert {r["verdict"] for r in by.values()} == {"pass"}
    assert by["quality-above-0-8"]["candidate_events"] >= MIN_EVENTS <= by["quality-above-0-8"]["baseline_events"]


def test_trickle_canary_has_not_enough_data(canaries):
    proc = gate(canaries, "trickle")
    print(proc.stdout)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "result: not enough data (exit 3)" in proc.stdout
    assert f"at least {MIN_EVENTS} on each side are needed" in proc.stdout


def test_emitted_templates_query_the_same_counts(canaries, tmp_path):
    """The Argo template's queries run on the same Prometheus: the regressed canary's z statistic is over the
    success condition for output validity, the clean one's is not."""
    verdicts = {}
    for track in ("regressed", "clean"):
        proc = subprocess.run([*slokit_argv(), "gate", str(REPO_ROOT / "slos"), "--emit", "argo", "--candidate",
                               f'track="{track}"', "--baseline", 'track="stable"', "--slo",
                               f"{SERVICE}/output-validity", "--window", "5m", "--prometheus", canaries.url],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        template = yaml.safe_load(proc.stdout)
        assert template["apiVersion"] == "argoproj.io/v1alpha1" and template["kind"] == "AnalysisTemplate"
        metric = template["spec"]["metrics"][0]
        limit = float(metric["successCondition"].split("<=")[1])
        z = canaries.client.value(metric["provider"]["prometheus"]["query"])
        verdicts[track] = z > limit
    assert verdicts == {"regressed": True, "clean": False}


def test_flagger_templates_and_bad_selectors(tmp_path):
    proc = subprocess.run([*slokit_argv(), "gate", str(REPO_ROOT / "slos"), "--emit", "flagger", "--candidate",
                           'track="canary"', "--baseline", 'track="primary"', "--slo", SERVICE],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    docs = [d for d in yaml.safe_load_all(proc.stdout) if d]
    assert {d["kind"] for d in docs} == {"MetricTemplate"}
    assert all(d["apiVersion"] == "flagger.app/v1beta1" and d["spec"]["provider"]["type"] == "prometheus"
               and "[{{ interval }}]" in d["spec"]["query"] for d in docs)
    assert "thresholdRange" in proc.stdout  # the Canary analysis entries, as a comment
    bad = subprocess.run([*slokit_argv(), "gate", str(REPO_ROOT / "slos"), "--emit", "argo", "--candidate",
                          'track="x"} or vector(1) or {a="b"', "--baseline", 'track="y"'],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "not a label selector" in bad.stderr and "Traceback" not in bad.stderr
