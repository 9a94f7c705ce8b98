"""Threshold values: a number in the histogram's unit, or a duration converted to it, in exact decimals."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slokit.promql import le_regex, number
from slokit.units import in_unit, same_bound


@pytest.mark.parametrize("written, unit, expected", [
    ("500ms", "seconds", "0.5"), ("300ms", "seconds", "0.3"), ("100ms", "seconds", "0.1"),
    ("0.3s", "milliseconds", "300"), ("1.5s", "milliseconds", "1500"), ("250ms", "milliseconds", "250"),
    ("1m30s", "seconds", "90"), ("1s500ms", "milliseconds", "1500"), ("2h", "minutes", "120"),
    ("1ms", "microseconds", "1000"), ("1s", "nanoseconds", "1000000000"),
    (0.3, "seconds", "0.3"), (2.56, "seconds", "2.56"), (500, "milliseconds", "500"), (1e-05, "seconds", "0.00001"),
])
def test_thresholds_convert_exactly(written, unit, expected):
    value = in_unit(written, unit)
    assert number(value) == expected
    assert "000000000000" not in le_regex(value)  # never 0.30000000000000004


def test_a_duration_on_a_unit_that_is_not_a_time_has_no_value():
    assert in_unit("500ms", "tokens") is None and in_unit("1s", "bytes") is None
    assert number(in_unit(500, "tokens")) == "500"  # a number is always in the metric's own unit


def test_the_bucket_check_compares_decimals():
    assert same_bound(in_unit("300ms", "seconds"), 0.3)
    assert same_bound(in_unit("100ms", "seconds"), 0.1) and not same_bound(in_unit("100ms", "seconds"), 0.01)
    assert le_regex(in_unit("300ms", "seconds")) == r"0\.3"
    assert le_regex(in_unit("250ms", "milliseconds")) == r"250(\.0)?"


@given(st.integers(min_value=1, max_value=10**7))
def test_milliseconds_round_trip_through_seconds(ms):
    seconds = in_unit(f"{ms}ms", "seconds")
    assert seconds * 1000 == ms
    assert in_unit(f"{number(seconds)}s", "milliseconds") == Decimal(ms)
