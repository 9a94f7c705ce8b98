"""Bundled catalog presets and the catalog's `include:`.

A preset is a catalog file shipped in `slokit/data/presets/<name>.yaml`
describing metrics that software the team does not own already emits
(OpenTelemetry GenAI after Prometheus translation, vLLM, LiteLLM). A catalog
lists presets under `include:`; their labels and metrics are added to it.

Merge rule: an entry written in the user's catalog replaces the preset's
entry of the same name as a whole (so a team narrows `gen_ai_request_model`
to the models it runs). Two included presets defining the same name
differently is an error: neither can win silently.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from slokit.errors import Diagnostic, SlokitError
from slokit.load import Source, read_yaml
from slokit.model import Catalog

PRESET_DIR = ("data", "presets")


def preset_names() -> list[str]:
    folder = resources.files("slokit").joinpath(*PRESET_DIR)
    return sorted(entry.name.removesuffix(".yaml") for entry in folder.iterdir() if entry.name.endswith(".yaml"))


def preset_path(name: str) -> Path:
    """The preset's file (an installed package file; never a path built from user text beyond a known name)."""
    if name not in preset_names():
        raise KeyError(name)
    return Path(str(resources.files("slokit").joinpath(*PRESET_DIR, f"{name}.yaml")))


def preset_text(name: str) -> str:
    return preset_path(name).read_text(encoding="utf-8")


def load_preset(name: str) -> tuple[Catalog, Source]:
    """The preset as a typed catalog. A broken preset is slokit's bug, reported as errors in that file."""
    from slokit.project import to_model

    path = preset_path(name)
    source = read_yaml(path, f"<preset {name}>")
    catalog, errors = to_model(source, Catalog)
    if errors or catalog is None:
        raise SlokitError(errors)
    if catalog.include:
        raise SlokitError([source.diagnostic(("include",), "a preset cannot include other presets")])
    return catalog, source


def apply_includes(catalog: Catalog, source: Source, known: list[str] | None = None,
                   loader=None) -> tuple[Catalog, list[Diagnostic]]:
    """`catalog` with its included presets' labels and metrics added (its own entries win).
    `known` and `loader` default to the bundled presets (tests pass others)."""
    if not catalog.include:
        return catalog, []
    diags: list[Diagnostic] = []
    known = preset_names() if known is None else known
    loader = loader or load_preset
    labels: dict = {}
    metrics: dict = {}
    origin: dict[tuple[str, str], str] = {}
    for i, name in enumerate(catalog.include):
        if name not in known:
            diags.append(source.diagnostic(("include", i), f"unknown preset {name!r}",
                                           f"bundled presets: {', '.join(known)} (`slokit catalog preset NAME` "
                                           f"prints one)"))
            continue
        if catalog.include.index(name) != i:
            diags.append(source.diagnostic(("include", i), f"preset {name!r} is included twice",
                                           "remove the duplicate"))
            continue
        preset, _ = loader(name)
        for kind, entries, merged, own in (("label", preset.labels, labels, catalog.labels),
                                           ("metric", preset.metrics, metrics, catalog.metrics)):
            for key, entry in entries.items():
                if key in own:
                    continue  # the user's entry replaces it
                if key in merged and merged[key] != entry:
                    diags.append(source.diagnostic(
                        ("include", i), f"presets {origin[(kind, key)]!r} and {name!r} define {kind} {key} "
                        f"differently", f"include only one of them, or define {key} in this catalog (an entry "
                        f"written here replaces the presets')"))
                    continue
                merged[key] = entry
                origin.setdefault((kind, key), name)
    labels.update(catalog.labels)
    metrics.update(catalog.metrics)
    return catalog.model_copy(update={"labels": labels, "metrics": metrics}), diags
