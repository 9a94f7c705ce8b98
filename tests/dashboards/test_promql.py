"""Every dashboard expression is PromQL over catalog metrics and slokit's recordings.

After Grafana's variables are substituted (with All and with concrete
values), each panel, annotation and variable query must parse with
promql-parser, select only catalog metrics (a histogram's _bucket, _count
and _sum included), series recorded by the generated rule files, or
Prometheus' own ALERTS; a label matched on a catalog metric must be one the
catalog gives that metric, and every label name in a matcher or a by/on
clause must be one slokit or the catalog defines.
"""

from __future__ import annotations

import re

import promql_parser
import pytest
import yaml

from slokit import naming as N
from slokit.project import load_project

from .harness import EXAMPLE, all_queries, example_outputs, matchers, metric_name, promql_of, selectors
from .lint import walk

CATALOG = load_project([EXAMPLE]).catalog
QUERIES = all_queries()
VALUE_SETS = {"all": {"datasource": "prometheus", "feature": ".*", "model": ".*", "service": ".*", "team": ".*",
                      "slo": ".*"},
              "one": {"datasource": "prometheus", "feature": "support_chat", "model": "sim-large",
                      "service": "support-chatbot", "team": "support-team", "slo": "api-success"}}
BUILTIN_SERIES = {"ALERTS"}
# Labels Prometheus itself uses, and those the dashboards add with label_replace to tell rows apart.
BUILTIN_LABELS = {"__name__", "le", "alertname", "alertstate"}
DASHBOARD_LABELS = {"part", "alert", "window"}
SLOKIT_LABELS = {N.LABEL_SERVICE, N.LABEL_SLO, N.LABEL_BUDGET, N.LABEL_SEVERITY, N.LABEL_TEAM,
                 N.LABEL_LONG_WINDOW, N.LABEL_OBJECTIVE, N.LABEL_WINDOW, N.LABEL_SLI_KIND}


def recorded() -> set[str]:
    names = set()
    for path, text in example_outputs().items():
        if path.endswith(".rules.yaml"):
            for group in yaml.safe_load(text)["groups"]:
                names.update(r["record"] for r in group["rules"] if "record" in r)
    return names


RECORDED = recorded()


def catalog_metric(name: str) -> str | None:
    if name in CATALOG.metrics:
        return name
    for suffix in ("_bucket", "_count", "_sum"):
        base = name.removesuffix(suffix)
        if name.endswith(suffix) and base in CATALOG.metrics and CATALOG.metrics[base].type == "histogram":
            return base
    return None


def test_there_are_queries_of_every_kind() -> None:
    kinds = {q.kind for q in QUERIES}
    assert kinds == {"panel", "annotation", "variable"}
    assert len(QUERIES) > 200


@pytest.mark.parametrize("values", sorted(VALUE_SETS))
def test_every_expression_parses(values: str) -> None:
    problems = []
    for q in QUERIES:
        expr = promql_of(q, VALUE_SETS[values])
        try:
            promql_parser.parse(expr)
        except ValueError as exc:
            problems.append(f"{q.dashboard} {q.panel!r} {q.ref_id}: {exc}\n{expr}")
    assert not problems, "\n".join(problems)


def test_only_catalog_metrics_and_recordings() -> None:
    problems = []
    for q in QUERIES:
        for s in selectors(promql_of(q, VALUE_SETS["all"])):
            name = metric_name(s)
            if name is None:
                # One query over a family of recordings (every burn-rate window): the name regex must
                # select recorded series only, and at least one.
                names = [v for label, op, v in matchers(s) if label == "__name__" and op == "=~"]
                hits = [r for r in RECORDED for n in names if re.fullmatch(n, r)]
                if not names or not hits or any(re.fullmatch(n, m) for n in names for m in CATALOG.metrics):
                    problems.append(f"{q.dashboard} {q.panel!r}: a selector without a metric name")
            elif not (catalog_metric(name) or name in RECORDED or name in BUILTIN_SERIES):
                problems.append(f"{q.dashboard} {q.panel!r}: {name} is neither in the catalog nor recorded")
    assert not problems, "\n".join(problems)


def test_labels_come_from_the_catalog_or_slokit() -> None:
    known = set(CATALOG.labels) | SLOKIT_LABELS | BUILTIN_LABELS | DASHBOARD_LABELS
    problems = []
    for q in QUERIES:
        ast = promql_parser.parse(promql_of(q, VALUE_SETS["all"]))
        for node, _ in walk(ast):
            used: list[str] = []
            if isinstance(node, promql_parser.VectorSelector):
                base = catalog_metric(node.name or "")
                for label, _, _ in matchers(node):
                    used.append(label)
                    allowed = set(CATALOG.metrics[base].labels) | {"__name__"} if base else known
                    if node.name and node.name.endswith("_bucket"):
                        allowed |= {"le"}
                    if label not in allowed:
                        problems.append(f"{q.dashboard} {q.panel!r}: {node.name} has no label {label}")
            modifier = getattr(node, "modifier", None)
            for part in (modifier, getattr(modifier, "matching", None)):
                used += list(getattr(part, "labels", None) or [])
            problems += [f"{q.dashboard} {q.panel!r}: unknown label {label}" for label in used if label not in known]
    assert not problems, "\n".join(sorted(set(problems)))


def test_the_name_check_can_fail() -> None:
    assert catalog_metric("llm_request_total") is None and "llm_request_total" not in RECORDED
    assert catalog_metric("llm_ttft_seconds_bucket") == "llm_ttft_seconds"
    assert catalog_metric("llm_requests_total_bucket") is None
