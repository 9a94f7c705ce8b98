"""Dashboard lint rules, in the manner of Grafana's dashboard-linter and the
monitoring-mixins. Each rule returns a list of problems (empty when clean),
so the tests can assert both that the generated dashboards pass and that a
broken dashboard is caught.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any, Callable, Iterator

import promql_parser
import yaml

from slokit import naming as N
from slokit.model import Catalog
from slokit.plan import ProjectPlan

from .harness import Query, matchers, metric_name, panels, promql_of, queries, selectors, substitute

DATASOURCE_VARIABLE = "datasource"
PROMETHEUS_REF = {"type": "prometheus", "uid": "${datasource}"}
# Sentinel durations to recognise Grafana's variables after substitution.
RATE_SENTINEL = timedelta(seconds=7777)
RANGE_SENTINEL = timedelta(seconds=8888)
SENTINELS = {"__rate_interval": "7777s", "__range": "8888s"}
RATE_FUNCTIONS = {"rate", "irate"}
RANGE_FUNCTIONS = {"rate", "irate", "increase"}
# Fixed windows allowed in increase(): one day (spend per day).
INCREASE_WINDOWS = {timedelta(days=1)}
TEXT_PANELS = {"text", "row"}
Node = Any


def _variable_values(dashboard: dict[str, Any]) -> dict[str, str]:
    return {v["name"]: ".*" for v in dashboard["templating"]["list"]} | {"datasource": "prometheus"}


# -- dashboard structure ----------------------------------------------------


def datasource_variable(dashboard: dict[str, Any]) -> list[str]:
    ds = [v for v in dashboard["templating"]["list"] if v["type"] == "datasource"]
    problems = []
    if [v["name"] for v in ds] != [DATASOURCE_VARIABLE]:
        problems.append(f"datasource variables {[v['name'] for v in ds]}, want exactly one named "
                        f"{DATASOURCE_VARIABLE!r}")
    problems += [f"datasource variable {v['name']} selects {v.get('query')!r}, want prometheus"
                 for v in ds if v.get("query") != "prometheus"]
    return problems


def panel_basics(dashboard: dict[str, Any]) -> list[str]:
    """Every panel has a title and description; every panel but text has a unit; every target a refId."""
    problems = []
    for panel in panels(dashboard):
        if panel["type"] == "row":
            if not panel.get("title"):
                problems.append(f"row {panel.get('id')}: no title")
            continue
        name = f"panel {panel.get('id')} {panel.get('title')!r}"
        if not panel.get("title"):
            problems.append(f"{name}: no title")
        if not (panel.get("description") or "").strip():
            problems.append(f"{name}: no description")
        if panel["type"] not in TEXT_PANELS and not panel.get("fieldConfig", {}).get("defaults", {}).get("unit"):
            problems.append(f"{name}: no unit")
        refs = [t.get("refId") for t in panel.get("targets", [])]
        if any(not r for r in refs):
            problems.append(f"{name}: a target without refId")
        if len(refs) != len(set(refs)):
            problems.append(f"{name}: duplicate refIds {refs}")
    return problems


def datasources(dashboard: dict[str, Any]) -> list[str]:
    """Prometheus panels and targets go through ${datasource}; Tempo by its fixed UID."""
    problems = []
    for panel in panels(dashboard):
        if panel["type"] == "row":
            continue
        for item in [panel, *panel.get("targets", [])]:
            ds = item.get("datasource")
            if ds is None or not isinstance(ds, dict):
                if panel["type"] not in TEXT_PANELS:
                    problems.append(f"panel {panel.get('title')!r}: datasource {ds!r} is not a {{type, uid}} ref")
                continue
            if ds.get("type") == "prometheus" and ds != PROMETHEUS_REF:
                problems.append(f"panel {panel.get('title')!r}: Prometheus datasource {ds} is not {PROMETHEUS_REF}")
            if ds.get("type") == "tempo" and ds != {"type": "tempo", "uid": "tempo"}:
                problems.append(f"panel {panel.get('title')!r}: Tempo datasource {ds} is not uid tempo")
    return problems


def no_import_placeholders(text: str) -> list[str]:
    """`__inputs` and ${DS_...} placeholders break file provisioning."""
    problems = []
    if "__inputs" in text:
        problems.append("contains __inputs")
    if re.search(r"\$\{DS_", text):
        problems.append("contains a ${DS_...} placeholder")
    return problems


def no_nulls(value: Any, path: str = "") -> list[str]:
    """No nulls, except the base threshold step's value (null in the model)."""
    if value is None:
        return [] if re.search(r"\.thresholds\.steps\[0\]\.value$", path) else [f"{path}: null"]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in no_nulls(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in no_nulls(v, f"{path}[{i}]")]
    return []


def layout(dashboard: dict[str, Any]) -> list[str]:
    """Unique panel ids; panels inside the 24-column grid; no two panels overlap."""
    problems = []
    ids = [p["id"] for p in panels(dashboard)]
    if len(ids) != len(set(ids)):
        problems.append("duplicate panel ids")
    cells: dict[tuple[int, int], str] = {}
    for panel in panels(dashboard):
        g = panel["gridPos"]
        if g["x"] < 0 or g["w"] < 1 or g["x"] + g["w"] > 24:
            problems.append(f"panel {panel['title']!r}: gridPos {g} outside the grid")
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                if (x, y) in cells:
                    problems.append(f"panel {panel['title']!r} overlaps {cells[(x, y)]!r}")
                    break
                cells[(x, y)] = panel["title"]
            else:
                continue
            break
    return problems


# -- PromQL -----------------------------------------------------------------


def walk(node: Node, parents: tuple[Node, ...] = ()) -> Iterator[tuple[Node, tuple[Node, ...]]]:
    yield node, parents
    inner = parents + (node,)
    for attr in ("expr", "lhs", "rhs", "param", "vector_selector"):
        child = getattr(node, attr, None)
        if isinstance(child, promql_parser.Expr):
            yield from walk(child, inner)
    if isinstance(node, promql_parser.Call):
        for arg in node.args:
            yield from walk(arg, inner)


def _is_counter_series(name: str, catalog: Catalog) -> bool:
    """A raw series that only grows: a catalog counter or a histogram's _bucket/_count/_sum."""
    metric = catalog.metrics.get(name)
    if metric is not None:
        return metric.type == "counter"
    for suffix in ("_bucket", "_count", "_sum"):
        base = catalog.metrics.get(name.removesuffix(suffix)) if name.endswith(suffix) else None
        if base is not None and base.type == "histogram":
            return True
    return False


def _range_call(parents: tuple[Node, ...]) -> str | None:
    """The function applied to a selector's range, if the selector sits in fn(x[range])."""
    if len(parents) >= 2 and isinstance(parents[-1], promql_parser.MatrixSelector) \
            and isinstance(parents[-2], promql_parser.Call):
        return parents[-2].func.name
    return None


def promql_rules(expr: str, catalog: Catalog, label_values_only: bool = False) -> list[str]:
    """Counters only inside rate/irate/increase (so aggregation comes after rate); rates over
    $__rate_interval; increase over $__range or a day; no subqueries."""
    problems = []
    ast = promql_parser.parse(expr)
    for node, parents in walk(ast):
        if isinstance(node, promql_parser.SubqueryExpr):
            problems.append("a subquery (use a recording rule instead)")
        if isinstance(node, promql_parser.VectorSelector) and node.name and _is_counter_series(node.name, catalog) \
                and not label_values_only:
            fn = _range_call(parents)
            if fn not in RANGE_FUNCTIONS:
                problems.append(f"counter {node.name} used without rate()/increase() (aggregate after rate)")
        if isinstance(node, promql_parser.MatrixSelector):
            fn = _range_call(parents + (node,))
            if fn in RATE_FUNCTIONS and node.range != RATE_SENTINEL:
                problems.append(f"{fn}() over {node.range}, not $__rate_interval")
            if fn == "increase" and node.range not in {RANGE_SENTINEL, RATE_SENTINEL, *INCREASE_WINDOWS}:
                problems.append(f"increase() over {node.range}, not $__range or a day")
    return problems


def query_rules(path: str, dashboard: dict[str, Any], catalog: Catalog) -> list[str]:
    values = _variable_values(dashboard)
    problems = []
    for q in queries(path, dashboard):
        expr = substitute(q.expr, {**values, **SENTINELS})
        if q.kind == "variable":
            expr = promql_of(Query(q.dashboard, q.panel, q.ref_id, expr, q.kind), values)
        # A variable's label_values(selector, label) reads series labels, not counter values.
        problems += [f"{q.kind} {q.panel!r} {q.ref_id}: {p}"
                     for p in promql_rules(expr, catalog, label_values_only=q.kind == "variable")]
    return problems


# Recordings made per SLO or budget with vector(...): no group labels.
CONSTANT_RECORDS = {N.SLO_OBJECTIVE, N.SLO_ERROR_BUDGET, N.SLO_WINDOW_SECONDS, N.SLO_INFO, N.BUDGET_LIMIT}


def _marker(name: str) -> str:
    return f"__variable_{name}__"


def series_labels(selector: promql_parser.VectorSelector, catalog: Catalog, plan: ProjectPlan) -> set[str]:
    """Labels a selected series carries: the catalog's for raw metrics; service, slo or budget and the
    group labels for slokit's recordings (and for ALERTS, which copies them)."""
    name = metric_name(selector) or ""
    base = name
    for suffix in ("_bucket", "_count", "_sum"):
        if name.endswith(suffix) and name.removesuffix(suffix) in catalog.metrics:
            base = name.removesuffix(suffix)
    if base in catalog.metrics:
        return set(catalog.metrics[base].labels)
    found = {label: value for label, op, value in matchers(selector) if op == "="}
    labels = {N.LABEL_SERVICE}
    if name in CONSTANT_RECORDS:
        return labels
    for service in plan.services:
        if found.get(N.LABEL_SERVICE) not in (None, service.service):
            continue
        for slo in service.slos:
            if found.get(N.LABEL_SLO) in (None, slo.name) and N.LABEL_BUDGET not in found:
                labels.update(slo.group_by)
        for budget in service.budgets:
            if found.get(N.LABEL_BUDGET) in (None, budget.name) and N.LABEL_SLO not in found:
                labels.update(budget.by)
    return labels


def variables_respected(path: str, dashboard: dict[str, Any], catalog: Catalog, plan: ProjectPlan) -> list[str]:
    """Every selector of a series that carries a variable's label filters it by that variable."""
    names = [v["name"] for v in dashboard["templating"]["list"] if v["type"] == "query"]
    values = {**_variable_values(dashboard), **{n: _marker(n) for n in names}}
    problems = []
    for q in queries(path, dashboard):
        expr = promql_of(q, values)
        for selector in selectors(expr):
            # `label=~"$label|"` also counts: the chosen values, or series without the label.
            have = {(label, value.removesuffix("|")) for label, op, value in matchers(selector) if op == "=~"}
            # A variable's query may only use the variables defined before it (Grafana chains them).
            required = names[:names.index(q.panel)] if q.kind == "variable" else names
            for name in required:
                if name in series_labels(selector, catalog, plan) and (name, _marker(name)) not in have:
                    problems.append(f"{q.kind} {q.panel!r} {q.ref_id}: {metric_name(selector)} is not filtered "
                                    f"by ${name}")
    return problems


# -- provisioning ------------------------------------------------------------


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def dollars_escaped(yaml_text: str) -> list[str]:
    """Grafana expands $VAR / ${VAR} in provisioning files: every literal `$` must be written `$$`."""
    problems = []
    for s in strings(yaml.safe_load(yaml_text)):
        if re.search(r"(?<!\$)\$(?!\$)", s.replace("$$", "")):
            problems.append(f"unescaped $ in {s!r}")
    return problems


def all_dashboard_rules(path: str, text: str, plan: ProjectPlan) -> list[str]:
    dashboard = json.loads(text)
    catalog = plan.catalog
    rules: list[Callable[[], list[str]]] = [
        lambda: datasource_variable(dashboard), lambda: panel_basics(dashboard), lambda: datasources(dashboard),
        lambda: no_import_placeholders(text), lambda: no_nulls(dashboard), lambda: layout(dashboard),
        lambda: query_rules(path, dashboard, catalog), lambda: variables_respected(path, dashboard, catalog, plan),
    ]
    return [f"{path}: {p}" for rule in rules for p in rule()]

