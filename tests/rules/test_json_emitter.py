"""Dashboards' JSON goes through a faster path; it must write the bytes `json.dumps(indent=2, sort_keys=True)` writes."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slokit.render import common


def stdlib(data) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


TRICKY = ["", " ", "é ü ß", "日本語", "emoji 🚀", "\u2028sep", "nel\x85x", 'q"uote', "back\\slash", "tab\there",
          "new\nline", "\x00nul", "\x7f", "{{ $labels.slo }}", "</script>"]
NUMBERS = [0, -1, 2**70, -(2**70), 0.0, -0.0, 0.1, 1e-05, 1e16, 1.5e300, 5e-324, math.inf, -math.inf, math.nan, True,
           False, None]


def test_same_bytes_on_tricky_values():
    doc = {"panels": [{s: s, "n": n, "list": [s, n, [], {}, [[]], {"x": {}}]} for s in TRICKY for n in NUMBERS],
           "Z": [], "a": {}, "B": "x"}
    assert common.dump_json(doc) == stdlib(doc)


@pytest.mark.parametrize("doc", [{}, [], "x", 1, 1.5, None, True, {1: "int key"}, {"t": (1, 2)}, [{"s": {1, 2}}]])
def test_top_level_scalars_and_unusual_values_agree_or_fail_alike(doc):
    try:
        expected = stdlib(doc)
    except TypeError:
        with pytest.raises(TypeError):
            common.dump_json(doc)
        return
    assert common.dump_json(doc) == expected


leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=8))
values = st.recursive(leaves, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(st.text(max_size=5), inner, max_size=4)),
                      max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(values)
def test_same_bytes_on_any_json_data(doc):
    assert common.dump_json(doc) == stdlib(doc)


def test_every_dashboard_of_the_example_is_written_by_the_fast_path():
    """The golden dashboards would hide a silent fallback; this would not."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "dashboards"
    files = sorted(root.rglob("*.json"))
    assert files
    for path in files:
        doc = json.loads(path.read_text(encoding="utf-8"))
        out: list[str] = []
        common._write_json(doc, out.append, "\n")
        assert "".join(out) + "\n" == path.read_text(encoding="utf-8")
