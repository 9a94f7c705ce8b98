"""Property tests: the loader accepts or raises SlokitError, for any input.

Bounded time comes from hypothesis' own per-example deadline, not from a
wall-clock assertion.
"""

from __future__ import annotations

from datetime import timedelta

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slokit.errors import SlokitError
from slokit.load import Source, parse_bytes, parse_yaml

SETTINGS = settings(max_examples=300, deadline=timedelta(seconds=2), suppress_health_check=[HealthCheck.too_slow])

# Characters that make YAML interesting: structure, quoting, anchors, tags, escapes, tabs.
YAML_ALPHABET = st.sampled_from(list("abz09 \t\n:-?[]{},&*!|>'\"#%@`\\.~") + ["---", "...", "<<", "!!", "\x00", "é"])
yaml_like = st.lists(YAML_ALPHABET, max_size=200).map("".join)

# Text without control characters or Unicode line separators, which PyYAML's
# dumper and reader themselves do not round-trip.
plain_text = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=20)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | plain_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(plain_text, children, max_size=4),
    max_leaves=30,
)


def load_or_error(load, data) -> Source | None:
    try:
        source = load(data, "f.yaml")
    except SlokitError as exc:
        assert exc.diagnostics, "a SlokitError always carries a diagnostic"
        for diag in exc.diagnostics:
            assert diag.line >= 1 and diag.column >= 1
        return None
    assert isinstance(source.data, dict)
    return source


@SETTINGS
@given(st.binary(max_size=400))
def test_random_bytes(data: bytes):
    load_or_error(parse_bytes, data)


@SETTINGS
@given(yaml_like)
def test_random_yaml_like_text(text: str):
    load_or_error(parse_yaml, text)


@SETTINGS
@given(st.text(max_size=300))
def test_random_unicode_text(text: str):
    """Any Unicode at all, control characters, surrogates and line separators included."""
    load_or_error(parse_yaml, text)


@SETTINGS
@given(st.lists(st.sampled_from(["service: demo\n", "owner: team\n", "slos:\n", "  - name: a\n", "    sli:\n",
                                 "      ratio: {good: {metric: m}}\n", "\t", "  ", "- ", "? ", "&a ", "*a ", "!!str ",
                                 "[", "]", "{", "}", ", ", "'", '"', "#", "\n", "---\n", "%YAML 1.2\n"]),
                max_size=40).map("".join))
def test_random_yaml_lines(text: str):
    """Lines of a real spec shuffled with YAML's structural tokens: deep into the parser, not just its first byte."""
    load_or_error(parse_yaml, text)


@SETTINGS
@given(json_values, st.sampled_from([None, True, False]))
def test_random_documents_round_trip(value, flow_style):
    """Any dumped document either loads to the same data or is rejected by our rules."""
    text = yaml.safe_dump({"root": value}, default_flow_style=flow_style, allow_unicode=True)
    source = load_or_error(parse_yaml, text)
    if source is not None:
        assert source.data["root"] == value
