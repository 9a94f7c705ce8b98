"""The published JSON Schemas: current, valid, and in agreement with slokit.

Editors check SLO files with docs/schema/*.json (`# yaml-language-server:
$schema=...`). These tests keep the committed files equal to what the models
generate, and check that the bundled example passes them while shape errors
from the bad-input corpus fail them, as they fail `slokit validate`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from slokit.cli import main
from slokit.load import read_yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = ROOT / "docs" / "schema"
SLOS = ROOT / "slos"
CASES = Path(__file__).parent / "corpus" / "cases"
SPEC_FILES = sorted(p for p in SLOS.glob("*.yaml") if p.name != "catalog.yaml")


def published(kind: str) -> dict:
    return json.loads((SCHEMA_DIR / f"{kind}.schema.json").read_text(encoding="utf-8"))


def validator(kind: str) -> Draft202012Validator:
    return Draft202012Validator(published(kind))


def test_published_schemas_are_current(tmp_path: Path):
    result = CliRunner().invoke(main, ["schema", "--write", str(tmp_path)])
    assert result.exit_code == 0, result.output
    fresh = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    committed = {p.name: p.read_bytes() for p in SCHEMA_DIR.iterdir()}
    assert sorted(fresh) == ["catalog.schema.json", "config.schema.json", "slo.schema.json"]
    assert committed == fresh, "docs/schema is stale: run `slokit schema --write docs/schema` and commit it"


def test_printed_schemas_match_the_published_ones():
    both = CliRunner().invoke(main, ["schema"])
    assert both.exit_code == 0
    assert json.loads(both.stdout) == {"slo": published("slo"), "catalog": published("catalog"),
                                       "config": published("config")}
    for kind in ("slo", "catalog"):
        one = CliRunner().invoke(main, ["schema", "--kind", kind])
        assert one.stdout.encode() == (SCHEMA_DIR / f"{kind}.schema.json").read_bytes()


@pytest.mark.parametrize("kind", ["slo", "catalog"])
def test_published_schemas_are_valid_json_schema(kind: str):
    Draft202012Validator.check_schema(published(kind))
    assert published(kind)["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("spec", SPEC_FILES, ids=[p.name for p in SPEC_FILES])
def test_bundled_specs_pass_the_published_schema(spec: Path):
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator("slo").iter_errors(
        read_yaml(spec).data)]
    assert errors == []


def test_bundled_catalog_passes_the_published_schema():
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator("catalog").iter_errors(
        read_yaml(SLOS / "catalog.yaml").data)]
    assert errors == []


@pytest.mark.parametrize("path", [*SPEC_FILES, SLOS / "catalog.yaml"], ids=lambda p: p.name)
def test_bundled_files_point_editors_at_the_schema(path: Path):
    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
    assert match, first
    assert (path.parent / match.group(1)).resolve() == \
        SCHEMA_DIR / ("catalog.schema.json" if path.name == "catalog.yaml" else "slo.schema.json")


# Corpus cases whose mistake is in the shape of a file: an editor with the
# schema flags them as `slokit validate` does. (Cross-references such as an
# unknown metric need the catalog and are slokit's alone.)
SHAPE_CASES = [
    "key-missing-sli", "key-typo-objective", "key-unknown-top-level", "objective-zero", "objective-hundred",
    "objective-negative", "objective-string", "objective-percent-sign", "objective-quoted-number", "objective-bool",
    "window-words", "window-units-out-of-order", "window-number", "name-with-braces", "name-with-quotes",
    "name-with-slashes-and-dots", "name-with-newline", "name-with-template", "service-name-too-long",
    "label-value-number", "alert-label-name-with-quote", "metric-name-with-selector", "alerting-enabled-no",
    "tiers-empty", "budget-limit-zero",
]


@pytest.mark.parametrize("case", SHAPE_CASES)
def test_shape_errors_fail_the_published_schema_too(case: str):
    (spec,) = [p for p in (CASES / case).glob("*.yaml") if p.name != "catalog.yaml"]
    assert not validator("slo").is_valid(read_yaml(spec).data)
