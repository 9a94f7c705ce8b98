"""A `slokit catalog discover` snippet, loaded the way a catalog is: it must be one on its own."""

from __future__ import annotations

from pathlib import Path

from slokit.errors import WARNING
from slokit.load import read_yaml
from slokit.model import Catalog
from slokit.project import to_model
from slokit.validate import check_catalog


def as_catalog(snippet: str, tmp_path: Path, warnings: int = 0) -> Catalog:
    """The snippet loads, types and passes the catalog checks, with exactly `warnings`
    naming-convention warnings (advice that a third-party name may well break)."""
    path = tmp_path / "snippet.yaml"
    path.write_text(snippet, encoding="utf-8")
    source = read_yaml(path, str(path))
    catalog, errors = to_model(source, Catalog)
    assert not errors, [e.format() for e in errors]
    diagnostics = check_catalog(catalog, source)
    assert all(d.severity == WARNING and d.code == "SLK207" for d in diagnostics), [d.format() for d in diagnostics]
    assert len(diagnostics) == warnings, [d.format() for d in diagnostics]
    return catalog
