"""Label values that look like other values are errors (issue 11); names are slugs (ASCII) already."""

from __future__ import annotations

import pytest

from slokit.lookalike import lookalike_problem


@pytest.mark.parametrize("value", ["gold\u200b", "\u200dx", "\u202eevil", "a\u2066b\u2069", "\u200fx", "eu\u00a0west",
                                   "x\u3000y", "\ufeffbom", "soft\u00adhyphen", "x\u2800", "tag\U000e0041",
                                   "vs\ufe0f", "\u3164", "a\u034fb"])
def test_invisible_characters_are_reported(value):
    assert "cannot be seen or typed" in lookalike_problem(value)


@pytest.mark.parametrize("value", ["p\u0430yments", "\u0455upport", "g\u03bfld", "ac\u0435"])
def test_mixed_script_lookalikes_are_reported(value):
    assert "mixes scripts" in lookalike_problem(value)


@pytest.mark.parametrize("value", ["payments", "Москва", "東京", "東京-api", "café", "straße", "a b", "1", "🙂-x",
                                   "Ελλάδα"])
def test_plain_values_in_any_one_script_pass(value):
    assert lookalike_problem(value) == ""
