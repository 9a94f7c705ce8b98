"""The rule-test model never expects a printed value Prometheus could round the other way."""

from __future__ import annotations

from pathlib import Path

import pytest

from slokit.render.ruletests import promtool_tests as pt
from slokit.render.ruletests.prometheus_model import AmbiguousComparison, humanize, humanize_percentage, round_to

REPO = Path(__file__).resolve().parents[2]


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


@pytest.mark.parametrize("v", [
    0.0078125,  # 1/128: 7812.5 millionths exactly, a half-way point in binary too
    4.2421874999999964,  # 4 ulps under 4.2421875 (seen in the slow burn): Prometheus may compute it exactly
    4.2421875 * (1 + 2 ** -52),
    -0.0000025,  # round() goes up on the half: -2.5 millionths is -2 in Prometheus, -3 one ulp lower
    59250166.875 + 2 ** -7,  # a large value: noise counted in its own ulps, not relative to 1
])
def test_a_value_half_way_between_two_rounded_values_is_ambiguous(v):
    with pytest.raises(AmbiguousComparison, match="half-way"):
        round_to(v, 0.000001)


@pytest.mark.parametrize("v, rounded", [
    (0.0, 0.0),
    (1.0, 1.0),
    (0.070313, 0.070313),
    (0.0009765625, 0.000977),  # 976.5625 millionths: 0.0625 from the half, far beyond float noise
    (4.2421876, 4.242188),
    (-0.0470424, -0.047042),
    (59250166.875, 59250166.875),  # 6e7: rounding to a millionth keeps it, though 1e-9 of it is 60 millionths
    (328500157.5, 328500157.5),
])
def test_values_off_a_half_way_point_round_as_prometheus_does(v, rounded):
    assert round_to(v, 0.000001) == rounded



def _service(tmp_path):
    import shutil

    from slokit.plan import build_plan
    from slokit.project import load_project

    d = tmp_path / "specs"
    d.mkdir()
    for name in ("catalog.yaml", "support-chatbot.yaml"):
        shutil.copy(REPO / "slos" / name, d / name)
    plan = build_plan(load_project([d / "support-chatbot.yaml"], d / "catalog.yaml"))
    return plan.services[0], plan.catalog


def test_a_scenario_on_a_tie_takes_another_input_variant_alone(tmp_path, monkeypatch):
    service, catalog = _service(tmp_path)
    before = pt.build_tests(service, catalog)
    real, seen = pt.budget_exhaustion, []

    def first_pace_ties(inputs, paces=pt.EXHAUST_PACES[0]):
        seen.append(paces)
        if paces == pt.EXHAUST_PACES[0]:
            raise AmbiguousComparison("a tie")
        return real(inputs, paces)

    monkeypatch.setattr(pt, "budget_exhaustion", first_pace_ties)
    after = pt.build_tests(service, catalog)
    assert seen == [pt.EXHAUST_PACES[0], pt.EXHAUST_PACES[1]]
    names = lambda t: [g["name"] for g in t.main["tests"]]
    assert len(names(after)) == len(names(before))
    # Only the budget scenarios changed: the others kept the first variant.
    changed = [a for a, b in zip(names(after), names(before)) if a != b]
    assert changed and all(f"spends {pt.EXHAUST_PACES[1][0]}x its pace" in n for n in changed)
    assert not [n for n in after.notes if n.startswith("Left out:")]


def test_a_scenario_on_a_tie_for_every_variant_is_left_out_with_a_note(tmp_path, monkeypatch):
    service, catalog = _service(tmp_path)
    before = pt.build_tests(service, catalog)

    def always_ties(inputs):
        raise AmbiguousComparison("0.5 prints within float noise of a rounding tie")

    monkeypatch.setattr(pt, "zero_then_gone", always_ties)
    after = pt.build_tests(service, catalog)
    assert len(after.main["tests"]) == len(before.main["tests"]) - 1
    (note,) = [n for n in after.notes if n.startswith("Left out:")]
    assert "zero traffic, then no data" in note and "0.5 prints within float noise" in note
    text = pt.render_service(service, catalog)["alerts/tests/support-chatbot.test.yaml"]
    assert f"# {note}" in text


def test_the_bundled_example_leaves_no_scenario_out():
    # The committed tests (`generate --check` keeps them current): every scenario found an input variant
    # off every threshold and rounding tie.
    files = sorted((REPO / "alerts" / "tests").glob("*.test.yaml"))
    assert files
    for path in files:
        assert "Left out:" not in path.read_text(encoding="utf-8"), path.name
