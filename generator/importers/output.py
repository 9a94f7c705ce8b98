"""Writing an import: one spec file per service plus catalog.yaml, never over an existing file,
then validated the way `slokit validate` would."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slokit.errors import Diagnostic, SlokitError
from slokit.project import CATALOG_FILE
from slokit.render.common import dump_yaml


@dataclass(frozen=True)
class ImportedFiles:
    files: dict[str, str]  # file name -> text


def spec_text(spec: dict[str, Any], tool: str, sources: list[str]) -> str:
    header = (f"# Imported by `slokit import {tool}` from {', '.join(sources)}.\n"
              "# Review the warnings it printed, then edit this file as your own.\n")
    return header + dump_yaml(spec)


def existing(out_dir: Path, files: dict[str, str]) -> list[str]:
    return sorted(name for name in files if (out_dir / name).exists() or (out_dir / name).is_symlink())


def write_import(out_dir: Path, files: dict[str, str]) -> list[Path]:
    """Write every file or none: an existing file (or a symlink) with one of the names stops the import."""
    clash = existing(out_dir, files)
    if clash:
        raise SlokitError([Diagnostic(str(out_dir / name), 1, 1, "file exists; slokit import never overwrites",
                                      "import into another directory (--out DIR), or move the file away")
                           for name in clash])
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in sorted(files.items()):
        path = out_dir / name
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(text)
        written.append(path)
    return written


def file_names(services: list[str]) -> dict[str, str]:
    """Spec file name of each service (`catalog` is the catalog's, so a service of that name is renamed)."""
    return {s: (f"{s}.yaml" if f"{s}.yaml" != CATALOG_FILE else f"{s}-service.yaml") for s in services}
