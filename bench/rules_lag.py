"""How much later a derived long window sees a step change than a naive one, and what a correction would do.

Runs promtool on one error step (0% -> 100% of traffic at minute 421) with a 6h
window computed three ways: naive `rate(x[6h])`, slokit's `avg_over_time` of the
recorded 5m rate, and the lag-corrected average
`avg_over_time(r[6h]) + (r - r offset 6h) * k / 21600` with k = (5m - interval) / 2.
Prints, per evaluation interval, when each crosses a few thresholds and the
smallest value the corrected ratio takes (it dips below zero after the step
leaves the window). Benchmarks print; they assert nothing.

    .venv/bin/python bench/rules_lag.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.rules.promtool import measure  # noqa: E402  (promtool's failure report, parsed)

THRESHOLDS = (0.006, 0.05, 0.1)


def rules(k: int) -> dict:
    fix = (f"avg_over_time({{r}}:rate5m[6h]) + {k} / 21600 * ({{r}}:rate5m - {{r}}:rate5m offset 6h or {{r}}:rate5m)"
           f" or avg_over_time({{r}}:rate5m[6h])")
    return {"groups": [{"name": "lag", "rules": [
        {"record": "b:rate5m", "expr": "sum(rate(bad_total[5m]))"},
        {"record": "t:rate5m", "expr": "sum(rate(all_total[5m]))"},
        {"record": "ratio:naive", "expr": "sum(rate(bad_total[6h])) / sum(rate(all_total[6h]))"},
        {"record": "ratio:avg", "expr": "avg_over_time(b:rate5m[6h]) / avg_over_time(t:rate5m[6h])"},
        {"record": "b:fix", "expr": fix.format(r="b")},
        {"record": "t:fix", "expr": fix.format(r="t")},
        {"record": "ratio:fix", "expr": "b:fix / t:fix"},
    ]}]}


def run(interval_s: int) -> dict[str, float]:
    step = f"{interval_s}s"
    n = 1000 * 60 // interval_s
    before, after = 421 * 60 // interval_s, 60 * 60 // interval_s  # 100% errors for one hour
    per = 60 * interval_s // 60
    bad = f"0x{before} 0+{per}x{after} {per * after}x{n - before - after}"
    exprs = {}
    for name in ("naive", "avg", "fix"):
        for th in THRESHOLDS:
            exprs[f"{name} > {th}"] = f"min_over_time(timestamp(ratio:{name} > {th})[16h:{step}])"
    exprs["fix min"] = f"min_over_time(ratio:fix[16h:{step}])"
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "r.yaml").write_text(yaml.safe_dump(rules((300 - interval_s) // 2)))
        series = [{"series": "bad_total", "values": bad}, {"series": "all_total", "values": f"0+{per}x{n}"}]
        got = measure(d, [d / "r.yaml"], series, list(exprs.values()), "16h", interval=step, evaluation_interval=step)
    return {key: (got[e][0].value if got[e] else float("nan")) for key, e in exprs.items()}


def main() -> None:
    pass
    for interval in (15, 30, 60):
        got = run(interval)
        start = (421 * 60 // interval + 1) * interval  # the first sample with errors
        print(f"evaluation interval {interval}s:")
        for th in THRESHOLDS:
            naive = got[f"naive > {th}"]
            print(f"  ratio > {th}: naive at +{(naive - start) / 60:.2f} min; "
                  f"avg_over_time {(got[f'avg > {th}'] - naive) / 60:+.2f} min; "
                  f"corrected {(got[f'fix > {th}'] - naive) / 60:+.2f} min")
        print(f"  corrected ratio minimum: {got['fix min']:.5f}")


if __name__ == "__main__":
    main()
