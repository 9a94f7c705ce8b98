"""Threshold SLIs read a histogram bucket however its `le` is spelled, and count it once.

Prometheus 2 stores `le` as the exporter wrote it (Go clients `1`, the
Python client `1.0`); Prometheus 3 normalises it to `1.0`. slokit's bucket
selector matches both. Across an upgrade the old series (`le="1"`) stops and
the new one (`le="1.0"`) continues the same counter: the good events must be
counted once, never twice (twice would make bad = total - 2 x good negative).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from slokit.plan import build_plan
from slokit.project import load_project
from slokit.promql import le_regex, le_spellings
from slokit.render import prometheus_rules

from . import family
from .promtool import run_tests

SPEC = {"version": 1, "service": "le", "owner": "team",
        "slos": [{"name": "ttft", "objective": 99, "sli": {"threshold": {"metric": "llm_ttft_seconds", "le": 1}}}]}
SERIES = 'llm_ttft_seconds_{kind}{{feature="support_chat", model="sim-large", provider="simulated"{le}}}'
RATIO = 'round(slo:error_ratio:rate5m{service="le", slo="ttft"}, 0.01)'


def series(kind: str, values: str, le: str | None = None) -> dict[str, str]:
    return {"series": SERIES.format(kind=kind, le=f', le="{le}"' if le else ""), "values": values}


def ratio_checks(*minutes: int, value: float = 0.1) -> list[dict]:
    return [{"expr": RATIO, "eval_time": f"{m}m",
             "exp_samples": [{"labels": '{service="le", slo="ttft"}', "value": value}]} for m in minutes]


def test_le_spellings_cover_every_exporter_and_prometheus_version():
    assert le_spellings(1) == ["1", "1.0"] and le_regex(1) == r"1(\.0)?"
    assert le_spellings(0.25) == ["0.25"]
    assert set(le_spellings(1e6)) == {"1000000", "1000000.0", "1e+06"}  # Go writes 1e+06
    assert "1e-05" in le_spellings(0.00001)


def test_prometheus_2_and_3_spellings_count_once(tmp_path):
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "catalog.yaml").write_text(family.CATALOG.read_text(encoding="utf-8"), encoding="utf-8")
    (specs / "le.yaml").write_text(yaml.safe_dump(SPEC), encoding="utf-8")
    plan = build_plan(load_project([specs / "le.yaml"], specs / "catalog.yaml"))
    rules = tmp_path / "le.rules.yaml"
    rules.write_text(next(iter(prometheus_rules.render(plan).values())), encoding="utf-8")

    count = series("count", "0+100x60")
    # Buckets that must never be matched: a larger and a smaller bound.
    others = [series("bucket", "0+100x60", "10"), series("bucket", "0+50x60", "0.5")]
    upgrade_old = series("bucket", "0+90x30", "1")  # Prometheus 2 until minute 30 ...
    upgrade_new = series("bucket", " ".join(["_"] * 31) + " 2790+90x29", "1.0")  # ... then Prometheus 3
    tests = {
        "rule_files": [str(rules)], "evaluation_interval": "1m",
        "tests": [
            {"name": "Prometheus 2 (Go client): le=\"1\"", "interval": "1m",
             "input_series": [count, series("bucket", "0+90x60", "1"), *others],
             "promql_expr_test": ratio_checks(10, 40)},
            {"name": "Prometheus 3, or the Python client: le=\"1.0\"", "interval": "1m",
             "input_series": [count, series("bucket", "0+90x60", "1.0"), *others],
             "promql_expr_test": ratio_checks(10, 40)},
            {"name": "upgrade at minute 30: le=\"1\" stops, le=\"1.0\" continues the same counter", "interval": "1m",
             "input_series": [count, upgrade_old, upgrade_new, *others],
             # Through the switch (both series inside the 5m window) and after it: still 10% bad.
             "promql_expr_test": ratio_checks(29, 31, 32, 33, 34, 35, 36, 40, 50)},
        ],
    }
    path = tmp_path / "le.test.yaml"
    path.write_text(yaml.safe_dump(tests, sort_keys=False), encoding="utf-8")
    proc = run_tests(path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("spelling", ["10", "0.1", "11", "1.5", "01"])
def test_bucket_regex_is_anchored(spelling):
    import re

    assert re.fullmatch(le_regex(1), spelling) is None
