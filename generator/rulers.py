"""After planning: the rule groups fit the Mimir / Cortex and Thanos rulers slokit.yaml describes.

Those rulers take Prometheus rule groups with rules of their own (docs/alerting.md, "Mimir / Cortex ruler" and
"Thanos Ruler", cites the versions):
- Mimir refuses a rule group with more rules than the tenant's ruler_max_rules_per_rule_group, and a tenant
  with more groups than ruler_max_rule_groups_per_tenant (Mimir's defaults 20 and 70; Cortex's 0, no limit).
  slokit's groups hold every window of an SLO in one group, evaluated in order, so they are larger than 20: the
  limits are checked only when slokit.yaml gives them, and the error says what to raise them to.
- Thanos Ruler's --label external labels replace labels of the same name on every series and alert it writes;
  slokit.yaml's checks refuse slokit's own labels, this module the labels of the specs (group_by, labels).
Each problem is reported at the spec entry that causes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from slokit import codes as C
from slokit.errors import Diagnostic
from slokit.plan import build_plan

if TYPE_CHECKING:
    from slokit.project import Project


def _group_limit(project: "Project", plan) -> list[Diagnostic]:
    limit = project.settings.mimir.max_rules_per_rule_group
    if not limit:
        return []
    diags = []
    sources = {s.spec.service: s.source for s in project.services}
    for service in plan.services:
        keys = [("slos", i, "name") for i in range(len(service.slos))]
        keys += [("budgets",)] * (len(service.rule_groups) - len(service.slos))
        for group, key in zip(service.rule_groups, keys):
            n = len(group.rules)
            if n > limit:
                diags.append(sources[service.service].diagnostic(
                    key, f"rule group {group.name!r} has {n} rules, over the Mimir ruler's limit of {limit} "
                    "(mimir.max_rules_per_rule_group in slokit.yaml)",
                    f"raise ruler_max_rules_per_rule_group for the tenant to at least {n} (a per-tenant override); "
                    "splitting the group would let its windows read each other one evaluation late",
                    code=C.RULER_LIMIT))
    return diags


def _tenant_limit(project: "Project", plan) -> list[Diagnostic]:
    limit = project.settings.mimir.max_rule_groups_per_tenant
    total = sum(len(s.rule_groups) for s in plan.services)
    if not limit or total <= limit:
        return []
    # Every namespace of the project lands in one tenant: report at each service, with its share.
    return [s.source.diagnostic(("service",), f"the project has {total} rule groups ({len(p.rule_groups)} of "
                                f"service {p.service!r}), over the Mimir ruler's limit of {limit} per tenant "
                                "(mimir.max_rule_groups_per_tenant in slokit.yaml)",
                                f"raise ruler_max_rule_groups_per_tenant for the tenant to at least {total}, or "
                                "load the services into more than one tenant", code=C.RULER_LIMIT)
            for s, p in zip(sorted(project.services, key=lambda s: s.spec.service), plan.services)]


def _external_labels(project: "Project") -> list[Diagnostic]:
    external = set(project.settings.thanos.external_labels)
    if not external:
        return []
    diags = []
    hint = ("give the ruler's --label another name, or use another label here: Thanos Ruler replaces it on every "
            "recorded series and alert")

    def clash(src, path: tuple, what: str, at_key: bool = False) -> Diagnostic:
        return src.diagnostic(path, f"{what} is also an external label of the Thanos Ruler (thanos.external_labels "
                                    "in slokit.yaml)", hint, at_key=at_key, code=C.RULER_LIMIT)

    for sf in project.services:
        spec, src = sf.spec, sf.source
        for name in sorted(external & set(spec.labels)):
            diags.append(clash(src, ("labels", name), f"label {name!r}", at_key=True))
        for i, slo in enumerate(spec.slos):
            diags += [clash(src, ("slos", i, "group_by", j), f"group_by label {name!r} of SLO {slo.name!r}")
                      for j, name in enumerate(slo.group_by) if name in external]
            diags += [clash(src, ("slos", i, "labels", name), f"label {name!r} of SLO {slo.name!r}", at_key=True)
                      for name in sorted(external & set(slo.labels))]
        for i, budget in enumerate(spec.budgets):
            diags += [clash(src, ("budgets", i, "by", j), f"by label {name!r} of budget {budget.name!r}")
                      for j, name in enumerate(budget.by) if name in external]
    return diags


def check_rulers(project: "Project") -> list[Diagnostic]:
    """Diagnostics for rule groups the configured rulers would refuse or relabel."""
    diags = _external_labels(project)
    s = project.settings
    if s.mimir.max_rules_per_rule_group or s.mimir.max_rule_groups_per_tenant:
        plan = build_plan(project)
        diags += _group_limit(project, plan) + _tenant_limit(project, plan)
    return diags
