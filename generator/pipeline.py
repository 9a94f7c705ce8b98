"""From a loaded project to every output file, in memory."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Callable

from slokit.plan import ProjectPlan, build_plan

if TYPE_CHECKING:
    from pathlib import Path

    from slokit.cache import Cache
    from slokit.config import Settings
    from slokit.project import Project
    from slokit.render.runbooks import RunbookInputs

Renderer = Callable[[ProjectPlan], dict[str, str]]


def load_and_check(paths: "list[Path]", catalog: "Path | None" = None, settings: "Settings | None" = None) -> "Project":
    """`project.load_project`, then the checks that need the plan (every output name, UID, group used once; the
    rule groups fit the Mimir / Cortex and Thanos rulers slokit.yaml describes).

    Raise SlokitError with the collisions and the project's warnings, as load_project raises its problems.
    """
    from dataclasses import replace

    from slokit import project as P
    from slokit.collisions import check_collisions
    from slokit.config import NO_SETTINGS
    from slokit.rulers import check_rulers
    from slokit.errors import SlokitError

    project = P.load_project(paths, catalog, settings if settings is not None else NO_SETTINGS)
    found = sorted(set(check_collisions(project)))
    # The rulers' limits and external labels (only what slokit.yaml describes); after the names are unique.
    found = found or sorted(set(check_rulers(project)))
    if not found:
        return project
    diags = sorted([*project.warnings, *found])
    if any(d.is_error for d in diags):
        raise SlokitError(diags)
    return replace(project, warnings=tuple(diags))


def renderers(runbook_inputs: "RunbookInputs | None" = None, cache: "Cache | None" = None,
              prometheus_version: int = 2) -> list[Renderer]:
    """The backends, each turning the plan into {relative path: text}.

    Runbooks also read the repository's templates and the current runbooks (for the sections a team keeps).
    """
    from slokit.render import grafana, prometheus_rules, ruletests, runbooks
    from slokit.render.grafana import provisioning

    runbook = functools.partial(runbooks.render, inputs=runbook_inputs or runbooks.RunbookInputs())
    from slokit.render.ruletests.prometheus_model import Semantics

    tests = functools.partial(ruletests.render, cache=cache, semantics=Semantics(prometheus_version))
    return [prometheus_rules.render, tests, grafana.render, provisioning.render, runbook]


def build_outputs(project: "Project", rule_formats: tuple[str, ...] = (),
                  runbook_inputs: "RunbookInputs | None" = None, cache: "Cache | None" = None) -> dict[str, str]:
    """Every output file; `rule_formats` adds rule files for the Prometheus Operator or Mimir.

    With a cache, the rule tests of a service whose plan did not change are read from it.
    """
    from slokit.render.prometheus_rules import format_renderers

    plan = build_plan(project)
    outputs: dict[str, str] = {}
    for render in renderers(runbook_inputs, cache, project.settings.prometheus_version) + \
            format_renderers(rule_formats):
        for path, text in render(plan).items():
            if path in outputs:
                raise RuntimeError(f"two renderers write {path}")
            outputs[path] = text
    return dict(sorted(outputs.items()))
