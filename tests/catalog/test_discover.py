"""`slokit catalog discover` on exposition files written here, and on a real
Prometheus scraping the real demo app."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx
import yaml

from slokit.load import read_yaml
from slokit.model import Catalog
from slokit.project import to_model
from slokit.validate import check_catalog
from support.demo_app import DemoApp
from support.fixtures import REPO_ROOT, slokit_argv
from support.prometheus import PrometheusServer, prometheus_config

TEXT = """\
# HELP http_requests_total Requests served.
# TYPE http_requests_total counter
http_requests_total{code="200",route="/chat",user_id="u1"} 3
http_requests_total{code="500",route="/chat",user_id="u2"} 1
# HELP rpc_latency_seconds RPC latency.
# TYPE rpc_latency_seconds histogram
rpc_latency_seconds_bucket{method="get",le="0.1"} 1
rpc_latency_seconds_bucket{method="get",le="0.5"} 2
rpc_latency_seconds_bucket{method="get",le="+Inf"} 2
rpc_latency_seconds_sum{method="get"} 0.4
rpc_latency_seconds_count{method="get"} 2
# HELP queue_depth Items waiting.
# TYPE queue_depth gauge
queue_depth{queue="a",trace="4bf92f3577b34da6a3ce929d0e0e4736"} 1
queue_depth{queue="b",trace="00f067aa0ba902b7a3ce929d0e0e4736"} 2
# HELP gc_pause_seconds GC pauses.
# TYPE gc_pause_seconds summary
gc_pause_seconds{quantile="0.5"} 0.01
gc_pause_seconds_sum 1
gc_pause_seconds_count 9
"""


def discover(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([*slokit_argv(), "catalog", "discover", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


def as_catalog(snippet: str, tmp_path: Path) -> Catalog:
    """The snippet is a catalog on its own: it loads, types and passes the catalog checks."""
    path = tmp_path / "snippet.yaml"
    path.write_text(snippet)
    source = read_yaml(path, str(path))
    catalog, errors = to_model(source, Catalog)
    assert not errors, [e.format() for e in errors]
    assert not check_catalog(catalog, source), [d.format() for d in check_catalog(catalog, source)]
    return catalog


def test_text_exposition_types_labels_buckets_and_forbidden(tmp_path):
    (tmp_path / "m.txt").write_text(TEXT)
    result = discover(str(tmp_path / "m.txt"))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    catalog = as_catalog(out, tmp_path)
    assert catalog.metrics["http_requests_total"].type == "counter"
    assert catalog.metrics["http_requests_total"].labels == ["code", "route"]
    assert catalog.labels["code"].values == ["200", "500"]
    assert catalog.metrics["rpc_latency_seconds"].type == "histogram"
    assert catalog.metrics["rpc_latency_seconds"].buckets == [0.1, 0.5]
    assert catalog.metrics["rpc_latency_seconds"].unit == "seconds"
    assert "rpc_latency_seconds_bucket" not in catalog.metrics and "rpc_latency_seconds_count" not in catalog.metrics
    # A summary's quantiles cannot be aggregated: not an entry, but a comment that says why.
    assert "gc_pause_seconds" not in catalog.metrics
    assert "# skipped gc_pause_seconds: a summary: its quantiles cannot be aggregated" in out
    # Forbidden labels: dropped from labels and metrics, flagged with the reason.
    assert "user_id" not in catalog.labels and "trace" not in catalog.labels
    assert "# FORBIDDEN user_id: its name is on slokit's list" in out
    assert "# FORBIDDEN trace: looks like a trace id" in out
    assert "# FORBIDDEN label user_id dropped" in out


def test_values_flag_ids_emails_and_prompts_and_many_values_get_a_cap(tmp_path):
    lines = ["# TYPE app_events_total counter"]
    for i in range(30):
        lines.append(f'app_events_total{{tenant="t{i}",who="person{i}@example.com",'
                     f'ref="{i:08x}-aaaa-bbbb-cccc-{i:012x}",note="please summarise my contract number {i} now",'
                     f'kind="a"}} 1')
    (tmp_path / "m.txt").write_text("\n".join(lines) + "\n")
    result = discover(str(tmp_path / "m.txt"), "--max-values", "25")
    assert result.returncode == 0, result.stderr
    catalog = as_catalog(result.stdout, tmp_path)
    assert catalog.labels["tenant"].max_cardinality == 100 and catalog.labels["tenant"].values is None
    assert "30 values seen, more than 25" in result.stdout
    assert catalog.labels["kind"].values == ["a"]
    assert catalog.metrics["app_events_total"].labels == ["kind", "tenant"]
    assert "# FORBIDDEN who: its values look like email addresses" in result.stdout
    assert "# FORBIDDEN ref: its values look like UUIDs" in result.stdout
    assert "# FORBIDDEN note: its values look like free text" in result.stdout


def test_openmetrics_counter_keeps_total_and_units_come_from_unit_lines(tmp_path):
    (tmp_path / "m.om").write_text(
        "# TYPE llm_requests counter\n# HELP llm_requests Calls.\n"
        'llm_requests_total{status="ok"} 1\nllm_requests_created{status="ok"} 1.7e9\n'
        "# TYPE gen_ttft_seconds histogram\n# UNIT gen_ttft_seconds seconds\n"
        'gen_ttft_seconds_bucket{le="0.25"} 0\ngen_ttft_seconds_bucket{le="1.0"} 1\n'
        'gen_ttft_seconds_bucket{le="+Inf"} 1\ngen_ttft_seconds_count 1\ngen_ttft_seconds_sum 0.3\n# EOF\n')
    result = discover(str(tmp_path / "m.om"))
    assert result.returncode == 0, result.stderr
    catalog = as_catalog(result.stdout, tmp_path)
    assert sorted(catalog.metrics) == ["gen_ttft_seconds", "llm_requests_total"]
    assert catalog.metrics["llm_requests_total"].labels == ["status"]
    assert catalog.metrics["gen_ttft_seconds"].buckets == [0.25, 1.0]
    assert "unit: seconds\n" in result.stdout  # from # UNIT, not guessed


def test_out_never_overwrites_and_bad_input_is_an_error(tmp_path):
    (tmp_path / "m.txt").write_text(TEXT)
    target = tmp_path / "catalog.yaml"
    target.write_text("version: 1\n")
    result = discover(str(tmp_path / "m.txt"), "--out", str(target))
    assert result.returncode == 2 and "never overwrites" in result.stderr
    assert target.read_text() == "version: 1\n"
    fresh = tmp_path / "new.yaml"
    assert discover(str(tmp_path / "m.txt"), "--out", str(fresh)).returncode == 0
    assert "rpc_latency_seconds:" in fresh.read_text()
    (tmp_path / "bad.txt").write_text("this is { not metrics\n")
    bad = discover(str(tmp_path / "bad.txt"))
    assert bad.returncode == 1 and "not a valid exposition" in bad.stderr and "Traceback" not in bad.stderr
    assert discover().returncode == 2
    assert discover(str(tmp_path / "m.txt"), "--match", "{a=\"b\"}").returncode == 2


def test_prometheus_scraping_the_demo_app_matches_the_catalog(tmp_path):
    """Real demo app, real Prometheus: what discover finds has the bundled catalog's types, labels and buckets."""
    bundled = yaml.safe_load((REPO_ROOT / "slos" / "catalog.yaml").read_text())
    with DemoApp(tmp_path / "app") as app:
        for feature in ("support_chat", "order_agent"):
            for _ in range(3):
                httpx.post(f"{app.url}/v1/chat", json={"message": "hello", "feature": feature}, timeout=30)
        (tmp_path / "expo.txt").write_text(httpx.get(f"{app.url}/metrics", timeout=10).text)
        with PrometheusServer(prometheus_config({"llm-app": [app.address]}), tmp_path / "prom") as prom:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not prom.client.query('llm_requests_total{job="llm-app"}'):
                time.sleep(0.5)
            time.sleep(2)  # one more scrape: every family the app exposed is stored
            live = discover("--prometheus", prom.url, "--match", '{job="llm-app"}')
            scraped = discover("--scrape", f"{app.url}/metrics")
    assert live.returncode == 0, live.stderr
    snippet = yaml.safe_load(live.stdout)
    found = snippet["metrics"]
    assert {"llm_requests_total", "llm_ttft_seconds", "llm_total_latency_seconds", "llm_cost_usd_total"} <= set(found)
    for name, entry in found.items():
        assert name in bundled["metrics"], f"discovered {name}, which the catalog does not declare"
        declared = bundled["metrics"][name]
        assert entry["type"] == declared["type"], name
        assert sorted(entry["labels"]) == sorted(declared["labels"]), name
        assert entry.get("buckets") == declared.get("buckets"), name
    for label, entry in snippet["labels"].items():
        declared = bundled["labels"][label]
        if "values" in entry and "values" in declared:
            assert set(entry["values"]) <= set(declared["values"]), label
    # No target labels, no Prometheus scrape series.
    assert "job" not in snippet["labels"] and "instance" not in snippet["labels"] and "up" not in found
    # The same app, read from its exposition (file and --scrape), gives the same metrics.
    assert scraped.returncode == 0, scraped.stderr
    from_file = discover(str(tmp_path / "expo.txt"))
    assert from_file.returncode == 0
    for text in (scraped.stdout, from_file.stdout):
        metrics = yaml.safe_load(text)["metrics"]
        for name in found:
            assert metrics[name]["type"] == found[name]["type"] and metrics[name]["labels"] == found[name]["labels"]
            assert metrics[name].get("buckets") == found[name].get("buckets")
    (tmp_path / "live.yaml").write_text(live.stdout)
