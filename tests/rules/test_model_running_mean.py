"""The rule-test model's running avg_over_time states give the bits of avg_over_time recomputed from scratch."""

from __future__ import annotations

import random

import pytest

from slokit.render.ruletests.prometheus_model import avg_over_time, expand, mean_step


@pytest.mark.parametrize("seed", range(5))
def test_running_states_equal_the_mean_of_every_prefix(seed):
    rng = random.Random(seed)
    # Magnitudes far apart and signs mixed, so the compensation term takes both branches.
    values = [rng.choice((1, -1)) * rng.random() * 10 ** rng.randint(-12, 12) for _ in range(400)]
    values[50:60] = [0.1] * 10  # a run of one value, as a steady synthetic rate gives
    state = (0.0, 0.0, 0.0)
    for n, v in enumerate(values, 1):
        state = mean_step(*state, v)
        count, mean, c = state
        assert count == n
        assert (mean + c).hex() == avg_over_time(values[:n]).hex()


def test_an_unknown_template_construct_is_refused_after_the_text_before_it():
    calls = []
    with pytest.raises(ValueError, match="template construct the model does not know"):
        expand("{{ $labels.slo }} {{ .Unknown }}", {"slo": "x"}, 1.0, lambda q: calls.append(q) or [])
    # The same template again (its parse is cached) is refused the same way.
    with pytest.raises(ValueError, match="template construct the model does not know"):
        expand("{{ $labels.slo }} {{ .Unknown }}", {"slo": "x"}, 1.0, lambda q: [])
    assert expand("a {{ $labels.slo }} b {{ $value | humanize }}", {"slo": "x"}, 1500.0, lambda q: []) == "a x b 1.5k"
