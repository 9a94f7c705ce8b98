"""vmalert rule files (`slokit generate --format vmalert`): alerts/<service>.vmalert.yaml.

The groups, rules, labels and annotations are the plain rule file's. One thing
changes: every `rate(<selector>[<window>])` is written as
`(increase(<selector>[<window>]) / <window in seconds>)`.

Why: MetricsQL's rate() divides a series' growth by the time between the
samples it used, not by the window. A counter series that appears inside the
window (the first failed call of an outage creates the `status="error"` series)
therefore reads its rate since it appeared: the 1h bad-events rate of a
ten-minute-old outage is the outage's rate, not a sixth of it, and the 1h error
ratio reads about the 10m one. The 1h page then fires on what is really a 10m
window (docs/alerting.md has the measured effect). MetricsQL's increase() is the
growth since the last sample before the window (a new series counted from 0),
so increase / window is the window's average, as Prometheus' rate() is.

In Prometheus, `increase(x[w]) / <w seconds>` is `rate(x[w])` bit for bit (both
are the same extrapolated growth, divided by the same number), so this file also
passes the generated promtool tests (tests/rules/test_vmalert_format.py runs
them on it).
"""

from __future__ import annotations

import re

from slokit import naming as N
from slokit.model import duration_seconds
from slokit.plan import AlertingRule, ProjectPlan, RecordingRule
from slokit.promql import number
from slokit.render.common import dump_yaml, yaml_header
from slokit.render.prometheus_rules import rule_dict

# `rate(` as a function name: not the tail of irate(, a recorded name (slo:...:rate5m) or another identifier.
_RATE_CALL = re.compile(r"(?<![A-Za-z0-9_:])rate\s*\(")
# A plain range at the end of the argument: [5m], [1h30m]; subqueries ([5m:1m]) and offsets stay as written.
_RANGE = re.compile(r"\[\s*((?:\d+(?:ms|[smhdwy]))+)\s*\]\s*$")


def _closing_paren(text: str, open_at: int) -> int:
    """Index of the `)` matching the `(` at `open_at`, skipping string literals (label values hold parens)."""
    depth, i = 0, open_at
    while i < len(text):
        ch = text[i]
        if ch in "\"'`":
            i += 1
            while i < len(text) and text[i] != ch:
                i += 2 if text[i] == "\\" and ch != "`" else 1
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError(f"unbalanced parentheses in {text!r}")


def _outside_strings(text: str) -> str:
    """`text` with string literals blanked, to look for syntax outside them."""
    return re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', text)


def metricsql(expr: str) -> str:
    """`expr` with each rate() of a plain range selector written as increase() / seconds (see the module doc)."""
    out: list[str] = []
    pos = 0
    while (match := _RATE_CALL.search(expr, pos)) is not None:
        # The match must be code, not text inside a label value.
        if _in_string(expr, match.start()):
            out.append(expr[pos:match.end()])
            pos = match.end()
            continue
        open_at = match.end() - 1
        close = _closing_paren(expr, open_at)
        argument = expr[open_at + 1:close]
        window = _RANGE.search(argument)
        bare = _outside_strings(argument[:window.start()]) if window else "("
        if window is None or any(c in bare for c in "([") or " offset " in f" {bare} ":
            out.append(expr[pos:match.end()])  # a subquery, offset or expression: left to the engine as written
            pos = match.end()
            continue
        seconds = duration_seconds(window.group(1))
        call = f"increase({argument.strip()}) / {number(seconds)}"
        before = expr[:match.start()].rstrip()
        after = expr[close + 1:].lstrip()
        # Already the only thing inside parentheses (sum by (x) (rate(...))): no second pair needed.
        wrapped = before.endswith("(") and after.startswith(")")
        out.append(expr[pos:match.start()] + (call if wrapped else f"({call})"))
        pos = close + 1
    out.append(expr[pos:])
    return "".join(out)


def _in_string(text: str, at: int) -> bool:
    """True when position `at` of `text` is inside a string literal."""
    i, quote = 0, None
    while i < at:
        ch = text[i]
        if quote is None:
            if ch in "\"'`":
                quote = ch
        elif ch == "\\" and quote != "`":
            i += 1
        elif ch == quote:
            quote = None
        i += 1
    return quote is not None


def _vmalert_rule(rule: RecordingRule | AlertingRule) -> dict:
    out = rule_dict(rule)
    out["expr"] = metricsql(rule.expr)
    return out


def render_vmalert(plan: ProjectPlan) -> dict[str, str]:
    files = {}
    for s in plan.services:
        groups = [{"name": g.name, "rules": [_vmalert_rule(r) for r in g.rules]} for g in s.rule_groups]
        files[N.vmalert_rules_path(s.service)] = yaml_header(s.sources) + dump_yaml({"groups": groups})
    return files

