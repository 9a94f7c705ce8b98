"""docs/spec.md stays a complete, working reference.

Every field of the models has a row in a table of the page, and the page's
complete example validates against the bundled catalog.
"""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import BaseModel

from slokit.cli import main
from slokit.model import Catalog, ServiceSpec

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "spec.md").read_text(encoding="utf-8")


def models(model: type[BaseModel], seen: set | None = None) -> set[type[BaseModel]]:
    """`model` and every model reachable through its fields."""
    seen = set() if seen is None else seen
    if model in seen:
        return seen
    seen.add(model)
    for field in model.model_fields.values():
        stack = [field.annotation]
        while stack:
            t = stack.pop()
            if isinstance(t, type) and issubclass(t, BaseModel):
                models(t, seen)
            stack += list(typing.get_args(t))
    return seen


FIELDS = sorted({(m.__name__, name) for root in (ServiceSpec, Catalog) for m in models(root)
                 for name, field in m.model_fields.items() for name in [field.alias or name]})  # `not`, not `not_`


@pytest.mark.parametrize("model, field", FIELDS, ids=[f"{m}.{f}" for m, f in FIELDS])
def test_every_field_has_a_reference_row(model: str, field: str):
    assert re.search(rf"^\| `{field}` \|", DOC, re.MULTILINE), f"docs/spec.md has no row for {model}.{field}"


def test_the_complete_example_validates(tmp_path: Path, monkeypatch):
    section = DOC.split("## A complete example", 1)[1]
    example = re.search(r"```yaml\n(.*?)```", section, re.DOTALL).group(1)
    (tmp_path / "faq-bot.yaml").write_text(example, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["validate", ".", "--catalog", str(ROOT / "slos" / "catalog.yaml")])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: 1 service, 3 SLOs, 1 budget,")


def test_readme_links_the_reference():
    assert "(docs/spec.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
