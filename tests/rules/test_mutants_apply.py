"""Every mutant of tests/rules/mutation.py still finds what it mutates in the committed example's rules.

A mutant whose pattern no longer matches (the rules changed shape) would stop the mutation run at that
mutant; this check is cheap (no promtool), so the suite sees it the day the rules change.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from . import mutation as M

REPO = Path(__file__).resolve().parents[2]


def test_every_mutant_changes_the_rules_of_its_service():
    rules = {}
    for mutant in M.example_mutants():
        path = REPO / "alerts" / f"{mutant.service}.rules.yaml"
        rules.setdefault(mutant.service, path.read_text(encoding="utf-8"))
        groups = yaml.safe_load(rules[mutant.service])["groups"]
        assert mutant.apply(groups), f"{mutant.name}: found nothing to change in {path.name}"
        assert groups != yaml.safe_load(rules[mutant.service])["groups"], f"{mutant.name}: changed nothing"
