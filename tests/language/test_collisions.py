"""Names are unique after planning (issue 11): the check sees every kind of name it claims to."""

from __future__ import annotations

from pathlib import Path

from slokit.collisions import SLOKIT_CLAIMS, Claim, claims, find_collisions
from slokit.load import parse_yaml
from slokit.plan import build_plan
from slokit.project import load_project

REPO = Path(__file__).resolve().parents[2]


def test_the_example_claims_every_kind_of_name_once():
    project = load_project([REPO / "slos"])
    found = claims(build_plan(project), {s.spec.service: s.source for s in project.services})
    kinds = {c.kind.split(" in ")[0] for c in found}
    assert kinds == {"output path", "Grafana UID", "PrometheusRule name", "Mimir namespace", "rule group name",
                     "recorded series"}
    assert find_collisions(found) == []
    assert len({(c.kind, c.name) for c in found}) == len(found)


def test_a_collision_is_reported_at_each_user_owner_and_not_at_slokit():
    source = parse_yaml("service: a\nslos:\n  - name: x\n", "a.yaml")
    other = parse_yaml("service: b\nslos:\n  - name: y\n", "b.yaml")
    found = [Claim("recorded series", 's{slo="x"}', "SLO 'x'", source, ("slos", 0, "name")),
             Claim("recorded series", 's{slo="x"}', "SLO 'y'", other, ("slos", 0, "name")),
             *SLOKIT_CLAIMS]
    diags = find_collisions(found)
    assert [(d.path, d.line, d.column) for d in diags] == [("a.yaml", 3, 11), ("b.yaml", 3, 11)]
    assert "is also used by SLO 'y'" in diags[0].message


def test_one_owner_claiming_a_name_twice_is_no_collision():
    source = parse_yaml("service: a\n", "a.yaml")
    assert find_collisions([Claim("output path", "p", "service 'a'", source, ("service",))] * 2) == []
