"""JSON Schemas of the input language, generated from the models."""

from __future__ import annotations

from slokit.model import Catalog, ServiceSpec


def json_schemas() -> dict[str, dict]:
    slo = ServiceSpec.model_json_schema()
    slo["title"] = "slokit SLO spec"
    catalog = Catalog.model_json_schema()
    catalog["title"] = "slokit metric catalog"
    return {"slo": slo, "catalog": catalog}
