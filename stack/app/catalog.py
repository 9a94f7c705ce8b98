"""Load the metric catalog through slokit's own loader and checks (one source of truth)."""

from __future__ import annotations

from pathlib import Path

from slokit.errors import SlokitError
from slokit.load import read_yaml
from slokit.model import Catalog
from slokit.project import to_model
from slokit.validate import check_catalog


def load_catalog(path: Path) -> Catalog:
    """The typed catalog; raises SlokitError with positioned diagnostics on bad input.

    The app runs the same catalog checks as `slokit validate`: a catalog the
    generator would reject (an undeclared or unbounded label, say) must not
    quietly become live metrics either.
    """
    source = read_yaml(path, str(path))
    catalog, diags = to_model(source, Catalog)
    if catalog is not None and not diags:
        diags = check_catalog(catalog, source)
    if diags or catalog is None:
        raise SlokitError(diags)
    return catalog
