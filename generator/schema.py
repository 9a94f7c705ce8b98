"""JSON Schemas of the input language, generated from the models.

The committed copies under docs/schema/ are what editors load through
`# yaml-language-server: $schema=...`; a test keeps them equal to this output.
"""

from __future__ import annotations

import json
from pathlib import Path

from slokit.config import ProjectConfig
from slokit.model import Catalog, ServiceSpec

DRAFT = "https://json-schema.org/draft/2020-12/schema"
FILES = {"slo": "slo.schema.json", "catalog": "catalog.schema.json", "config": "config.schema.json"}


def _close_maps(node) -> None:
    """Maps keyed by a name pattern accept no other keys (as the loader enforces)."""
    if isinstance(node, dict):
        if "patternProperties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for value in node.values():
            _close_maps(value)
    elif isinstance(node, list):
        for value in node:
            _close_maps(value)


def json_schemas() -> dict[str, dict]:
    out = {}
    for kind, model, title in (("slo", ServiceSpec, "slokit SLO spec"), ("catalog", Catalog, "slokit metric catalog"),
                               ("config", ProjectConfig, "slokit project file (slokit.yaml)")):
        schema = model.model_json_schema()
        _close_maps(schema)
        schema["$schema"] = DRAFT
        schema["$id"] = f"https://slokit.dev/schema/{FILES[kind]}"
        schema["title"] = title
        out[kind] = schema
    return out


def schema_text(doc: dict) -> str:
    """The canonical text of a schema document: sorted keys, 2-space indent, final newline."""
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schemas(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, doc in json_schemas().items():
        path = directory / FILES[kind]
        path.write_text(schema_text(doc), encoding="utf-8")
        written.append(path)
    return written
