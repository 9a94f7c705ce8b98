"""Find, load and type-check a project: SLO spec files plus their metric catalog."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from slokit import codes as C
from slokit.config import NO_SETTINGS, Settings
from slokit.errors import MAX_COLLECTED, Diagnostic, SlokitError
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
    # Real paths of every file read; `generate` never writes or prunes one of them.
    inputs: frozenset[Path] = frozenset()
    # Problems that do not stop generation (reported; errors under --strict).
    warnings: tuple[Diagnostic, ...] = ()
    # Spec files (display paths) the current git change adds or modifies: they take the blame for duplicates.
    changed: frozenset[str] = frozenset()


def _display(path: Path) -> str:
    # The name as given: resolving the file itself would show a link's target instead of the link.
    try:
        return str((path.parent.resolve() / path.name).relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# The most input one run reads, in all files together; per file, `load.MAX_FILE_BYTES`.
MAX_TOTAL_BYTES = 16 * 1024 * 1024


def _inside(directory: str, path: str) -> bool:
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


def _entry_problem(directory: Path, entry: Path) -> tuple[str, str] | None:
    """Why a `*.yaml` entry of a scanned directory cannot be read as a spec, or None.

    Checked without reading it: a link is followed only when it stays inside
    the directory, so `x.yaml -> ~/.token` is refused before its content could
    reach an error message.
    """
    try:
        info = os.lstat(entry)
    except OSError as exc:
        return f"cannot examine this file: {exc.strerror}", "check its permissions"
    if stat.S_ISLNK(info.st_mode):
        if not os.path.exists(entry):
            return "is a symlink to a file that does not exist", "remove the link or fix its target"
        if not _inside(os.path.realpath(directory), os.path.realpath(entry)):
            return ("is a symlink to a file outside the spec directory; slokit does not follow it",
                    "copy the spec into the directory, or name the file on the command line")
        info = os.stat(entry)
    if stat.S_ISDIR(info.st_mode):
        return "is a directory, not a spec file", "rename it, or move it out of the spec directory"
    if not stat.S_ISREG(info.st_mode):
        return ("is not a regular file (a FIFO, socket or device)",
                "slokit reads only regular files; remove it from the spec directory")
    if not os.access(entry, os.R_OK):
        return "cannot read file: Permission denied", "make it readable, or move it out of the spec directory"
    return None


def _scan(directory: Path) -> tuple[list[Path], list[Diagnostic]]:
    try:
        names = sorted(os.listdir(directory))
    except OSError as exc:
        return [], [Diagnostic(_display(directory), 1, 1, f"cannot list the directory: {exc.strerror}",
                               "check its permissions, or pass the spec files themselves", C.UNREADABLE_FILE)]
    found, diags = [], []
    for name in names:
        entry = directory / name
        if Path(name).suffix not in (".yaml", ".yml") or name == CATALOG_FILE:
            continue
        problem = _entry_problem(directory, entry)
        if problem:
            diags.append(Diagnostic(_display(entry), 1, 1, *problem, C.UNREADABLE_FILE))
        else:
            found.append(entry)
    return found, diags


def find_spec_files(paths: list[Path]) -> tuple[list[Path], list[Diagnostic]]:
    """SLO spec files under `paths` (directories are scanned, not recursively), sorted, and problems found.

    A file named twice (`slos/ slos/a.yaml`, or by a relative and an absolute
    path) is read once, else it would clash with itself as a duplicate service.
    A `*.yaml` entry of a directory that cannot be read as a spec is an error,
    never skipped: skipping it would let `generate` prune that service.
    """
    files: dict[Path, Path] = {}
    diags: list[Diagnostic] = []
    for p in paths:
        found, errs = _scan(p) if p.is_dir() else ([p], [])
        diags += errs
        for f in found:
            files.setdefault(f.resolve(), f)
    return sorted(files.values(), key=lambda f: str(f)), diags


def locate_catalog(paths: list[Path], catalog: Path | None) -> Path:
    if catalog is not None:
        return catalog
    for p in paths:
        candidate = (p if p.is_dir() else p.parent) / CATALOG_FILE
        if os.path.lexists(candidate):
            problem = _entry_problem(candidate.parent, candidate)
            if problem:
                raise SlokitError([Diagnostic(_display(candidate), 1, 1, *problem, C.UNREADABLE_FILE)])
            return candidate
    raise SlokitError([Diagnostic(_display(paths[0] if paths else Path(".")), 1, 1,
                                  f"no metric catalog found: expected {CATALOG_FILE} beside the SLO files",
                                  "create it, or pass --catalog FILE", C.NO_INPUT)])


def _over_total(files: list[Path]) -> Diagnostic | None:
    """Refuse a run whose inputs add up to more than MAX_TOTAL_BYTES, before any of them is parsed."""
    total = 0
    for f in files:
        try:
            total += os.stat(f).st_size
        except OSError:
            continue  # reported when it is read
        if total > MAX_TOTAL_BYTES:
            return Diagnostic(_display(f), 1, 1, f"the input files add up to more than {MAX_TOTAL_BYTES // 2**20} MiB "
                              "(reached at this file), the most slokit reads in one run",
                              "split the project: run slokit on a few spec directories at a time, "
                              "each with its own --out", C.FILE_TOO_LARGE)
    return None


@dataclass(frozen=True)
class Checked:
    """A file checked against its model: the model or the diagnostics, and how many were not described."""

    model: BaseModel | None
    diagnostics: list[Diagnostic]
    omitted: int = 0
    # When the file is broken only in parts: the rest, to look for more mistakes (never to generate).
    salvaged: tuple[BaseModel, Source] | None = None


def check_model(source: Source, model: type[M], limit: int | None = MAX_COLLECTED) -> Checked:
    """Validate plain data against a model, turning pydantic errors into positioned diagnostics."""
    from slokit.messages import describe_validation_error

    if not isinstance(source.data, dict):
        return Checked(None, [source.diagnostic((), "the document must be a mapping of keys to values",
                                                f"see `slokit schema` for the keys of a {model.__name__}",
                                                code=C.NOT_A_MAPPING)])
    try:
        return Checked(model.model_validate(source.data), [])
    except ValidationError as exc:
        from slokit.salvage import salvage

        omitted = max(0, exc.error_count() - limit) if limit is not None else 0
        return Checked(None, describe_validation_error(exc, source, model, limit), omitted,
                       salvage(source, model, exc))


def to_model(source: Source, model: type[M]) -> tuple[M | None, list[Diagnostic]]:
    """Validate plain data against a model; every problem as a positioned diagnostic."""
    checked = check_model(source, model, limit=None)
    return checked.model, checked.diagnostics


def load_project(paths: list[Path], catalog: Path | None = None, settings: Settings = NO_SETTINGS) -> Project:
    """Load and validate everything; raise SlokitError with every problem found.

    Name collisions need the plan, so they are checked a stage later: commands load through
    `pipeline.load_and_check`, which runs this and then that check.
    """
    from slokit.validate import validate_project

    diags: list[Diagnostic] = []
    omitted = 0
    catalog_path = locate_catalog(paths, catalog)
    spec_files, diags = find_spec_files(paths)
    unreadable = bool(diags)
    spec_files = [f for f in spec_files if not (catalog_path.exists() and f.resolve() == catalog_path.resolve())]
    too_much = _over_total([catalog_path, *spec_files])
    if too_much:
        raise SlokitError([too_much])
    catalog_model: Catalog | None = None
    catalog_source: Source | None = None
    try:
        catalog_source = read_yaml(catalog_path, _display(catalog_path))
        checked = check_model(catalog_source, Catalog)
        catalog_model, omitted = checked.model, omitted + checked.omitted
        diags += checked.diagnostics
        if catalog_model is not None:
            from slokit.presets import apply_includes

            catalog_model, errs = apply_includes(catalog_model, catalog_source)
            diags += errs
    except SlokitError as exc:
        diags, omitted = diags + exc.diagnostics, omitted + exc.omitted

    services: list[ServiceFile] = []
    salvaged: list[ServiceFile] = []  # files with shape errors, checked further as far as they go
    if not spec_files and not unreadable:
        diags.append(Diagnostic(_display(paths[0]), 1, 1, "no SLO spec files (*.yaml, *.yml) found",
                                "pass a directory holding one spec file per service", C.NO_INPUT))
    for f in spec_files:
        try:
            src = read_yaml(f, _display(f))
        except SlokitError as exc:
            diags, omitted = diags + exc.diagnostics, omitted + exc.omitted
            continue
        checked = check_model(src, ServiceSpec)
        spec, omitted = checked.model, omitted + checked.omitted
        diags += checked.diagnostics
        if spec is not None:
            services.append(ServiceFile(spec, src))
        elif checked.salvaged is not None:
            salvaged.append(ServiceFile(*checked.salvaged))

    if catalog_model is not None and catalog_source is not None:
        from slokit.vcs import changed_files

        inputs = frozenset(Path(os.path.realpath(f)) for f in [catalog_path, *spec_files])
        changed = frozenset(_display(f) for f in changed_files(spec_files))
        project = Project(catalog_model, catalog_source, tuple(sorted(services, key=lambda s: s.spec.service)),
                          settings, inputs, changed=changed)
        # Salvaged files are checked too, for their other mistakes; they never reach generation (errors exist).
        diags += validate_project(replace(project, services=tuple(
            sorted(services + salvaged, key=lambda s: (s.spec.service, s.source.path)))))
    if omitted or any(d.is_error for d in diags):
        raise SlokitError(diags, omitted)
    return replace(project, warnings=tuple(sorted(diags)))
