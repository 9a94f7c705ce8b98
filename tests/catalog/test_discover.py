"""`slokit catalog discover` on exposition files written here, and on a real
Prometheus scraping the real demo app."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx
import yaml

from slokit.catalog.discover import NO_UNIT, Family, guess_unit
from slokit.model import Catalog
from support.demo_app import DemoApp
from support.discovered import as_catalog
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
gc_pause_seconds{quantile="0.5",generation="young"} 0.01
gc_pause_seconds{quantile="0.99",generation="young"} 0.05
gc_pause_seconds_sum{generation="young"} 1
gc_pause_seconds_count{generation="young"} 9
"""


def discover(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([*slokit_argv(), "catalog", "discover", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


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
    # A summary is a catalog type: one entry, its labels without the quantile series' `quantile`.
    assert catalog.metrics["gc_pause_seconds"].type == "summary"
    assert catalog.metrics["gc_pause_seconds"].labels == ["generation"]
    assert catalog.metrics["gc_pause_seconds"].buckets is None and "quantile" not in catalog.labels
    assert "skipped gc_pause_seconds" not in out and "no summary type" not in out
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


# Label values a real library sends that the catalog refuses as declared values: the OpenTelemetry
# OpenAI instrumentation's error_type, quotes, an escaped newline, a value longer than the catalog's
# 200 characters, a bidi override and a mixed-script look-alike. Non-ASCII letters are fine.
LONG = "a" * 250
HOSTILE_VALUES = {
    "<class 'openai.InternalServerError'>": "contains '<'",
    'say \\"hi\\"': "contains '\"'",
    "line\\nbreak": "contains a line break or tab",
    LONG: "is longer than 200 characters",
    "rtl\u202eflip": "contains U+202E (RIGHT-TO-LEFT OVERRIDE)",
    "p\u0430ypal": "mixes scripts",
}


def _hostile_lines() -> list[str]:
    lines = []
    for i, value in enumerate(HOSTILE_VALUES):
        lines.append(f'app_errors_total{{error_type="{value}",region="z\u00fcrich",kind="k{i}",empty=""}} 1')
    lines.append('app_errors_total{error_type="plain",region="\u6771\u4eac",kind="k9"} 1')
    return lines


def _assert_hostile_snippet(out: str, catalog: Catalog) -> None:
    # error_type has values the catalog refuses: a cap, not values, and a comment naming them and why.
    assert catalog.labels["error_type"].values is None and catalog.labels["error_type"].max_cardinality == 20
    assert "error_type" in catalog.metrics["app_errors_total"].labels
    assert "# a cap, not values: 6 of the 7 values seen are not a catalog label value" in out
    assert "#   \"<class 'openai.InternalServerError'>\" contains '<'" in out
    assert "#   \"line\\nbreak\" contains a line break or tab" in out
    assert f"#   \"{'a' * 60}\"... is longer than 200 characters" in out and LONG not in out  # cut short
    assert "#   \"rtl\\u202eflip\" contains U+202E (RIGHT-TO-LEFT OVERRIDE)" in out
    assert "\u202e" not in out  # the override is never written raw, not even in a comment
    assert "#   and 1 more" in out  # at most 5 are shown
    # Non-ASCII letters are valid label values: declared as they are (YAML escapes them).
    assert catalog.labels["region"].values == ["z\u00fcrich", "\u6771\u4eac"]
    # An empty value is no label to Prometheus: not declared, and no '' value.
    assert "empty" not in catalog.labels and "empty" not in catalog.metrics["app_errors_total"].labels


def test_label_values_the_catalog_refuses_get_a_cap_and_a_comment(tmp_path):
    """Every snippet discover prints passes the catalog check, whatever values the source has."""
    (tmp_path / "m.txt").write_text("# HELP app_errors_total Errors by type.\n# TYPE app_errors_total counter\n"
                                    + "\n".join(_hostile_lines()) + "\n", encoding="utf-8")
    result = discover(str(tmp_path / "m.txt"))
    assert result.returncode == 0, result.stderr
    _assert_hostile_snippet(result.stdout, as_catalog(result.stdout, tmp_path))


def test_openmetrics_hostile_values_and_help_pass_the_catalog_check(tmp_path):
    long_help = "Errors, \\\"quoted\\\" and long: " + "y" * 2100
    (tmp_path / "m.om").write_text(
        f"# TYPE app_errors counter\n# HELP app_errors {long_help}\n"
        + "\n".join(_hostile_lines()) + "\n"
        "# TYPE odd gauge\nodd{le=\"0.5\",quantile=\"x\",ok=\"a\"} 1\n# EOF\n", encoding="utf-8")
    result = discover(str(tmp_path / "m.om"))
    assert result.returncode == 0, result.stderr
    catalog = as_catalog(result.stdout, tmp_path)
    _assert_hostile_snippet(result.stdout, catalog)
    assert len(catalog.metrics["app_errors_total"].help) == 2000
    assert catalog.metrics["app_errors_total"].help.startswith('Errors, "quoted" and long: yyy')
    assert "# help cut to 2000 characters" in result.stdout
    # `le` and `quantile` on a gauge: names the catalog reserves, so left out with the reason.
    assert catalog.metrics["odd"].labels == ["ok"] and "le" not in catalog.labels
    assert "# label quantile dropped: the name is reserved by Prometheus" in result.stdout


def test_summaries_are_summary_entries_without_quantile(tmp_path):
    text = ("# HELP rpc_seconds RPC latency.\n# TYPE rpc_seconds summary\n"
            'rpc_seconds{method="get",quantile="0.5"} 0.1\nrpc_seconds{method="get",quantile="0.99"} 0.4\n'
            'rpc_seconds_sum{method="get"} 1.5\nrpc_seconds_count{method="get"} 9\n')
    (tmp_path / "m.txt").write_text(text)
    (tmp_path / "m.om").write_text(text.replace("rpc_seconds_sum{", 'rpc_seconds_created{method="get"} 1.7e9\n'
                                                "rpc_seconds_sum{") + "# EOF\n")
    for name in ("m.txt", "m.om"):
        result = discover(str(tmp_path / name))
        assert result.returncode == 0, result.stderr
        catalog = as_catalog(result.stdout, tmp_path)
        entry = catalog.metrics["rpc_seconds"]
        assert (entry.type, entry.unit, entry.labels, entry.buckets) == ("summary", "seconds", ["method"], None), name
        assert sorted(catalog.metrics) == ["rpc_seconds"] and catalog.labels["method"].values == ["get"], name
        assert "skipped" not in result.stdout, name


def test_metrics_without_series_or_finite_buckets_are_skipped_with_why(tmp_path):
    """A labelled metric before its first observation has a TYPE line and no series: its labels and
    buckets are unknown, and `buckets: []` or `labels: []` would be a wrong entry (or no catalog)."""
    (tmp_path / "m.txt").write_text(
        "# HELP llm_eval_score Eval score.\n# TYPE llm_eval_score histogram\n"
        "# HELP llm_refusals_total Refusals.\n# TYPE llm_refusals_total counter\n"
        "# TYPE only_inf_seconds histogram\n"
        'only_inf_seconds_bucket{le="+Inf"} 1\nonly_inf_seconds_sum 1\nonly_inf_seconds_count 1\n'
        "# TYPE up_total counter\nup_total 1\n")
    result = discover(str(tmp_path / "m.txt"))
    assert result.returncode == 0, result.stderr
    catalog = as_catalog(result.stdout, tmp_path)
    assert sorted(catalog.metrics) == ["up_total"]
    assert "# skipped llm_eval_score: no series yet, so its labels (and buckets) are unknown" in result.stdout
    assert "# skipped llm_refusals_total: no series yet" in result.stdout
    assert "# skipped only_inf_seconds: a histogram with only the +Inf bucket" in result.stdout


def test_units_are_guessed_only_from_unit_suffixes(tmp_path):
    (tmp_path / "m.txt").write_text(
        "# TYPE gen_ai_client_token_usage histogram\n"
        'gen_ai_client_token_usage_bucket{le="1"} 0\ngen_ai_client_token_usage_bucket{le="+Inf"} 0\n'
        "gen_ai_client_token_usage_sum 0\ngen_ai_client_token_usage_count 0\n"
        "# TYPE breaker_open gauge\nbreaker_open 0\n"
        "# TYPE istio_request_duration_milliseconds histogram\n"
        'istio_request_duration_milliseconds_bucket{le="250"} 0\n'
        'istio_request_duration_milliseconds_bucket{le="+Inf"} 0\n'
        "istio_request_duration_milliseconds_sum 0\nistio_request_duration_milliseconds_count 0\n"
        "# TYPE llm_decode_tokens_per_second gauge\nllm_decode_tokens_per_second 1\n")
    result = discover(str(tmp_path / "m.txt"))
    assert result.returncode == 0, result.stderr
    catalog = as_catalog(result.stdout, tmp_path, warnings=1)  # milliseconds is not a base unit: advice
    units = {name: m.unit for name, m in catalog.metrics.items()}
    assert units == {"gen_ai_client_token_usage": NO_UNIT, "breaker_open": NO_UNIT,
                     "istio_request_duration_milliseconds": "milliseconds",
                     "llm_decode_tokens_per_second": "tokens_per_second"}
    assert "unit: usage" not in result.stdout and "unit: open" not in result.stdout
    assert result.stdout.count(f"unit: {NO_UNIT}  # set it: neither the source nor the name gives a unit") == 2
    assert "unit: milliseconds  # guessed from the name" in result.stdout


def test_unit_guesses_agree_with_every_bundled_catalog():
    """Over slokit's own catalogs and presets: a guess is the declared unit or no guess, never another
    unit; and a declared unit that ends the name is guessed (KNOWN_UNITS keeps up with the catalogs)."""
    files = [*(REPO_ROOT / "generator" / "data").rglob("*.yaml"), *(REPO_ROOT / "docs" / "examples").rglob("catalog.yaml"),
             REPO_ROOT / "slos" / "catalog.yaml"]
    checked = 0
    for path in files:
        for name, entry in (yaml.safe_load(path.read_text()).get("metrics") or {}).items():
            guess, origin = guess_unit(Family(name, entry["type"]))
            assert guess in (entry["unit"], NO_UNIT), f"{path.name}: {name} guessed {guess}, declared {entry['unit']}"
            if name.removesuffix("_total").endswith("_" + entry["unit"]):
                assert (guess, origin) == (entry["unit"], "name"), f"{path.name}: {name}"
            checked += 1
    assert checked > 100


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
    (tmp_path / "live.yaml").write_text(live.stdout)
    as_catalog(live.stdout, tmp_path)
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
        as_catalog(text, tmp_path)
        metrics = yaml.safe_load(text)["metrics"]
        for name in found:
            assert metrics[name]["type"] == found[name]["type"] and metrics[name]["labels"] == found[name]["labels"]
            assert metrics[name].get("buckets") == found[name].get("buckets")
