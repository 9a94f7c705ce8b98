"""Load the metric catalog through slokit's own loader (one source of truth)."""

from __future__ import annotations

from pathlib import Path

from slokit.errors import SlokitError
from slokit.load import read_yaml
from slokit.model import Catalog
from slokit.project import to_model


def load_catalog(path: Path) -> Catalog:
    """The typed catalog; raises SlokitError with positioned diagnostics on bad input."""
    source = read_yaml(path, str(path))
    catalog, diags = to_model(source, Catalog)
    if diags or catalog is None:
        raise SlokitError(diags)
    return catalog
