"""Prometheus rule files: one per service, one rule group per SLO plus budgets.

The same groups come in three formats (`slokit generate --format`):
- prometheus (always written): alerts/<service>.rules.yaml, for Prometheus'
  `rule_files`, promtool and the generated rule tests;
- operator: alerts/<service>.prometheusrule.yaml, a Prometheus Operator
  PrometheusRule object (monitoring.coreos.com/v1) with the groups as spec;
- mimir: alerts/<service>.mimir.yaml, a Grafana Mimir / Cortex ruler file with
  one namespace per service, as `mimirtool rules load` reads it;
- vmalert: alerts/<service>.vmalert.yaml, for VictoriaMetrics' vmalert: the
  same groups with rates written for MetricsQL (render/vmalert_rules.py);
- thanos: alerts/<service>.thanos.yaml, for Thanos Ruler's --rule-file:
  every group with `partial_response_strategy` (slokit.yaml's `thanos`);
- sloth: alerts/<service>.sloth.rules.yaml, Sloth's recording-rule names and
  labels as aliases of slokit's series (load it beside the plain rules), for
  dashboards built on Sloth.
"""

from __future__ import annotations

from typing import Any, Callable

from slokit import naming as N
from slokit.plan import AlertingRule, ProjectPlan, RecordingRule, RuleGroup, RulerOptions, ServicePlan
from slokit.render.common import dump_yaml, yaml_header

FORMATS = ("prometheus", "operator", "mimir", "vmalert", "thanos", "sloth")


def rule_dict(rule: RecordingRule | AlertingRule) -> dict[str, Any]:
    if isinstance(rule, RecordingRule):
        out: dict[str, Any] = {"record": rule.record, "expr": rule.expr}
        if rule.labels:
            out["labels"] = dict(rule.labels)
        return out
    out = {"alert": rule.alert, "expr": rule.expr}
    if rule.for_:
        out["for"] = rule.for_
    out["labels"] = dict(rule.labels)
    out["annotations"] = dict(rule.annotations)
    return out


def group_dict(group: RuleGroup) -> dict[str, Any]:
    # Rule order inside a group carries meaning: Prometheus evaluates rules in
    # order, so the long windows see the base rates of the same evaluation.
    return {"name": group.name, "rules": [rule_dict(r) for r in group.rules]}


def rule_file(service: ServicePlan) -> dict[str, Any]:
    return {"groups": [group_dict(g) for g in service.rule_groups]}


def operator_object(service: ServicePlan) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": N.operator_rule_name(service.service),
            "labels": {"app.kubernetes.io/managed-by": N.OPERATOR_MANAGED_BY,
                       "app.kubernetes.io/name": N.operator_rule_name(service.service)},
        },
        "spec": rule_file(service),
    }


def mimir_file(service: ServicePlan, rulers: RulerOptions = RulerOptions()) -> dict[str, Any]:
    """One namespace per file (mimirtool takes `namespace:`, else the file name); with source_tenants every
    group is a federated rule group, which Mimir and Cortex read from those tenants."""
    groups = [group_dict(g) for g in service.rule_groups]
    if rulers.mimir_source_tenants:
        groups = [{"name": g["name"], "source_tenants": list(rulers.mimir_source_tenants), "rules": g["rules"]}
                  for g in groups]
    return {"namespace": N.mimir_namespace(service.service), "groups": groups}


def thanos_file(service: ServicePlan, rulers: RulerOptions = RulerOptions()) -> dict[str, Any]:
    # Written even for the default (abort), so the file says what the ruler will do on a partial answer.
    return {"groups": [{"name": g.name, "partial_response_strategy": rulers.thanos_partial_response_strategy,
                        "rules": group_dict(g)["rules"]} for g in service.rule_groups]}


def render_service(service: ServicePlan) -> str:
    return yaml_header(service.sources) + dump_yaml(rule_file(service))


def render(plan: ProjectPlan) -> dict[str, str]:
    return {N.rules_path(s.service): render_service(s) for s in plan.services}


def render_operator(plan: ProjectPlan) -> dict[str, str]:
    return {N.operator_rules_path(s.service): yaml_header(s.sources) + dump_yaml(operator_object(s))
            for s in plan.services}


def render_mimir(plan: ProjectPlan) -> dict[str, str]:
    return {N.mimir_rules_path(s.service): yaml_header(s.sources) + dump_yaml(mimir_file(s, plan.rulers))
            for s in plan.services}


def render_thanos(plan: ProjectPlan) -> dict[str, str]:
    return {N.thanos_rules_path(s.service): yaml_header(s.sources) + dump_yaml(thanos_file(s, plan.rulers))
            for s in plan.services}


def render_sloth(plan: ProjectPlan) -> dict[str, str]:
    """Sloth-named aliases of every SLO's series, one rule file per service, beside the plain rules."""
    out = {}
    for s in plan.services:
        groups = [slo.sloth_group for slo in s.slos if slo.sloth_group is not None]
        if groups:
            out[N.sloth_rules_path(s.service)] = yaml_header(s.sources) + dump_yaml(
                {"groups": [group_dict(g) for g in groups]})
    return out


def format_renderers(formats: tuple[str, ...]) -> list[Callable[[ProjectPlan], dict[str, str]]]:
    """Renderers of the extra formats asked for; the plain rule files are always written (tests read them)."""
    from slokit.render.vmalert_rules import render_vmalert  # it reuses rule_dict from here

    extra = {"operator": render_operator, "mimir": render_mimir, "vmalert": render_vmalert, "thanos": render_thanos,
             "sloth": render_sloth}
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown rule formats: {sorted(unknown)}")
    return [extra[f] for f in FORMATS if f in formats and f in extra]
