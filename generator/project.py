"""Find, load and type-check a project: SLO spec files plus their metric catalog."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from slokit.config import NO_SETTINGS, Settings
from slokit.errors import Diagnostic, SlokitError
from slokit.load import Source, read_yaml
from slokit.model import Catalog, ServiceSpec

CATALOG_FILE = "catalog.yaml"
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class ServiceFile:
    spec: ServiceSpec
    source: Source


@dataclass(frozen=True)
class Project:
    catalog: Catalog
    catalog_source: Source
    services: tuple[ServiceFile, ...]
    settings: Settings = NO_SETTINGS  # from slokit.yaml, when the project has one


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def find_spec_files(paths: list[Path]) -> list[Path]:
    """SLO spec files under `paths` (directories are scanned, not recursively), sorted.

    A file named twice (`slos/ slos/a.yaml`, or by a relative and an absolute
    path) is read once, else it would clash with itself as a duplicate service.
    """
    files: dict[Path, Path] = {}
    for p in paths:
        found = [f for f in p.iterdir() if f.suffix in (".yaml", ".yml") and f.name != CATALOG_FILE and f.is_file()] \
            if p.is_dir() else [p]
        for f in found:
            files.setdefault(f.resolve(), f)
    return sorted(files.values(), key=lambda f: str(f))


def locate_catalog(paths: list[Path], catalog: Path | None) -> Path:
    if catalog is not None:
        return catalog
    for p in paths:
        candidate = (p if p.is_dir() else p.parent) / CATALOG_FILE
        if candidate.is_file():
            return candidate
    raise SlokitError([Diagnostic(_display(paths[0] if paths else Path(".")), 1, 1,
                                  f"no metric catalog found: expected {CATALOG_FILE} beside the SLO files",
                                  "create it, or pass --catalog FILE")])


def to_model(source: Source, model: type[M]) -> tuple[M | None, list[Diagnostic]]:
    """Validate plain data against a model, turning pydantic errors into positioned diagnostics."""
    from slokit.messages import describe_validation_error

    if not isinstance(source.data, dict):
        return None, [source.diagnostic((), "the document must be a mapping of keys to values",
                                        f"see `slokit schema` for the keys of a {model.__name__}")]
    try:
        return model.model_validate(source.data), []
    except ValidationError as exc:
        return None, describe_validation_error(exc, source, model)


def load_project(paths: list[Path], catalog: Path | None = None, settings: Settings = NO_SETTINGS) -> Project:
    """Load and validate everything; raise SlokitError with every problem found."""
    from slokit.validate import validate_project

    diags: list[Diagnostic] = []
    catalog_path = locate_catalog(paths, catalog)
    catalog_model: Catalog | None = None
    catalog_source: Source | None = None
    try:
        catalog_source = read_yaml(catalog_path, _display(catalog_path))
        catalog_model, errs = to_model(catalog_source, Catalog)
        diags += errs
    except SlokitError as exc:
        diags += exc.diagnostics

    services: list[ServiceFile] = []
    spec_files = find_spec_files(paths)
    if not spec_files:
        diags.append(Diagnostic(_display(paths[0]), 1, 1, "no SLO spec files (*.yaml, *.yml) found",
                                "pass a directory holding one spec file per service"))
    for f in spec_files:
        if catalog_path.exists() and f.resolve() == catalog_path.resolve():
            continue
        try:
            src = read_yaml(f, _display(f))
        except SlokitError as exc:
            diags += exc.diagnostics
            continue
        spec, errs = to_model(src, ServiceSpec)
        diags += errs
        if spec is not None:
            services.append(ServiceFile(spec, src))

    if catalog_model is not None and catalog_source is not None:
        project = Project(catalog_model, catalog_source, tuple(sorted(services, key=lambda s: s.spec.service)),
                          settings)
        diags += validate_project(project)
    if diags:
        raise SlokitError(diags)
    return project
