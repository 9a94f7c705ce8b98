"""From an importer's result (services, catalog, warnings) to the files of the import."""

from __future__ import annotations

from typing import Any

from slokit.importers.output import file_names, spec_text
from slokit.project import CATALOG_FILE


def service_spec(service) -> dict[str, Any]:
    spec: dict[str, Any] = {"version": 1, "service": service.name}
    if service.description:
        spec["description"] = service.description
    if service.owner:
        spec["owner"] = service.owner
    spec["slos"] = service.slos
    return spec


def build_files(tool: str, result) -> tuple[dict[str, str], list]:
    """{file name: text} of every spec file and the catalog, and the services that have SLOs."""
    services = [s for _, s in sorted(result.services.items()) if s.slos]
    names = file_names([s.name for s in services])
    files = {names[s.name]: spec_text(service_spec(s), tool, sorted({s.source, *result.sources}))
             for s in services}
    if services:
        files[CATALOG_FILE] = result.catalog.render(", ".join(result.sources))
    return files, services
