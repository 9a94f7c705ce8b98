"""The alert-quality table, measured in promtool (see tests/rules/quality.py and docs/alert-quality.md).

For a 99.9% / 30d SLO and error rates of 100%, 10%, 2% and 0.5%: each tier
first fires when the workbook formula says (within one evaluation interval;
tiers on derived windows within the measured averaging lag of the naive
rules), never before its short window agrees; a one-minute 20% spike pages
nobody; alerts resolve within their short window after recovery; derived
long-window ratios match naive ones within 1% once the window is full.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from . import quality as Q


@pytest.fixture(scope="module")
def measured(tmp_path_factory) -> Q.Quality:
    return Q.run(tmp_path_factory.mktemp("quality"))


def test_every_tier_of_the_workbook_is_measured(measured):
    got = [(t.severity, t.long_window, t.short_window, t.burn) for t in measured.tiers]
    assert got == [("page", "1h", "5m", "14.4"), ("page", "6h", "30m", "6"),
                   ("ticket", "1d", "2h", "3"), ("ticket", "3d", "6h", "1")]


def test_raw_window_tiers_fire_within_one_interval_of_the_formula(measured):
    for t in (t for t in measured.tiers if not t.derived):
        for case, formula in t.formula_s.items():
            fired = t.first_fire_s[case]
            if formula is None:
                assert fired is None, (t.long_window, case)
                continue
            assert fired is not None, (t.long_window, case)
            assert formula <= fired <= formula + t.interval, (t.long_window, case, formula, fired)
            assert fired == t.naive_fire_s[case], "windows up to 2h are computed exactly like the naive rules"


def test_derived_window_tiers_lag_the_naive_rules_by_at_most_the_measured_bound(measured):
    lags = []
    for t in (t for t in measured.tiers if t.derived):
        for case, formula in t.formula_s.items():
            naive, fired = t.naive_fire_s[case], t.first_fire_s[case]
            if formula is None:
                assert naive is None and fired is None, (t.long_window, case)
                continue
            assert formula <= naive <= formula + t.interval, (t.long_window, case, formula, naive)
            lag = fired - naive
            assert 0 <= lag <= Q.lag_bound_s(t.interval), (t.long_window, case, lag)
            lags.append((t.interval, lag))
    # At a 1m interval the lag is the 5m rate's centre, (5m - 1m) / 2 = 2 minutes, not more.
    assert {lag for interval, lag in lags if interval == 60} == {120.0}


def test_no_alert_before_its_short_window_agrees(measured):
    for t in measured.tiers:
        for case, fired in t.first_fire_s.items():
            if fired is not None:
                assert t.short_agrees_s[case] is not None and fired >= t.short_agrees_s[case], (t.long_window, case)


def test_a_one_minute_spike_of_20_percent_pages_nobody(measured):
    assert not any(t.spike_fired for t in measured.tiers)


def test_alerts_resolve_within_their_short_window_after_recovery(measured):
    for t in measured.tiers:
        short = Q.duration_seconds(t.short_window)
        assert t.resolved_after_s is not None, t.long_window
        assert 0 < t.resolved_after_s <= short + t.interval, (t.long_window, t.resolved_after_s)


def test_derived_long_windows_match_naive_ratios_within_one_percent(measured):
    assert set(measured.equivalence) == {"6h", "1d", "3d"}
    for window, (difference, _interval) in measured.equivalence.items():
        assert 0 <= difference < 0.01, (window, difference)


def test_the_published_table_is_the_measured_one(measured):
    doc = Q.DOC.read_text(encoding="utf-8")
    assert Q.generated_part(doc) == Q.document(measured), "docs/alert-quality.md is stale: run `python -m tests.rules.quality --write`"


def test_alerting_md_quotes_the_measured_numbers(measured):
    doc = (Q.REPO / "docs" / "alerting.md").read_text(encoding="utf-8")
    for window, (difference, _interval) in measured.equivalence.items():
        assert f"{difference * 100:.2f}% ({window})" in doc, window
    lags = Q.derived_lags(measured, 60)
    assert f"measured {lags[0] / 60:.0f} minutes at a 1m evaluation interval" in doc
