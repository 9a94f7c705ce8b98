"""Fault injection: which scenarios are active, and what they do to each step.

A scenario is a named `kind` plus parameters (data/scenarios.yaml). Several
may be active at once; where two touch the same knob the stronger effect
wins. The active set is an immutable snapshot replaced as a whole, so a
request sees one consistent set of faults.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from slokit_app.appdata import ScenarioDef

KINDS = frozenset({
    "provider_errors", "rate_limits", "latency", "decode", "token_explosion",
    "retrieval", "prompt_version", "refusals",
})


class ScenarioError(ValueError):
    """An unknown scenario or a bad parameter; the message says which."""


@dataclass(frozen=True)
class ActiveScenario:
    name: str
    kind: str
    params: dict

    def applies(self, key: str, value: str) -> bool:
        return value in self.params.get(key, [value])


def _check_param(scenario: str, key: str, value: object, default: object) -> None:
    """An override must have the type of the bundled default."""
    if isinstance(default, list):
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        expected = "a list of names"
    elif isinstance(default, bool):
        ok, expected = isinstance(value, bool), "true or false"
    elif isinstance(default, (int, float)):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
        expected = "a number >= 0"
    else:
        ok, expected = isinstance(value, str), "a string"
    if not ok:
        raise ScenarioError(f"scenario {scenario!r}: parameter {key!r} must be {expected}, got {value!r}")


class Faults:
    def __init__(self, definitions: dict[str, ScenarioDef], prompt_versions: frozenset[tuple[str, str]] = frozenset()):
        self._definitions = definitions
        # (feature, version) pairs a prompt_version scenario may switch to.
        self._prompt_versions = prompt_versions
        self._active: tuple[ActiveScenario, ...] = ()

    # ---- control -------------------------------------------------------
    def activate(self, name: str, overrides: dict | None = None) -> ActiveScenario:
        definition = self._definitions.get(name)
        if definition is None:
            raise ScenarioError(f"unknown scenario {name!r}; known: {', '.join(sorted(self._definitions))}")
        unknown = set(overrides or {}) - set(definition.params)
        if unknown:
            raise ScenarioError(f"scenario {name!r} has no parameter(s) {', '.join(sorted(unknown))}; "
                                f"it takes {', '.join(sorted(definition.params))}")
        for key, value in (overrides or {}).items():
            _check_param(name, key, value, definition.params[key])
        scenario = ActiveScenario(name, definition.kind, {**definition.params, **(overrides or {})})
        if scenario.kind == "prompt_version":
            missing = [f for f in scenario.params.get("features", []) if (f, scenario.params["version"]) not in self._prompt_versions]
            if missing:
                raise ScenarioError(f"scenario {name!r}: no prompt template version {scenario.params['version']!r} "
                                    f"for {', '.join(missing)} (see stack/app/data/prompts.yaml)")
        self._active = tuple(s for s in self._active if s.name != name) + (scenario,)
        return scenario

    def deactivate(self, name: str) -> bool:
        before = len(self._active)
        self._active = tuple(s for s in self._active if s.name != name)
        return len(self._active) != before

    def clear(self) -> None:
        self._active = ()

    def active(self) -> tuple[ActiveScenario, ...]:
        return self._active

    def known(self) -> dict[str, ScenarioDef]:
        return dict(self._definitions)

    # ---- effects -------------------------------------------------------
    def _of(self, kind: str, key: str, value: str) -> list[dict]:
        return [s.params for s in self._active if s.kind == kind and s.applies(key, value)]

    def provider_errors(self, model: str) -> tuple[float, float]:
        hits = self._of("provider_errors", "models", model)
        if not hits:
            return 0.0, 0.0
        strongest = max(hits, key=lambda p: float(p["error_rate"]))
        return float(strongest["error_rate"]), float(strongest.get("timeout_share", 0.0))

    def rate_limits(self, model: str) -> tuple[float, float]:
        hits = self._of("rate_limits", "models", model)
        if not hits:
            return 0.0, 0.0
        strongest = max(hits, key=lambda p: float(p["rate"]))
        return float(strongest["rate"]), float(strongest.get("retry_after_s", 1.0))

    def ttft_factor(self, model: str) -> float:
        return max([float(p["ttft_factor"]) for p in self._of("latency", "models", model)], default=1.0)

    def decode_factor(self, model: str) -> float:
        return min([float(p["decode_factor"]) for p in self._of("decode", "models", model)], default=1.0)

    def token_explosion(self, feature: str) -> tuple[float, float, bool]:
        """(output factor, input factor, runaway agent loop)."""
        hits = self._of("token_explosion", "features", feature)
        return (max([float(p.get("output_factor", 1.0)) for p in hits], default=1.0),
                max([float(p.get("input_factor", 1.0)) for p in hits], default=1.0),
                any(bool(p.get("runaway_agent", False)) for p in hits))

    def retrieval(self, connector: str) -> tuple[float, float]:
        hits = self._of("retrieval", "connectors", connector)
        return (max([float(p.get("error_rate", 0.0)) for p in hits], default=0.0),
                max([float(p.get("empty_rate", 0.0)) for p in hits], default=0.0))

    def prompt_version(self, feature: str) -> str | None:
        hits = self._of("prompt_version", "features", feature)
        return str(hits[-1]["version"]) if hits else None

    def refusal_rate(self, feature: str) -> float:
        return max([float(p["rate"]) for p in self._of("refusals", "features", feature)], default=0.0)


def load_scenario_file(path: Path, faults: Faults) -> list[str]:
    """Activate the scenarios a start-up file lists; return their names.

    Format::

        scenarios:
          - latency_spike
          - name: cost_regression
            params: {features: [rag_answer]}
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioError(f"{path}: cannot read scenario file: {exc}") from None
    entries = data.get("scenarios", []) if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ScenarioError(f"{path}: expected a mapping with a `scenarios:` list")
    names = []
    for i, entry in enumerate(entries):
        if isinstance(entry, str):
            entry = {"name": entry}
        if not isinstance(entry, dict) or "name" not in entry:
            raise ScenarioError(f"{path}: scenarios[{i}]: expected a name or {{name: ..., params: {{...}}}}")
        try:
            faults.activate(str(entry["name"]), entry.get("params") or {})
        except ScenarioError as exc:
            raise ScenarioError(f"{path}: scenarios[{i}]: {exc}") from None
        names.append(str(entry["name"]))
    return names
