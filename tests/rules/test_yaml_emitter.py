"""YAML goes through libyaml's emitter; it must write the bytes PyYAML's pure-Python emitter writes."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from slokit.render import common


class _PureDumper(yaml.SafeDumper):
    pass


_PureDumper.add_representer(str, common._str)


def pure(data) -> str:
    return yaml.dump(data, Dumper=_PureDumper, sort_keys=False, allow_unicode=True, width=120,
                     default_flow_style=False)


TRICKY = ["", " ", "yes", "on", "no", "null", "~", "1.0", "0x1f", "1e3", "-", ":", "a: b", "# x", "x #y", "'q'",
          '"dq"', "{{ $labels.slo }}", "  lead", "trail ", "tab\there", "multi\nline\n", "multi\nline",
          "trailing space \nnext", "\nleading newline", "é ü ß", "日本語", "emoji 🚀", "nel\x85x", "\u2028sep", "\x85", "\u2028", "\u2029", "ps\u2029",
          "x" * 130, " ".join(["word"] * 40), "sum(rate(x{a=\"b\"}[5m]))\nor\n0 * sum(rate(y[5m]))", "@at", "`tick`",
          "!bang", "&amp", "*star", "%pct", "[list]", "{map}", "a,b", "?q", "|pipe", ">gt"]


def test_libyaml_is_in_use():
    assert issubclass(common._Dumper, yaml.CSafeDumper)


def test_same_bytes_on_tricky_strings():
    doc = {"groups": [{"name": s, "rules": [{"expr": s, "labels": {"k": s}, "values": [s, 1, 0.5, True, None]}]}
                      for s in TRICKY]}
    assert common.dump_yaml(doc) == pure(doc)


scalars = st.one_of(st.text(max_size=60), st.integers(), st.floats(allow_nan=False), st.booleans(), st.none())
NAMES = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_.:-]{0,30}", fullmatch=True)
docs = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(NAMES, inner, max_size=4),
                    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(NAMES, docs, min_size=1, max_size=4))
def test_same_bytes_on_any_document(doc):
    # Top-level mappings with named keys, as slokit writes (a lone scalar ends differently, `...`, and
    # an empty key is written as `? ''` by one emitter only; slokit's keys are never empty).
    assert common.dump_yaml(doc) == pure(doc)


def test_same_bytes_on_a_lone_unicode_line_break():
    # Found by the property test: libyaml writes a lone NEL as "\N", the pure emitter otherwise.
    for s in ("\x85", "\u2028", "\u2029"):
        assert common.dump_yaml({"A": s}) == pure({"A": s}), repr(s)
