"""What slokit's rules cost Prometheus to evaluate, beside Sloth-style rules for the same SLOs.

For each size (raw series per SLI) it writes a synthetic project of SLOs
(30d windows, half ratio SLIs, half threshold SLIs on a histogram, default
tiers), generates slokit's rules with `slokit generate`, writes Sloth-style
rules for the same SLOs (the shape Sloth documents: one recording rule per
window 5m, 30m, 1h, 2h, 6h, 1d, 3d of `errors / total` from the raw counters,
the 30d ratio averaged from the 5m one, the metadata rules and two
multi-window multi-burn-rate alerts), backfills a TSDB with
`promtool tsdb create-blocks-from openmetrics` (raw counters over the
longest raw window Sloth reads, 3d, plus margin, at a 60s scrape step;
every recorded series some rule reads over a range, over 30d at a 60s step)
and runs one real Prometheus on 127.0.0.1 holding both rule sets. Then:

- evaluation time: each group's `evaluationTime` from /api/v1/rules, the
  median of a few evaluations, summed per SLO and weighted by how often the
  group runs (a group with `interval: 5m` under a 60s global interval counts
  one fifth);
- samples read: each rule's expression through /api/v1/query with
  `stats=all` (`totalQueryableSamples`), summed per SLO with the same weight.

The SLO count shrinks at large sizes (at most --series-budget raw series per
kind in total) so the backfill stays small enough for this machine: the
figures are per SLO and do not depend on how many SLOs share the server.
`--interval` is the global evaluation interval of the run; groups with their
own interval keep its ratio to the 60s the rules are written for, so a short
run still evaluates every group. Prints a table and one summary line of
ratios. Benchmarks print; they assert nothing.

    .venv/bin/python bench/rules_cost.py                       # 10, 100, 1,000 raw series per SLI
    .venv/bin/python bench/rules_cost.py --sizes 100 --slos 36
    .venv/bin/python bench/rules_cost.py --code /tmp/old       # another slokit: /tmp/old/slokit/
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.support.openmetrics import backfill_file  # noqa: E402
from tests.support.prometheus import PrometheusServer  # noqa: E402

DAY = 86400
STEP = 60  # scrape step of the raw counters and of the recorded history (the rules' 60s interval)
RAW_HISTORY = 3 * DAY + 15 * 60  # Sloth's longest raw window, 3d, plus margin
RECORDED_HISTORY = 30 * DAY + 15 * 60
AHEAD = 40 * 60  # raw samples into the future, so the rules see fresh data while the run lasts
SLOS_PER_SERVICE = 6
WRITTEN_FOR = 60  # the global evaluation interval group intervals are relative to
SLOTH_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
# Sloth's default page and ticket alerts for a 30d period: (long, short, burn factor).
SLOTH_TIERS = {"page": (("1h", "5m", 14.4), ("6h", "30m", 6)), "ticket": (("1d", "2h", 3), ("3d", "6h", 1))}
BOUND = "1"

def catalog(n_slos: int, per_sli: int) -> dict[str, Any]:
    """Label bounds as tight as the run (slokit checks the series a metric may produce)."""
    return {
    "version": 1,
    "labels": {
        "feature": {"description": "One per benchmark SLO.", "max_cardinality": n_slos},
        "pod": {"description": "The raw series of one SLI.", "max_cardinality": per_sli},
        "status": {"description": "Outcome.", "values": ["ok", "error"]},
    },
    "metrics": {
        "bench_requests_total": {"type": "counter", "unit": "requests", "help": "Requests by outcome.",
                                 "labels": ["feature", "pod", "status"]},
        "bench_latency_seconds": {"type": "histogram", "unit": "seconds", "help": "Request latency.",
                                  "labels": ["feature", "pod"], "buckets": [0.25, 0.5, 1, 2.5]},
    },
    }


# --------------------------------------------------------------------------
# The SLOs, both rule sets
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchSLO:
    index: int

    @property
    def kind(self) -> str:
        return "ratio" if self.index % 2 == 0 else "threshold"

    @property
    def feature(self) -> str:
        return f"f{self.index:03d}"

    @property
    def service(self) -> str:
        return f"bench-{self.index // SLOS_PER_SERVICE:02d}"

    @property
    def name(self) -> str:
        return f"{self.kind}-{self.index:03d}"

    def spec(self) -> dict[str, Any]:
        if self.kind == "ratio":
            sli = {"ratio": {"good": {"metric": "bench_requests_total", "match": {"feature": self.feature,
                                                                                  "status": "ok"}},
                             "total": {"metric": "bench_requests_total", "match": {"feature": self.feature}}}}
        else:
            sli = {"threshold": {"metric": "bench_latency_seconds", "le": float(BOUND),
                                 "match": {"feature": self.feature}}}
        return {"name": self.name, "description": f"Benchmark SLO {self.index}.", "objective": 99.9,
                "window": "30d", "sli": sli}

    def sloth_queries(self, window: str) -> tuple[str, str]:
        """Sloth's error and total queries, as a Sloth user writes them for these SLIs."""
        f = self.feature
        if self.kind == "ratio":
            return (f'sum(rate(bench_requests_total{{feature="{f}", status!="ok"}}[{window}]))',
                    f'sum(rate(bench_requests_total{{feature="{f}"}}[{window}]))')
        count = f'sum(rate(bench_latency_seconds_count{{feature="{f}"}}[{window}]))'
        good = f'sum(rate(bench_latency_seconds_bucket{{feature="{f}", le="{BOUND}"}}[{window}]))'
        return f"({count} - {good})", count


def slokit_project(directory: Path, slos: list[BenchSLO], per_sli: int) -> None:
    directory.mkdir(parents=True)
    (directory / "catalog.yaml").write_text(yaml.safe_dump(catalog(len(slos), per_sli), sort_keys=False))
    services: dict[str, list[BenchSLO]] = {}
    for slo in slos:
        services.setdefault(slo.service, []).append(slo)
    for service, members in services.items():
        spec = {"version": 1, "service": service, "description": "Benchmark service.", "owner": "bench",
                "slos": [s.spec() for s in members]}
        (directory / f"{service}.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))


def slokit_rules(work: Path, slos: list[BenchSLO], per_sli: int, code: Path | None) -> list[Path]:
    specs, out = work / "specs", work / "out"
    slokit_project(specs, slos, per_sli)
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = str(code)
    result = subprocess.run([sys.executable, "-m", "slokit", "generate", str(specs), "--out", str(out),
                             "--no-cache"], capture_output=True, text=True, env=env, cwd=work)
    if result.returncode != 0:
        raise RuntimeError(f"slokit generate failed:\n{result.stdout}\n{result.stderr}")
    return sorted((out / "alerts").glob("*.rules.yaml"))


def sloth_groups(slo: BenchSLO, budget: float = 0.001) -> list[dict[str, Any]]:
    """Sloth's three groups for one SLO (SLI recordings, metadata, alerts)."""
    sid = f"{slo.service}-{slo.name}"
    ident = {"sloth_id": sid, "sloth_service": slo.service, "sloth_slo": slo.name}
    sel = f'{{sloth_id="{sid}", sloth_service="{slo.service}", sloth_slo="{slo.name}"}}'

    def ratio(w: str) -> str:
        return f"slo:sli_error:ratio_rate{w}{sel}"

    slis = []
    for w in SLOTH_WINDOWS:
        errors, total = slo.sloth_queries(w)
        slis.append({"record": f"slo:sli_error:ratio_rate{w}", "expr": f"({errors})\n/\n({total})",
                     "labels": {**ident, "sloth_window": w}})
    slis.append({"record": "slo:sli_error:ratio_rate30d",
                 "expr": f"sum_over_time({ratio('5m')}[30d])\n/ ignoring (sloth_window)\n"
                         f"count_over_time({ratio('5m')}[30d])",
                 "labels": {**ident, "sloth_window": "30d"}})
    on = "on (sloth_id, sloth_slo, sloth_service) group_left"
    meta = [
        {"record": "slo:objective:ratio", "expr": "vector(0.999)", "labels": ident},
        {"record": "slo:error_budget:ratio", "expr": f"vector(1-0.999)", "labels": ident},
        {"record": "slo:time_period:days", "expr": "vector(30)", "labels": ident},
        {"record": "slo:current_burn_rate:ratio",
         "expr": f"{ratio('5m')}\n/ {on}\nslo:error_budget:ratio{sel}", "labels": ident},
        {"record": "slo:period_burn_rate:ratio",
         "expr": f"{ratio('30d')}\n/ {on}\nslo:error_budget:ratio{sel}", "labels": ident},
        {"record": "slo:period_error_budget_remaining:ratio",
         "expr": f"1 - slo:period_burn_rate:ratio{sel}", "labels": ident},
        {"record": "sloth_slo_info", "expr": "vector(1)", "labels": {**ident, "sloth_objective": "99.9"}},
    ]
    alerts = []
    for severity, pairs in SLOTH_TIERS.items():
        parts = []
        for long_w, short_w, factor in pairs:
            parts.append(f"(\n  max({ratio(short_w)} > ({factor} * {budget})) without (sloth_window)\n  and\n"
                         f"  max({ratio(long_w)} > ({factor} * {budget})) without (sloth_window)\n)")
        alerts.append({"alert": f"Bench{slo.index:03d}{severity.title()}", "expr": "\nor\n".join(parts),
                       "labels": {"sloth_severity": severity}})
    return [{"name": f"sloth-slo-sli-recordings-{sid}", "rules": slis},
            {"name": f"sloth-slo-meta-recordings-{sid}", "rules": meta},
            {"name": f"sloth-slo-alerts-{sid}", "rules": alerts}]


# --------------------------------------------------------------------------
# History
# --------------------------------------------------------------------------


def _counter_lines(name: str, labels: str, rate: float, times: range, origin: int) -> str:
    """One counter's samples, joined in C: the value text repeats for every series of the same rate."""
    return name + labels + ("\n" + name + labels).join(f" {rate * (t - origin):.10g} {t}" for t in times) + "\n"


def write_history(path: Path, slos: list[BenchSLO], per_sli: int, recorded: dict[str, list[dict[str, str]]],
                  now: int) -> int:
    """Raw counters for every SLO's SLI and the recorded series read over ranges; returns the sample count."""
    raw_times = range(now - RAW_HISTORY, now + AHEAD, STEP)
    rec_times = range(now - RECORDED_HISTORY, now - STEP, STEP)
    origin = now - RAW_HISTORY - STEP
    samples = 0
    with path.open("w") as f:
        ratio = [s for s in slos if s.kind == "ratio"]
        thresh = [s for s in slos if s.kind == "threshold"]
        # Ratio SLIs: per_sli series each, half of them ok and half errors (1% of the traffic).
        f.write("# TYPE bench_requests counter\n")
        for s in ratio:
            for pod in range(max(1, per_sli // 2)):
                for status, rate in (("ok", 0.99), ("error", 0.01)):
                    labels = f'{{feature="{s.feature}",pod="p{pod}",status="{status}"}}'
                    f.write(_counter_lines("bench_requests_total", labels, rate, raw_times, origin))
                    samples += len(raw_times)
        # Threshold SLIs: per_sli label sets, each with the bucket the rules read, +Inf and _count.
        f.write("# TYPE bench_latency_seconds histogram\n")
        for s in thresh:
            for pod in range(per_sli):
                base = f'feature="{s.feature}",pod="p{pod}"'
                for suffix, labels, rate in (("_bucket", f'{{{base},le="{BOUND}"}}', 0.99),
                                             ("_bucket", f'{{{base},le="+Inf"}}', 1.0),
                                             ("_count", f"{{{base}}}", 1.0)):
                    f.write(_counter_lines("bench_latency_seconds" + suffix, labels, rate, raw_times, origin))
                    samples += len(raw_times)
        for name in sorted(recorded):
            f.write(f"# TYPE {name} gauge\n")
            for labels in recorded[name]:
                text = "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"
                f.write(name + text + ("\n" + name + text).join(f" 0.001 {t}" for t in rec_times) + "\n")
                samples += len(rec_times)
        f.write("# EOF\n")
    return samples


RANGE_READ = re.compile(r"([A-Za-z_][A-Za-z0-9_]*:[A-Za-z0-9_:]+)\s*(?:\{[^}]*\})?\s*\[")


def recorded_range_reads(groups: list[dict[str, Any]]) -> dict[str, list[dict[str, str]]]:
    """Recorded series some rule reads over a range, with the labels of every rule recording them."""
    read = {m.group(1) for g in groups for r in g["rules"] for m in RANGE_READ.finditer(r["expr"])}
    out: dict[str, list[dict[str, str]]] = {}
    for g in groups:
        for r in g["rules"]:
            if r.get("record") in read:
                out.setdefault(r["record"], []).append(dict(r.get("labels", {})))
    return out


# --------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------


def parse_seconds(text: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": DAY}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)", text))


def scale_intervals(groups: list[dict[str, Any]], interval: int) -> list[dict[str, Any]]:
    """Groups with their own interval keep its ratio to the interval the rules are written for."""
    out = []
    for g in groups:
        g = dict(g)
        if "interval" in g:
            g["interval"] = f"{max(1, round(parse_seconds(g['interval']) * interval / WRITTEN_FOR))}s"
        out.append(g)
    return out


@dataclass
class Side:
    """One rule set's cost, per SLO and per global evaluation."""

    eval_s: float = 0.0
    samples: float = 0.0
    records: int = 0
    rules: int = 0
    groups: list[str] = field(default_factory=list)


def collect_eval_times(url: str, evaluations: int, timeout: float) -> tuple[dict[str, list[float]], dict[str, float]]:
    """evaluationTime of each group over `evaluations` distinct evaluations (or what came within `timeout`)."""
    seen: dict[str, dict[str, float]] = {}
    intervals: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    while True:
        groups = httpx.get(f"{url}/api/v1/rules", timeout=60).json()["data"]["groups"]
        for g in groups:
            intervals[g["name"]] = float(g["interval"])
            if g["lastEvaluation"].startswith("0001"):
                continue
            seen.setdefault(g["name"], {})[g["lastEvaluation"]] = float(g["evaluationTime"])
        done = len(seen) == len(groups) and all(len(v) >= evaluations for v in seen.values())
        if done or time.monotonic() > deadline:
            missing = [g["name"] for g in groups if g["name"] not in seen]
            if missing:
                raise RuntimeError(f"groups never evaluated within {timeout:.0f}s: {missing[:5]}")
            return {k: list(v.values()) for k, v in seen.items()}, intervals
        time.sleep(1.0)


def query_samples(url: str, expr: str, at: float) -> int:
    resp = httpx.get(f"{url}/api/v1/query", params={"query": expr, "time": at, "stats": "all"}, timeout=300)
    body = resp.json()
    if body.get("status") != "success":
        raise RuntimeError(f"{expr}: {body.get('error')}")
    return int(body["data"]["stats"]["samples"]["totalQueryableSamples"])


@dataclass
class Row:
    per_sli: int
    slos: int
    slokit: Side
    sloth: Side
    history_samples: int


def run_size(per_sli: int, n_slos: int, interval: int, evaluations: int, code: Path | None, work: Path) -> Row:
    slos = [BenchSLO(i) for i in range(n_slos)]
    slokit_files = slokit_rules(work, slos, per_sli, code)
    slokit_groups = [g for p in slokit_files for g in yaml.safe_load(p.read_text())["groups"]]
    sloth = [g for s in slos for g in sloth_groups(s)]
    rules_dir = work / "rules"
    rules_dir.mkdir()
    (rules_dir / "slokit.yaml").write_text(yaml.safe_dump({"groups": scale_intervals(slokit_groups, interval)},
                                                          sort_keys=False))
    (rules_dir / "sloth.yaml").write_text(yaml.safe_dump({"groups": sloth}, sort_keys=False))

    now = int(time.time()) // STEP * STEP
    history = work / "history.om"
    samples = write_history(history, slos, per_sli, recorded_range_reads(slokit_groups + sloth), now)
    data = work / "prom" / "data"
    data.mkdir(parents=True)
    backfill_file(history, data, timeout=3600)
    history.unlink()

    config = {"global": {"evaluation_interval": f"{interval}s", "scrape_interval": f"{interval}s"},
              "rule_files": [str(rules_dir / "slokit.yaml"), str(rules_dir / "sloth.yaml")]}
    server = PrometheusServer(config, work / "prom",
                              extra_args=["--storage.tsdb.retention.time=90d", "--query.timeout=5m"])
    with server:
        longest = max([interval] + [parse_seconds(g["interval"]) for g in scale_intervals(slokit_groups, interval)
                                    if "interval" in g])
        times, intervals = collect_eval_times(server.url, evaluations, timeout=longest * (evaluations + 1) + 120)
        at = time.time()
        all_groups = slokit_groups + sloth
        # Samples read do not depend on timing: the queries run a few at a time.
        with ThreadPoolExecutor(4) as pool:
            read = list(pool.map(lambda g: sum(query_samples(server.url, r["expr"], at) for r in g["rules"]),
                                 all_groups))
        sides = {"slokit": Side(), "sloth": Side()}
        for g, samples_read in zip(all_groups, read):
            side = sides["sloth" if g["name"].startswith("sloth-") else "slokit"]
            weight = interval / intervals[g["name"]]
            side.groups.append(g["name"])
            side.eval_s += statistics.median(times[g["name"]]) * weight
            side.rules += len(g["rules"])
            side.records += sum(1 for r in g["rules"] if "record" in r)
            side.samples += samples_read * weight
    for side in sides.values():
        side.eval_s /= n_slos
        side.samples /= n_slos
        side.records //= n_slos
        side.rules //= n_slos
    return Row(per_sli, n_slos, sides["slokit"], sides["sloth"], samples)


def ratio(a: float, b: float) -> float:
    return a / b if b else float("inf")


def fmt_samples(n: float) -> str:
    if n >= 1e6:
        return f"{n / 1e6:.2f}M"
    if n >= 1e3:
        return f"{n / 1e3:.1f}k"
    return f"{n:.0f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000], help="raw series per SLI")
    ap.add_argument("--slos", type=int, default=36, help="SLOs per size (fewer at large sizes, see --series-budget)")
    ap.add_argument("--series-budget", type=int, default=4000,
                    help="at most this many raw series per SLI summed over the SLOs of one size")
    ap.add_argument("--interval", type=int, default=20, help="global evaluation interval of the run, seconds")
    ap.add_argument("--evaluations", type=int, default=3, help="evaluations per group to take the median of")
    ap.add_argument("--code", type=Path, help="directory holding a `slokit` package to run instead of the installed one")
    args = ap.parse_args(argv)

    rows = []
    for per_sli in args.sizes:
        n = min(args.slos, max(2, args.series_budget // per_sli)) // 2 * 2
        with tempfile.TemporaryDirectory(prefix="slokit-rules-cost-") as tmp:
            started = time.monotonic()
            rows.append(run_size(per_sli, n, args.interval, args.evaluations, args.code, Path(tmp)))
            print(f"# {per_sli} raw series per SLI, {n} SLOs: {time.monotonic() - started:.0f}s, "
                  f"{rows[-1].history_samples / 1e6:.1f}M backfilled samples", file=sys.stderr, flush=True)
    print("raw series per SLI | SLOs | eval per SLO: slokit | Sloth-style | ratio | samples per SLO: slokit "
          "| Sloth-style | ratio | records/rules per SLO: slokit | Sloth-style")
    print("---|---|---|---|---|---|---|---|---|---")
    for r in rows:
        print(f"{r.per_sli} | {r.slos} | {r.slokit.eval_s * 1000:.2f} ms | {r.sloth.eval_s * 1000:.2f} ms | "
              f"{ratio(r.sloth.eval_s, r.slokit.eval_s):.1f}x | {fmt_samples(r.slokit.samples)} | "
              f"{fmt_samples(r.sloth.samples)} | {ratio(r.sloth.samples, r.slokit.samples):.1f}x | "
              f"{r.slokit.records}/{r.slokit.rules} | {r.sloth.records}/{r.sloth.rules}")
    parts = [f"{r.per_sli}: eval {ratio(r.sloth.eval_s, r.slokit.eval_s):.1f}x, "
             f"samples {ratio(r.sloth.samples, r.slokit.samples):.1f}x" for r in rows]
    growth = ""
    if len(rows) > 1:
        growth = (f"; slokit per SLO from {rows[0].per_sli} to {rows[-1].per_sli} raw series: samples "
                  f"{ratio(rows[-1].slokit.samples, rows[0].slokit.samples):.2f}x, eval "
                  f"{ratio(rows[-1].slokit.eval_s, rows[0].slokit.eval_s):.2f}x")
    print(f"summary (Sloth-style / slokit, per SLO) at raw series per SLI {'; '.join(parts)}{growth}; "
          f"recorded series per SLO {rows[-1].slokit.records} vs {rows[-1].sloth.records}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
