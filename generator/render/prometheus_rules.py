"""Prometheus rule files: one per service, one rule group per SLO plus budgets."""

from __future__ import annotations

from typing import Any

from slokit import naming as N
from slokit.plan import AlertingRule, ProjectPlan, RecordingRule, RuleGroup, ServicePlan
from slokit.render.common import dump_yaml, yaml_header


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


def render_service(service: ServicePlan) -> str:
    return yaml_header(service.sources) + dump_yaml(rule_file(service))


def render(plan: ProjectPlan) -> dict[str, str]:
    return {N.rules_path(s.service): render_service(s) for s in plan.services}
