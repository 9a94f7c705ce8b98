"""Property tests past the loader: mutated specs and catalogs through the models and validation.

Any value a user can type anywhere in a spec or a catalog either validates or
yields positioned diagnostics (SlokitError-style), never an exception. The
mutations start from the bundled example, so they reach deep into the
language (SLIs, tiers, budgets) instead of failing at the first key.
"""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slokit.errors import Diagnostic, SlokitError
from slokit.load import Source, parse_yaml
from slokit.model import Catalog, ServiceSpec
from slokit.project import ServiceFile, to_model
from slokit.validate import check_catalog, check_service

ROOT = Path(__file__).resolve().parents[2]
CORPUS_CATALOG = Path(__file__).parent / "corpus" / "catalog.yaml"
SETTINGS = settings(max_examples=200, deadline=timedelta(seconds=2), suppress_health_check=[HealthCheck.too_slow])

CATALOG_SOURCE = parse_yaml(CORPUS_CATALOG.read_text(encoding="utf-8"), "catalog.yaml")
CATALOG_DATA = CATALOG_SOURCE.data
CATALOG, _ = to_model(CATALOG_SOURCE, Catalog)
SPECS = [parse_yaml(p.read_text(encoding="utf-8"), p.name).data for p in sorted((ROOT / "slos").glob("*.yaml"))
         if p.name != "catalog.yaml"]

# Values users plausibly write by mistake: wrong types, hostile names, edge numbers, near-miss words.
words = st.sampled_from(["", "ok", "30d", "7d", "1h", "0d", "5m", "99.5", "yes", "page", "ticket", "le", "gt",
                         "feature", "status", "tenant", "user_id", "llm_requests_total", "llm_ttft_seconds",
                         "llm_cost_usd_total", "{{window}}", "rate(llm_requests_total[{{window}}])", "..",
                         'a"}', "x{y}", "a/b", "é", "over 9000"])
numbers = st.one_of(st.integers(-10**15 + 1, 10**15 - 1), st.floats(allow_nan=False, allow_infinity=False,
                                                                   min_value=-1e14, max_value=1e14),
                    st.sampled_from([0, 1, 2, 5, 99.5, 100, 0.1, 0.8, 1e-300]))
scalars = st.one_of(st.none(), st.booleans(), numbers, words)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(words, inner, max_size=3),
                      max_leaves=8)


def paths(data, prefix=()):
    """Every path into `data` (mappings and lists), the root included."""
    yield prefix
    if isinstance(data, dict):
        for key, value in data.items():
            yield from paths(value, prefix + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from paths(value, prefix + (i,))


@st.composite
def mutated(draw, documents):
    """A document with one to three of its values replaced or keys added."""
    doc = copy.deepcopy(draw(st.sampled_from(documents)))
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(list(paths(doc))))
        if not where:
            continue
        parent = doc
        for part in where[:-1]:
            parent = parent[part]
        if isinstance(parent, dict) and draw(st.booleans()):
            parent[draw(words) or "extra"] = draw(values)
        else:
            parent[where[-1]] = draw(values)
    return doc


def check_diagnostics(diags: list[Diagnostic], path: str) -> None:
    for d in diags:
        assert d.path == path and d.line >= 1 and d.column >= 1 and d.message


def load(doc, path: str) -> Source | None:
    """The dumped document parsed back, or None when the loader rejects it (with SlokitError only)."""
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    try:
        return parse_yaml(text, path)
    except SlokitError as exc:
        check_diagnostics(exc.diagnostics, path)
        return None


@SETTINGS
@given(mutated(SPECS))
def test_mutated_specs_validate_or_give_positioned_errors(doc):
    source = load(doc, "spec.yaml")
    if source is None:
        return
    spec, diags = to_model(source, ServiceSpec)
    check_diagnostics(diags, "spec.yaml")
    if spec is None:
        assert diags, "a rejected spec always says why"
    else:
        check_diagnostics(check_service(ServiceFile(spec, source), CATALOG), "spec.yaml")


@SETTINGS
@given(mutated([CATALOG_DATA]))
def test_mutated_catalogs_validate_or_give_positioned_errors(doc):
    source = load(doc, "catalog.yaml")
    if source is None:
        return
    catalog, diags = to_model(source, Catalog)
    check_diagnostics(diags, "catalog.yaml")
    if catalog is None:
        assert diags, "a rejected catalog always says why"
    else:
        check_diagnostics(check_catalog(catalog, source), "catalog.yaml")
