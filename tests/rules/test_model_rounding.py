"""The rule-test model never expects a printed value Prometheus could round the other way."""

from __future__ import annotations

import pytest

from slokit.render.ruletests.prometheus_model import AmbiguousComparison, humanize, humanize_percentage


def test_a_value_on_a_printing_tie_is_ambiguous():
    # -9.2375 budget left prints -923.75%: the model's last bit decides between -923.7% and -923.8%, and
    # Prometheus sums in another order (seen: the model said -923.7%, promtool -923.8%).
    for v in (-9.2375, -9.2375 * (1 + 1e-12), 12.625):
        with pytest.raises(AmbiguousComparison):
            humanize_percentage(v) if v < 0 else humanize(v)


def test_values_away_from_a_tie_print_as_prometheus_does():
    assert humanize_percentage(-9.2371) == "-923.7%"
    assert humanize(32810.0) == "32.81k"
    assert humanize(0.0123) == "12.3m"
    assert humanize(0) == "0"
