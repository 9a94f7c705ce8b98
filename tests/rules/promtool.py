"""Running the real promtool from tests: check rules, run unit tests, and read values out of it.

promtool has no query command for its unit-test storage, but a failing
`promql_expr_test` prints what the expression returned ("got: {labels} value").
`measure` uses that: it asks for an impossible expectation and parses the
answer, so a test can measure (for example) the first time an alert fired.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PROMTOOL_TIMEOUT = 600


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        raise AssertionError("promtool is not installed: run `make system-deps` (Debian package prometheus)")
    return path


def check_rules(*files: Path) -> str:
    """`promtool check rules`; fails the test with promtool's report on any error."""
    proc = subprocess.run([promtool(), "check", "rules", *map(str, files)], capture_output=True, text=True,
                          timeout=PROMTOOL_TIMEOUT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def run_tests(*files: Path) -> subprocess.CompletedProcess:
    return subprocess.run([promtool(), "test", "rules", *map(str, files)], capture_output=True, text=True,
                          timeout=PROMTOOL_TIMEOUT)


@dataclass(frozen=True)
class Sample:
    labels: dict[str, str]
    value: float


_EXPR = re.compile(r'^\s*expr: (".*"), time: ([^,]+),\s*$')
_GOT = re.compile(r'\{([^{}]*)\} ([-+]?(?:[0-9.]+(?:E[-+]?[0-9]+)?|NaN|Inf))')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_failures(output: str) -> dict[tuple[str, str], list[Sample]]:
    """(expr, eval time) -> the samples promtool reported it got."""
    found: dict[tuple[str, str], list[Sample]] = {}
    lines = output.splitlines()
    for i, line in enumerate(lines):
        m = _EXPR.match(line)
        if not m:
            continue
        key = (json.loads(m.group(1)), m.group(2).strip())
        got = next((x for x in lines[i + 1:i + 4] if x.strip().startswith("got:")), "")
        found[key] = [Sample(dict(_LABEL.findall(lbl)), float(v.replace("Inf", "inf")))
                      for lbl, v in _GOT.findall(got)]
    return found


def measure(directory: Path, rule_files: list[Path], input_series: list[dict[str, str]], exprs: list[str],
            eval_time: str, interval: str = "1m", evaluation_interval: str = "1m") -> dict[str, list[Sample]]:
    """Evaluate `exprs` at `eval_time` after promtool ran the rules on `input_series`; results by expr.

    Each expression is asked to return an impossible sample; promtool's
    failure report then carries the real result (an empty result passes).
    """
    sentinel = {"labels": '{slokit_measure="impossible"}', "value": -1e308}
    test: dict[str, Any] = {
        "rule_files": [str(p) for p in rule_files],
        "evaluation_interval": evaluation_interval,
        "tests": [{"interval": interval, "input_series": input_series,
                   "promql_expr_test": [{"expr": e, "eval_time": eval_time, "exp_samples": [sentinel]}
                                        for e in exprs]}],
    }
    path = directory / "measure.test.yaml"
    path.write_text(yaml.safe_dump(test, sort_keys=False), encoding="utf-8")
    proc = run_tests(path)
    assert "FAILED" in proc.stdout + proc.stderr or proc.returncode == 0, proc.stdout + proc.stderr
    assert ", err: " not in proc.stdout + proc.stderr, proc.stdout + proc.stderr  # a query that failed
    # promtool prints the eval time in its own units (490m -> 8h10m): key by expression only.
    failures = {e: samples for (e, _t), samples in parse_failures(proc.stdout + proc.stderr).items()}
    out = {}
    for e in exprs:
        assert e in failures, f"promtool did not report {e!r}:\n{proc.stdout}{proc.stderr}"
        out[e] = failures[e]
    return out


def counter(increments: list[float]) -> str:
    """promtool expanding notation of a counter with the given per-step increments (runs folded)."""
    parts, value, i = [], 0.0, 0
    parts.append("0")
    while i < len(increments):
        j = i
        while j + 1 < len(increments) and increments[j + 1] == increments[i]:
            j += 1
        inc, n = increments[i], j - i + 1
        start = value + inc
        parts.append(f"{_num(start)}+{_num(inc)}x{n - 1}" if n > 1 else _num(start))
        for _ in range(n):
            value += inc
        i = j + 1
    return " ".join(parts)


def _num(v: float) -> str:
    text = repr(float(v))
    return text[:-2] if text.endswith(".0") else text
