"""Small, safe builders for the PromQL slokit writes.

Label values come from user files. They are validated, but they are still
escaped here, so a value can never close a string or a regex early.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import Decimal

# RE2 metacharacters (Prometheus regexes are RE2, fully anchored).
_REGEX_META = re.compile(r"([\\.^$|?*+()\[\]{}])")


def quote(value: str) -> str:
    """A PromQL double-quoted string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


@functools.lru_cache(maxsize=1024)  # rule-test models match the same few patterns many times
def compile_regex(text: str):
    """The regex compiled as RE2 (Prometheus's regex language), or (None, why not).

    Python's `re` accepts lookaround and backreferences that Prometheus
    refuses, so the check uses RE2 itself; errors are returned, not logged.
    """
    import re2

    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(text, options), ""
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "cannot parse"
        return None, reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)


def regex_escape(value: str) -> str:
    return _REGEX_META.sub(r"\\\1", value)


def number(value: Decimal | float | int) -> str:
    """A number as people write it: 14.4, 0.005, 2592000 (no exponent, no trailing zeros)."""
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    text = format(d.normalize(), "f")
    return text


def go_float(value: float) -> str:
    """A float as Go's strconv.FormatFloat(v, 'g', -1, 64) writes it (1e+06, 0.25, 1e-05).

    Go clients expose histogram bounds this way, so a bound of a million is
    `le="1e+06"` on the wire, not `le="1000000"`.
    """
    sign, digits, exponent = Decimal(repr(float(value))).normalize().as_tuple()
    text = "".join(map(str, digits))
    e10 = len(text) + int(exponent) - 1
    prefix = "-" if sign else ""
    if e10 < -4 or e10 >= 6:  # Go's %e threshold for the shortest 'g' format
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{prefix}{mantissa}e{'-' if e10 < 0 else '+'}{abs(e10):02d}"
    return prefix + number(Decimal(repr(float(value))))


def le_spellings(bound: float) -> list[str]:
    """Every way an exporter or Prometheus version writes the bucket bound `bound`.

    Prometheus 2 stores `le` as the exporter wrote it: Go clients write `1`
    and `1e+06`, the Python client `1.0`. Prometheus 3 normalises classic
    histogram bounds to floats (`1.0`). One histogram uses one spelling at a
    time, so matching all of them never counts a bucket twice.
    """
    plain = number(bound)
    forms = {plain, go_float(bound), repr(float(bound))}
    forms |= {f + ".0" for f in list(forms) if not any(c in f for c in ".e")}
    return sorted(forms)


def le_regex(bound: float) -> str:
    """Matches a bucket's `le` however it is spelled (see le_spellings), e.g. `1(\\.0)?`.

    Prometheus 3 normalises classic histogram `le` values to floats, so an
    SLI on `le="1"` silently matches nothing after an upgrade.
    """
    plain = number(bound)
    forms = le_spellings(bound)
    if forms == [plain]:
        return regex_escape(plain)
    if forms == sorted({plain, plain + ".0"}):
        return regex_escape(plain) + r"(\.0)?"
    return "|".join(regex_escape(f) for f in forms)


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str  # =, =~, !=, !~
    value: str

    def render(self) -> str:
        return f"{self.label}{self.op}{quote(self.value)}"


def equals(label: str, value: str) -> Matcher:
    return Matcher(label, "=", value)


def one_of(label: str, values: list[str]) -> Matcher:
    """label=value for one value, label=~"a|b" for several."""
    if len(values) == 1:
        return Matcher(label, "=", values[0])
    return Matcher(label, "=~", "|".join(regex_escape(v) for v in sorted(values)))


def none_of(label: str, values: list[str]) -> Matcher:
    """label!=value for one value, label!~"a|b" for several."""
    if len(values) == 1:
        return Matcher(label, "!=", values[0])
    return Matcher(label, "!~", "|".join(regex_escape(v) for v in sorted(set(values))))


def regex_matchers(label: str, regex: str | None, excluded: list[str]) -> tuple[Matcher, ...]:
    """The matchers of `{regex: ..., not: [...]}`: the regex goes in as written (Prometheus anchors it
    itself, and `quote` escapes it once for the PromQL string); excluded values are literals."""
    found: list[Matcher] = []
    if regex is not None:
        found.append(Matcher(label, "=~", regex))
    if excluded:
        found.append(none_of(label, excluded))
    return tuple(found)


@dataclass(frozen=True)
class Selector:
    """A series selector: metric name and label matchers (kept sorted)."""

    metric: str
    matchers: tuple[Matcher, ...] = ()

    def render(self) -> str:
        if not self.matchers:
            return self.metric
        inner = ", ".join(m.render() for m in sorted(self.matchers, key=lambda m: (m.label, m.op, m.value)))
        return f"{self.metric}{{{inner}}}"

    def with_matchers(self, *extra: Matcher) -> "Selector":
        return Selector(self.metric, self.matchers + tuple(extra))


def aggregate(op: str, labels: tuple[str, ...]) -> str:
    """`sum by (a, b) ` or `sum` (to be followed by the parenthesised argument)."""
    return f"{op} by ({', '.join(labels)}) " if labels else op


def sum_rate(selector: Selector, window: str, group_by: tuple[str, ...]) -> str:
    """sum by (...) (rate(x[w])): aggregate after rate, never before."""
    return f"{aggregate('sum', group_by)}(rate({selector.render()}[{window}]))"


def on_clause(labels: tuple[str, ...]) -> str:
    return f"on ({', '.join(labels)})"


# --------------------------------------------------------------------------
# Reading PromQL (raw SLIs): validation and the plan both need it
# --------------------------------------------------------------------------


def parse_selectors(expr: str) -> list[tuple[str | None, list[tuple[str, str, str]]]] | str:
    """Every vector selector in `expr` as (metric name, [(label, op, value)]), or the parse error text."""
    import promql_parser

    try:
        ast = promql_parser.parse(expr)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # the Rust parser can raise pyo3 panics, which are BaseExceptions
        return str(exc).strip().splitlines()[0] if str(exc).strip() else "cannot parse"
    if isinstance(ast, (promql_parser.NumberLiteral, promql_parser.StringLiteral)):
        return "it is a constant; it must be a rate of events"
    found: list = []

    def visit(node):
        if isinstance(node, promql_parser.MatrixSelector):
            node = node.vector_selector
        if isinstance(node, promql_parser.VectorSelector):
            matchers = [(mt.name, match_op(mt.op), mt.value) for mt in node.matchers.matchers]
            for group in node.matchers.or_matchers:
                matchers += [(mt.name, match_op(mt.op), mt.value) for mt in group]
            name = node.name or next((v for n, o, v in matchers if n == "__name__" and o == "="), None)
            found.append((name, matchers))
        return True

    promql_parser.walk(ast, visit)
    return found


def match_op(op) -> str:
    text = str(op)
    return {"MatchOp.Equal": "=", "Equal": "="}.get(text, text)


def plain_rate_selector(expr: str) -> str | None:
    """The selector of a raw SLI expression `[sum [by (...)]] (rate(<selector>[{{window}}]))`, else None.

    Only that form can be fed synthetic input by the generated rule tests (and
    is told apart at validation, so an SLO that stays untested is said so).
    """
    import promql_parser as P

    try:
        node = P.parse(expr.replace("{{window}}", "5m"))
    except BaseException:  # noqa: BLE001 - the Rust parser raises pyo3 panics; validated input parses
        return None
    while True:
        if isinstance(node, P.ParenExpr):
            node = node.expr
        elif isinstance(node, P.AggregateExpr) and str(node.op) == "sum" and node.param is None:
            node = node.expr
        else:
            break
    if not (isinstance(node, P.Call) and node.func.name == "rate" and len(node.args) == 1
            and isinstance(node.args[0], P.MatrixSelector)):
        return None
    vs = node.args[0].vector_selector
    if vs.offset is not None or vs.at is not None or vs.matchers.or_matchers:
        return None
    return vs.prettify()
