"""Walking generated dashboards: panels, queries, variables; PromQL after Grafana's substitution."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import promql_parser

from slokit.pipeline import build_outputs
from slokit.project import load_project

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "slos"
DASHBOARD_PREFIX = "dashboards/"

# Grafana's built-in variables, as Grafana would expand them on a 6h dashboard
# with a 15s scrape interval (`$__rate_interval` is at least 4 scrapes).
BUILTINS = {"__rate_interval": "1m", "__interval": "30s", "__range": "6h", "__range_s": "21600",
            "__interval_ms": "30000"}


@dataclass(frozen=True)
class Query:
    dashboard: str
    panel: str
    ref_id: str
    expr: str
    kind: str  # panel | annotation | variable
    instant: bool = False
    exemplar: bool = False


@lru_cache(maxsize=None)
def example_outputs() -> dict[str, str]:
    return build_outputs(load_project([EXAMPLE]))


def dashboards(outputs: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    outputs = example_outputs() if outputs is None else outputs
    return {path: json.loads(text) for path, text in outputs.items() if path.startswith(DASHBOARD_PREFIX)}


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, including those inside collapsed rows (rows themselves too)."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def queries(path: str, dashboard: dict[str, Any]) -> Iterator[Query]:
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            if "expr" in target:
                yield Query(path, panel.get("title", ""), target.get("refId", ""), target["expr"], "panel",
                            bool(target.get("instant")), bool(target.get("exemplar")))
    for annotation in dashboard.get("annotations", {}).get("list", []):
        if "expr" in annotation:
            yield Query(path, annotation["name"], "", annotation["expr"], "annotation")
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") == "query":
            yield Query(path, variable["name"], "", variable["query"], "variable")


def all_queries(outputs: dict[str, str] | None = None) -> list[Query]:
    return [q for path, d in dashboards(outputs).items() for q in queries(path, d)]


_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")


def substitute(expr: str, values: dict[str, str]) -> str:
    """Replace $var, ${var} and ${var:format} as Grafana would (values given as regex-ready text)."""
    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name in values:
            return values[name]
        if name in BUILTINS:
            return BUILTINS[name]
        if name.isdigit():
            # label_replace's capture group ($1): no variable, and Grafana leaves unknown names as written.
            return match.group(0)
        raise KeyError(f"unknown variable ${name}")
    return _VARIABLE.sub(value, expr)


_LABEL_VALUES = re.compile(r"^label_values\((?P<selector>.*),\s*(?P<label>\w+)\)$", re.S)


def promql_of(query: Query, values: dict[str, str]) -> str:
    """The PromQL a query runs: a variable's label_values(selector, label) becomes its selector."""
    expr = substitute(query.expr, values)
    if query.kind == "variable":
        match = _LABEL_VALUES.match(expr)
        if match is None:
            raise ValueError(f"{query.dashboard} variable {query.panel}: not a label_values() query: {expr}")
        return match.group("selector")
    return expr


# -- the AST ----------------------------------------------------------------


def walk(node: Any) -> Iterator[Any]:
    """Every node of a promql_parser AST."""
    yield node
    for attr in ("expr", "lhs", "rhs", "param", "vector_selector"):
        child = getattr(node, attr, None)
        if isinstance(child, promql_parser.Expr):
            yield from walk(child)
    if isinstance(node, promql_parser.Call):
        for arg in node.args:
            yield from walk(arg)


def selectors(expr: str) -> list[promql_parser.VectorSelector]:
    ast = promql_parser.parse(expr)
    return [n for n in walk(ast) if isinstance(n, promql_parser.VectorSelector)]


def metric_name(selector: promql_parser.VectorSelector) -> str | None:
    if selector.name:
        return selector.name
    for m in selector.matchers.matchers:
        if m.name == "__name__" and m.op == promql_parser.MatchOp.Equal:
            return m.value
    return None


def matchers(selector: promql_parser.VectorSelector) -> list[tuple[str, str, str]]:
    ops = {"MatchOp.Equal": "=", "MatchOp.NotEqual": "!=", "MatchOp.Re": "=~", "MatchOp.NotRe": "!~"}
    return [(m.name, ops[str(m.op)], m.value) for m in selector.matchers.matchers]
