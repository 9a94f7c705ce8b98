"""Mutation testing of the generated promtool tests: do they catch a wrong rule?

Each mutant is the bundled example's generated rules with one deliberate
mistake (a burn factor, a window, the objective, a `for`, the traffic guard,
the NaN guard, a bucket matcher, a label, the cost-regression factor, a
budget limit). The generated tests of the mutated service run against it in
the real promtool; a mutant is killed when some test fails.

To keep the run short, every test group is written to a file of its own and
the groups run one at a time, cheapest first, until one fails; mutants run
in parallel, one promtool per core.

Run `python -m tests.rules.mutation` from the repository root for the score
table (docs/alert-quality.md quotes it).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import yaml

from slokit import naming as N
from slokit.pipeline import build_outputs
from slokit.project import load_project

try:
    from .promtool import PROMTOOL_TIMEOUT, promtool
except ImportError:  # run as a script
    from tests.rules.promtool import PROMTOOL_TIMEOUT, promtool  # type: ignore[no-redef]

REPO = Path(__file__).resolve().parents[2]

Groups = list[dict]


@dataclass(frozen=True)
class Mutant:
    name: str
    service: str
    apply: Callable[[Groups], bool]  # mutates the parsed rule groups in place; False if it found nothing


@dataclass(frozen=True)
class Result:
    mutant: Mutant
    killed: bool
    by: str  # the test group that failed, or ""
    seconds: float


# --------------------------------------------------------------------------
# Mutation operators
# --------------------------------------------------------------------------


def _rules(groups: Groups, group_suffix: str):
    for g in groups:
        if g["name"].endswith(group_suffix):
            yield from g["rules"]


def _burn_rules(groups: Groups, slo: str) -> list[dict]:
    return [r for r in _rules(groups, f"-{slo}") if r.get("alert") and "slo:burn_rate:" in r["expr"]]


def _tier(groups: Groups, slo: str, long_window: str) -> dict:
    found = [r for r in _burn_rules(groups, slo) if r["labels"].get("long_window") == long_window]
    assert len(found) == 1, (slo, long_window)
    return found[0]


def burn_factor(slo: str, long_window: str, new: str) -> Callable[[Groups], bool]:
    def apply(groups: Groups) -> bool:
        rule = _tier(groups, slo, long_window)
        before = rule["expr"]
        rule["expr"] = re.sub(r"(slo:burn_rate:rate\w+\{[^}]*\}) > [0-9.]+", rf"\1 > {new}", before)
        return rule["expr"] != before
    return apply


def window_in_alert(slo: str, long_window: str, which: int, new_window: str) -> Callable[[Groups], bool]:
    """Swap the window of the `which`-th burn condition (0 long, 1 short) of a tier for another recorded one."""
    def apply(groups: Groups) -> bool:
        rule = _tier(groups, slo, long_window)
        parts = rule["expr"].split("\nand\n")
        before = parts[which]
        parts[which] = re.sub(r"slo:burn_rate:rate\w+\{", f"slo:burn_rate:rate{new_window}{{", before)
        rule["expr"] = "\nand\n".join(parts)
        return parts[which] != before
    return apply


def drop_guard(slo: str, long_window: str) -> Callable[[Groups], bool]:
    def apply(groups: Groups) -> bool:
        rule = _tier(groups, slo, long_window)
        parts = rule["expr"].split("\nand\n")
        kept = [p for p in parts if "* 3600 >=" not in p]
        rule["expr"] = "\nand\n".join(kept)
        return len(kept) < len(parts)
    return apply


def guard_value(slo: str, new: str) -> Callable[[Groups], bool]:
    def apply(groups: Groups) -> bool:
        changed = False
        for rule in _burn_rules(groups, slo):
            before = rule["expr"]
            rule["expr"] = re.sub(r"\* 3600 >= [0-9.]+", f"* 3600 >= {new}", before)
            changed |= rule["expr"] != before
        return changed
    return apply


def record_expr(group_suffix: str, record: str, old: str, new: str, label: tuple[str, str] | None = None
                ) -> Callable[[Groups], bool]:
    """Replace `old` by `new` in one recording rule's expression."""
    def apply(groups: Groups) -> bool:
        for rule in _rules(groups, group_suffix):
            if rule.get("record") == record and (label is None or rule["labels"].get(label[0]) == label[1]) \
                    and old in rule["expr"]:
                rule["expr"] = rule["expr"].replace(old, new)
                return True
        return False
    return apply


def records_matching(group_suffix: str, prefix: str, old: str, new: str) -> Callable[[Groups], bool]:
    """Replace `old` by `new` in every recording rule of a group whose name starts with `prefix`."""
    def apply(groups: Groups) -> bool:
        changed = False
        for rule in _rules(groups, group_suffix):
            if rule.get("record", "").startswith(prefix) and old in rule["expr"]:
                rule["expr"] = rule["expr"].replace(old, new)
                changed = True
        return changed
    return apply


# The `or` that starts a fallback line: bare, `or on ()` or `or on (<group_by>)`.
_FALLBACK_OR = re.compile(r"\n\s*or(?: on \([^)]*\))?\n")


def drop_nan_guard(group_suffix: str, record: str) -> Callable[[Groups], bool]:
    def apply(groups: Groups) -> bool:
        for rule in _rules(groups, group_suffix):
            if rule.get("record") == record and _FALLBACK_OR.search(rule["expr"]):
                rule["expr"] = _FALLBACK_OR.split(rule["expr"], maxsplit=1)[0]
                return True
        return False
    return apply


def alert_field(group_suffix: str, alert: str, pick: Callable[[dict], bool], edit: Callable[[dict], None]
                ) -> Callable[[Groups], bool]:
    def apply(groups: Groups) -> bool:
        for rule in _rules(groups, group_suffix):
            if rule.get("alert") == alert and pick(rule):
                before = repr(rule)
                edit(rule)
                return repr(rule) != before
        return False
    return apply


def alert_expr(group_suffix: str, alert: str, old: str, new: str,
               pick: Callable[[dict], bool] = lambda r: True) -> Callable[[Groups], bool]:
    def edit(rule: dict) -> None:
        rule["expr"] = rule["expr"].replace(old, new)
    return alert_field(group_suffix, alert, lambda r: pick(r) and old in r["expr"], edit)


def _set(key: str, value: str) -> Callable[[dict], None]:
    def edit(rule: dict) -> None:
        rule[key] = value
    return edit


def _set_label(key: str, value: str | None) -> Callable[[dict], None]:
    def edit(rule: dict) -> None:
        if value is None:
            rule["labels"].pop(key, None)
        else:
            rule["labels"][key] = value
    return edit


def _long(window: str) -> Callable[[dict], bool]:
    return lambda r: r["labels"].get("long_window") == window


# --------------------------------------------------------------------------
# The mutants of the bundled example
# --------------------------------------------------------------------------

SC, RA = "support-chatbot", "rag-assistant"


def _burn_mutants(service: str, slo: str, tiers: list[tuple[str, str, str, str]], other_short: dict[str, str],
                  other_long: dict[str, str]) -> list[Mutant]:
    """Per tier (long, short, factor, mutated factor): the factor up and down, each window swapped."""
    out = []
    for long_w, short_w, factor, up in tiers:
        down = f"{float(factor) * 0.7:g}"
        out += [Mutant(f"{slo} {long_w} tier: burn factor {factor} -> {up}", service, burn_factor(slo, long_w, up)),
                Mutant(f"{slo} {long_w} tier: burn factor {factor} -> {down}", service,
                       burn_factor(slo, long_w, down)),
                Mutant(f"{slo} {long_w} tier: short window {short_w} -> {other_short[short_w]}", service,
                       window_in_alert(slo, long_w, 1, other_short[short_w])),
                Mutant(f"{slo} {long_w} tier: long window {long_w} -> {other_long[long_w]}", service,
                       window_in_alert(slo, long_w, 0, other_long[long_w]))]
    return out


def example_mutants() -> list[Mutant]:
    default = [("1h", "5m", "14.4", "20"), ("6h", "30m", "6", "9"), ("1d", "2h", "3", "4.5"), ("3d", "6h", "1", "2")]
    # A swapped window is another window the same SLO records, as a copy-paste slip would pick.
    short30 = {"5m": "30m", "30m": "5m", "2h": "30m", "6h": "2h"}
    long30 = {"1h": "2h", "6h": "1d", "1d": "6h", "3d": "1d"}
    short7 = {"28m": "7m", "1h24m": "28m"}
    long7 = {"5h36m": "16h48m", "16h48m": "5h36m"}
    m: list[Mutant] = []
    m += _burn_mutants(SC, "api-success", default, short30, long30)
    m += _burn_mutants(SC, "tool-call-success", [("5h36m", "28m", "3", "4.5"), ("16h48m", "1h24m", "1", "2")],
                       short7, long7)
    m += _burn_mutants(RA, "answered-not-refused", [("12h", "1h", "1.4", "2"), ("1d", "2h", "1.05", "1.5")],
                       {"1h": "2h", "2h": "1h"}, {"12h": "1d", "1d": "12h"})
    m += [
        # objective: 99.5% read as 99% in the burn rates (and the budget left)
        Mutant("api-success: objective 99.5 -> 99 (burn rates)", SC,
               records_matching("-api-success", "slo:burn_rate:", "/ 0.005", "/ 0.01")),
        Mutant("api-success: objective 99.5 -> 99 (budget remaining)", SC,
               record_expr("-api-success", N.SLO_BUDGET_REMAINING, "/ 0.005", "/ 0.01")),
        # `for`
        Mutant("api-success: SLONoData for 10m -> 20m", SC,
               alert_field("-api-success", N.ALERT_NO_DATA, lambda r: True, _set("for", "20m"))),
        Mutant("api-success 1h tier: for 0 -> 5m", SC,
               alert_field("-api-success", N.ALERT_BURN, _long("1h"), _set("for", "5m"))),
        Mutant("monthly-spend: SLOCostRegression for 30m -> 1h", SC,
               alert_field(":budgets", N.ALERT_COST_REGRESSION, lambda r: True, _set("for", "1h"))),
        # traffic guard
        Mutant("api-success: traffic guard 60 -> 120 events/h", SC, guard_value("api-success", "120")),
        Mutant("api-success: traffic guard 60 -> 30 events/h", SC, guard_value("api-success", "30")),
        Mutant("api-success 1h tier: traffic guard dropped", SC, drop_guard("api-success", "1h")),
        Mutant("ttft-under-1s: traffic guard 30 -> 60 events/h", SC, guard_value("ttft-under-1s", "60")),
        # NaN guard
        Mutant("api-success: error ratio 5m without the `or 0 *` NaN guard", SC,
               drop_nan_guard("-api-success", N.slo_error_ratio("5m"))),
        Mutant("api-success: bad events 5m without the `or 0 *` absent guard", SC,
               drop_nan_guard("-api-success", N.slo_bad_rate("5m"))),
        # bucket matcher
        Mutant('ttft-under-1s: bucket le="1" -> le="2.5"', SC,
               records_matching("-ttft-under-1s", "slo:", 'le=~"1(', 'le=~"2.5(')),
        # a recorded window computed over the wrong range
        Mutant("api-success: total events 1h recorded over [2h]", SC,
               record_expr("-api-success", N.slo_total_rate("1h"), "[1h]", "[2h]")),
        Mutant("api-success: bad events 5m recorded over [10m]", SC,
               record_expr("-api-success", N.slo_bad_rate("5m"), "[5m]", "[10m]")),
        # labels
        Mutant("api-success 1h tier: severity page -> ticket", SC,
               alert_field("-api-success", N.ALERT_BURN, _long("1h"), _set_label("severity", "ticket"))),
        Mutant("api-success 3d tier: team label dropped", SC,
               alert_field("-api-success", N.ALERT_BURN, _long("3d"), _set_label("team", None))),
        Mutant("ttft-under-1s: `by (feature)` dropped from total 5m", SC,
               record_expr("-ttft-under-1s", N.slo_total_rate("5m"), "sum by (feature) (", "sum(")),
        # cost regression
        Mutant("monthly-spend: cost-regression factor 1.5 -> 3", SC,
               alert_expr(":budgets", N.ALERT_COST_REGRESSION, "1.5 *", "3 *")),
        Mutant("monthly-spend: cost-regression factor 1.5 -> 1", SC,
               alert_expr(":budgets", N.ALERT_COST_REGRESSION, "1.5 *", "1 *")),
        Mutant("monthly-spend: cost-regression offset 1w -> 1d", SC,
               alert_expr(":budgets", N.ALERT_COST_REGRESSION, "offset 1w", "offset 1d")),
        Mutant("monthly-spend: cost-regression traffic floor 30 -> 300", SC,
               alert_expr(":budgets", N.ALERT_COST_REGRESSION, ">= 30", ">= 300")),
    ]
    m += _budget_limit_mutants()
    return m


def _budget_limit_mutants() -> list[Mutant]:
    def overrun(budget: str) -> Callable[[dict], bool]:
        return lambda r: r["labels"].get(N.LABEL_BUDGET) == budget
    return [
        Mutant("monthly-spend: overrun limit 5000 -> 6000", SC,
               alert_expr(":budgets", N.ALERT_BUDGET_OVERRUN, "> 5000", "> 6000", overrun("monthly-spend"))),
        Mutant("monthly-spend: overrun limit 5000 -> 4000", SC,
               alert_expr(":budgets", N.ALERT_BUDGET_OVERRUN, "> 5000", "> 4000", overrun("monthly-spend"))),
        Mutant("daily-spend-per-feature: overrun limit 100 -> 120", SC,
               alert_expr(":budgets", N.ALERT_BUDGET_OVERRUN, "> 100", "> 120", overrun("daily-spend-per-feature"))),
        Mutant("monthly-spend: overrun short window 1h -> 6h", SC,
               alert_expr(":budgets", N.ALERT_BUDGET_OVERRUN, 'rate1h{budget="monthly-spend"',
                          'rate6h{budget="monthly-spend"')),
        Mutant("daily-spend-per-feature: overrun long window 30m -> 5m", SC,
               alert_expr(":budgets", N.ALERT_BUDGET_OVERRUN, 'rate30m{budget="daily-spend-per-feature"',
                          'rate5m{budget="daily-spend-per-feature"')),
        Mutant("output-tokens: overrun limit 5e7 -> 6e7", RA,
               alert_expr(":budgets", N.ALERT_BUDGET_OVERRUN, "> 50000000", "> 60000000", overrun("output-tokens"))),
        Mutant("output-tokens: overrun limit 5e7 -> 4e7", RA,
               alert_expr(":budgets", N.ALERT_BUDGET_OVERRUN, "> 50000000", "> 40000000", overrun("output-tokens"))),
    ]


# --------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------


@dataclass
class Workspace:
    """The example's generated rules and tests, each test group in a file of its own."""

    root: Path
    rules: dict[str, str]  # service -> rules text
    groups: dict[str, list[Path]]  # service -> group test files, cheapest first


def _promtool(files: list[Path], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([promtool(), "test", "rules", *map(str, files)], capture_output=True, text=True,
                          timeout=PROMTOOL_TIMEOUT, cwd=cwd)


def prepare(root: Path, outputs: dict[str, str] | None = None) -> Workspace:
    if outputs is None:
        cwd = os.getcwd()
        os.chdir(REPO)
        try:
            outputs = build_outputs(load_project([Path("slos")]))
        finally:
            os.chdir(cwd)
    rules = {Path(rel).name.removesuffix(".rules.yaml"): text for rel, text in outputs.items()
             if rel.startswith("alerts/") and rel.endswith(".rules.yaml") and "/" not in rel[len("alerts/"):]}
    groups: dict[str, list[tuple[float, Path]]] = {s: [] for s in rules}
    for rel, text in sorted(outputs.items()):
        if not rel.startswith("alerts/tests/"):
            continue
        doc = yaml.safe_load(text)
        service = Path(rel).name.split(".")[0]
        for i, group in enumerate(doc["tests"]):
            path = root / "base" / "tests" / f"{Path(rel).name.removesuffix('.yaml')}.{i}.yaml"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(yaml.safe_dump({**doc, "rule_files": [f"../{service}.rules.yaml"], "tests": [group]}),
                            encoding="utf-8")
            groups[service].append((0.0, path))
    for service, text in rules.items():
        (root / "base" / f"{service}.rules.yaml").write_text(text, encoding="utf-8")
    # The unmutated rules must pass every group; its time orders the groups, cheapest first.
    timed: dict[str, list[Path]] = {}
    for service, items in groups.items():
        costs = []
        for _, path in items:
            start = time.monotonic()
            proc = _promtool([path], root / "base")
            assert proc.returncode == 0, f"{path.name} fails on the unmutated rules:\n{proc.stdout}{proc.stderr}"
            costs.append((time.monotonic() - start, path))
        timed[service] = [p for _, p in sorted(costs)]
    return Workspace(root, rules, timed)


def run_mutant(ws: Workspace, index: int, mutant: Mutant) -> Result:
    start = time.monotonic()
    doc = yaml.safe_load(ws.rules[mutant.service])
    if not mutant.apply(doc["groups"]):
        raise AssertionError(f"mutation {mutant.name!r} found nothing to change: the rules changed shape")
    work = ws.root / f"m{index}"
    (work / "tests").mkdir(parents=True, exist_ok=True)
    (work / f"{mutant.service}.rules.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    for path in ws.groups[mutant.service]:
        test = work / "tests" / path.name
        test.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
        proc = _promtool([test], work)
        if proc.returncode != 0:
            if "FAILED" not in proc.stdout + proc.stderr:
                raise AssertionError(f"promtool could not run mutant {mutant.name!r}:\n{proc.stdout}{proc.stderr}")
            return Result(mutant, True, path.name, time.monotonic() - start)
    return Result(mutant, False, "", time.monotonic() - start)


def run_all(ws: Workspace, mutants: list[Mutant], workers: int = 2, verbose: bool = False) -> list[Result]:
    def one(index: int, mutant: Mutant) -> Result:
        result = run_mutant(ws, index, mutant)
        if verbose:
            print(f"{'killed  ' if result.killed else 'SURVIVED'} {mutant.service}: {mutant.name} "
                  f"({result.seconds:.0f} s{', by ' + result.by if result.by else ''})", flush=True)
        return result

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda im: one(*im), enumerate(mutants)))


def report(results: list[Result], seconds: float) -> str:
    killed = sum(r.killed for r in results)
    lines = [f"mutants: {len(results)}, killed: {killed}, score: {killed / len(results):.0%}, "
             f"runtime: {seconds:.0f} s"]
    for r in results:
        lines.append(f"  {'killed  ' if r.killed else 'SURVIVED'} {r.mutant.service}: {r.mutant.name}"
                     + (f" (by {r.by})" if r.by else ""))
    return "\n".join(lines)


def outputs_in(directory: Path) -> dict[str, str]:
    """The committed rules and rule tests under `directory`/alerts (e.g. an older checkout's)."""
    return {p.relative_to(directory).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted((directory / "alerts").rglob("*.yaml"))}


def main() -> None:
    """`python -m tests.rules.mutation [DIR]`: the example's outputs generated now, or those committed in DIR."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.monotonic()
        ws = prepare(Path(tmp), outputs_in(Path(sys.argv[1])) if len(sys.argv) > 1 else None)
        only = [w for w in os.environ.get("SLOKIT_MUTANTS", "").split(",") if w]
        mutants = [m for m in example_mutants() if not only or any(w in m.name for w in only)]
        print(f"prepared in {time.monotonic() - start:.0f} s; {len(mutants)} mutants", flush=True)
        results = run_all(ws, mutants, verbose=True)
        print(report(results, time.monotonic() - start))
    sys.exit(0 if all(r.killed for r in results) else 1)


if __name__ == "__main__":
    main()
