"""After planning: every name slokit puts into the world is used once.

Each output path, rule group name (within its rule file), Grafana UID
(dashboards and folders share one namespace), PrometheusRule name and
recorded series is claimed by the spec entry it comes from, or by slokit
itself (the overview and cost dashboards, provisioning files, the
manifest). Two claims on one name would overwrite a file or a dashboard, or
make Prometheus reject a rule file, so each is reported at the names that
cause it.
"""

from __future__ import annotations

from slokit import codes as C

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

from slokit import naming as N
from slokit.errors import Diagnostic
from slokit.load import PathKey, Source
from slokit.plan import ProjectPlan, RecordingRule, ServicePlan, build_plan

if TYPE_CHECKING:
    from slokit.project import Project


@dataclass(frozen=True)
class Claim:
    kind: str  # what the name is, e.g. "Grafana UID"
    name: str
    owner: str  # who uses it, e.g. "the dashboard of service 'x'"
    source: Source | None = None  # None: slokit's own, fixed names
    key: PathKey = ()


SLOKIT_CLAIMS = (
    Claim("output path", N.OVERVIEW_DASHBOARD_PATH, "slokit's overview dashboard"),
    Claim("output path", N.COST_DASHBOARD_PATH, "slokit's cost dashboard"),
    Claim("output path", N.DATASOURCES_PROVISIONING_PATH, "slokit's datasource provisioning"),
    Claim("output path", N.DASHBOARDS_PROVISIONING_PATH, "slokit's dashboard provisioning"),
    Claim("output path", N.MANIFEST_FILE, "slokit's manifest"),
    Claim("Grafana UID", N.DASHBOARD_OVERVIEW_UID, "slokit's overview dashboard"),
    Claim("Grafana UID", N.DASHBOARD_COST_UID, "slokit's cost dashboard"),
    Claim("Grafana UID", N.OVERVIEW_FOLDER_UID, "slokit's overview folder"),
)


def _service_claims(s: ServicePlan, source: Source) -> Iterator[Claim]:
    who = f"service {s.service!r}"
    for path in (N.rules_path(s.service), N.operator_rules_path(s.service), N.mimir_rules_path(s.service),
                 N.vmalert_rules_path(s.service),
                 N.thanos_rules_path(s.service),
                 N.rule_tests_path(s.service), N.budget_rule_tests_path(s.service),
                 *(N.threshold_rule_tests_path(s.service, i) for i in N.THRESHOLD_TEST_INTERVALS),
                 N.service_dashboard_path(s.service),
                 N.runbook_path(s.service)):
        yield Claim("output path", path, who, source, ("service",))
    yield Claim("Grafana UID", s.dashboard_uid, f"the dashboard of {who}", source, ("service",))
    yield Claim("Grafana UID", N.service_folder_uid(s.service), f"the folder of {who}", source, ("service",))
    yield Claim("PrometheusRule name", N.operator_rule_name(s.service), who, source, ("service",))
    yield Claim("Mimir namespace", N.mimir_namespace(s.service), who, source, ("service",))
    in_file = f"rule group name in {N.rules_path(s.service)}"
    for i, slo in enumerate(s.slos):
        owner, key = f"SLO {slo.name!r} of {who}", ("slos", i, "name")
        yield Claim(in_file, slo.rule_group.name, owner, source, key)
        yield from _series_claims(slo.rule_group.rules, owner, source, key)
    budget_keys = {b.name: ("budgets", i, "name") for i, b in enumerate(s.budgets)}
    for group in s.rule_groups[len(s.slos):]:
        yield Claim(in_file, group.name, f"the budgets of {who}", source, ("budgets",))
        for rule in group.recording_rules:
            budget = dict(rule.labels).get(N.LABEL_BUDGET, "")
            yield from _series_claims((rule,), f"budget {budget!r} of {who}", source,
                                      budget_keys.get(budget, ("budgets",)))


def _series_claims(rules, owner: str, source: Source, key: PathKey) -> Iterator[Claim]:
    for rule in rules:
        if isinstance(rule, RecordingRule):
            labels = ",".join(f'{k}="{v}"' for k, v in rule.labels)
            yield Claim("recorded series", f"{rule.record}{{{labels}}}", owner, source, key)


def claims(plan: ProjectPlan, sources: dict[str, Source]) -> list[Claim]:
    out = list(SLOKIT_CLAIMS)
    for s in plan.services:
        out += _service_claims(s, sources[s.service])
    return out


def find_collisions(found: list[Claim]) -> list[Diagnostic]:
    by_name: dict[tuple[str, str], list[Claim]] = defaultdict(list)
    for claim in found:
        by_name[(claim.kind, claim.name)].append(claim)
    diags = []
    for (kind, name), users in sorted(by_name.items()):
        # One spec entry may claim a name twice over (a service's dashboard and folder never do); only
        # different owners collide.
        owners = list(dict.fromkeys(u.owner for u in users))
        if len(owners) < 2:
            continue
        hint = ("the name is slokit's own: rename the service" if any(u.source is None for u in users) else
                "rename one of them: each output file, rule group, Grafana UID and recorded series must be unique")
        for claim in users:
            if claim.source is None:
                continue
            others = ", ".join(o for o in owners if o != claim.owner)
            diags.append(claim.source.diagnostic(claim.key, f"{kind} {name!r} of {claim.owner} is also used by "
                                                 f"{others}", hint, code=C.NAME_COLLISION))
    return diags


def check_collisions(project: "Project") -> list[Diagnostic]:
    """Diagnostics for every name two parts of the project (or the project and slokit) would both use."""
    sources = {s.spec.service: s.source for s in project.services}
    return find_collisions(claims(build_plan(project), sources))
