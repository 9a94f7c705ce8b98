"""From a loaded project to every output file, in memory."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Callable

from slokit.plan import ProjectPlan, build_plan

if TYPE_CHECKING:
    from slokit.cache import Cache
    from slokit.project import Project
    from slokit.render.runbooks import RunbookInputs

Renderer = Callable[[ProjectPlan], dict[str, str]]


def renderers(runbook_inputs: "RunbookInputs | None" = None, cache: "Cache | None" = None) -> list[Renderer]:
    """The backends, each turning the plan into {relative path: text}.

    Runbooks also read the repository's templates and the current runbooks (for the sections a team keeps).
    """
    from slokit.render import grafana, prometheus_rules, ruletests, runbooks
    from slokit.render.grafana import provisioning

    runbook = functools.partial(runbooks.render, inputs=runbook_inputs or runbooks.RunbookInputs())
    tests = functools.partial(ruletests.render, cache=cache)
    return [prometheus_rules.render, tests, grafana.render, provisioning.render, runbook]


def build_outputs(project: "Project", rule_formats: tuple[str, ...] = (),
                  runbook_inputs: "RunbookInputs | None" = None, cache: "Cache | None" = None) -> dict[str, str]:
    """Every output file; `rule_formats` adds rule files for the Prometheus Operator or Mimir.

    With a cache, the rule tests of a service whose plan did not change are read from it.
    """
    from slokit.render.prometheus_rules import format_renderers

    plan = build_plan(project)
    outputs: dict[str, str] = {}
    for render in renderers(runbook_inputs, cache) + format_renderers(rule_formats):
        for path, text in render(plan).items():
            if path in outputs:
                raise RuntimeError(f"two renderers write {path}")
            outputs[path] = text
    return dict(sorted(outputs.items()))
