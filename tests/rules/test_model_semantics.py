"""The rule-test expectation model under Prometheus 2 and Prometheus 3 range semantics.

Prometheus 2 ranges are closed ([t - w, t]), Prometheus 3 ranges left-open
((t - w, t]); on promtool's sample grid a sample sits exactly on every range's
start, so the two differ there. Known windows at boundary instants are computed
by hand below. Prometheus 2.42's promtool runs here and must agree with the
Prometheus 2 model and disagree with the Prometheus 3 one on the same instants;
Prometheus 3 cannot be installed here, so its side is checked against the hand
computation only (docs/alerting.md says so).
"""

from __future__ import annotations

import subprocess

import pytest
import yaml

from slokit.render.ruletests.prometheus_model import (
    PROMETHEUS_2,
    PROMETHEUS_3,
    Points,
    Semantics,
    Series,
    counter_rate,
    normalised_float,
    semantics_of_promtool,
)

from .promtool import promtool, run_tests

STEP = 60
# A counter that is 0 up to 5m and 10 from 6m on: the jump lies between the samples at 300s and 360s.
JUMP = Series("x_total", (("job", "j"),), tuple(0.0 if i <= 5 else 10.0 for i in range(11)))
LINEAR = Series("y_total", (("job", "j"),), tuple(float(i) for i in range(11)))


def points(series: Series) -> Points:
    return Points.of(series, STEP)


def test_windows_at_a_boundary_instant():
    p = points(LINEAR)
    # At t = 600, [5m] starts at 300, where a sample sits.
    assert p.window(300, 600, PROMETHEUS_2) == (5, 11)   # 300, 360, ..., 600: 6 samples
    assert p.window(300, 600, PROMETHEUS_3) == (6, 11)   # 360, ..., 600: 5 samples
    # Off the grid, both agree.
    assert p.window(330, 630, PROMETHEUS_2) == p.window(330, 630, PROMETHEUS_3) == (6, 11)
    assert PROMETHEUS_2.first_in_range([0, 60, 120], 60) == 1 and PROMETHEUS_3.first_in_range([0, 60, 120], 60) == 2


def test_rate_of_a_jump_just_after_the_range_start():
    # Prometheus 2 sees (300, 0) and (600, 10): 10 over 300s, no extrapolation needed (both ends on the range).
    assert counter_rate(points(JUMP), 600, 300, PROMETHEUS_2) == pytest.approx(10 / 300)
    # Prometheus 3 sees 360 .. 600, all 10: no increase.
    assert counter_rate(points(JUMP), 600, 300, PROMETHEUS_3) == 0.0
    # A steady counter: 3's missing first sample is made up by extrapolating 60s to the range start.
    assert counter_rate(points(LINEAR), 600, 300, PROMETHEUS_2) == pytest.approx(1 / 60)
    assert counter_rate(points(LINEAR), 600, 300, PROMETHEUS_3) == pytest.approx(1 / 60)
    # Two samples are needed: a 1m range at a grid instant holds 2 samples in 2, one in 3.
    assert counter_rate(points(LINEAR), 600, 60, PROMETHEUS_2) == pytest.approx(1 / 60)
    assert counter_rate(points(LINEAR), 600, 60, PROMETHEUS_3) is None


def promtool_value(tmp_path, series: Series, expr: str, at: str, expected: float) -> subprocess.CompletedProcess:
    test = {"rule_files": [], "evaluation_interval": "1m", "tests": [{
        "interval": "1m",
        "input_series": [{"series": series.text(), "values": " ".join(str(v) for v in series.values)}],
        "promql_expr_test": [{"expr": expr, "eval_time": at, "exp_samples": [{"labels": "{job=\"j\"}",
                                                                              "value": expected}]}],
    }]}
    path = tmp_path / "boundary.test.yaml"
    path.write_text(yaml.safe_dump(test, sort_keys=False))
    return run_tests(path)


@pytest.mark.parametrize(("series", "expr", "range_s"), [(JUMP, "rate(x_total[5m])", 300),
                                                         (LINEAR, "rate(y_total[1m])", 60)])
def test_installed_promtool_follows_the_prometheus_2_model(tmp_path, series, expr, range_s):
    version = subprocess.run([promtool(), "--version"], capture_output=True, text=True, timeout=60)
    semantics = semantics_of_promtool(version.stdout + version.stderr)
    assert semantics == PROMETHEUS_2, "this machine's promtool is expected to be 2.x (Debian's 2.42)"
    two = counter_rate(points(series), 600, range_s, PROMETHEUS_2)
    three = counter_rate(points(series), 600, range_s, PROMETHEUS_3)
    assert two is not None and two != three
    assert promtool_value(tmp_path, series, expr, "10m", two).returncode == 0
    # The Prometheus 3 expectation fails in Prometheus 2: the two semantics are told apart at this instant.
    failed = promtool_value(tmp_path, series, expr, "10m", three if three is not None else 0.0)
    assert failed.returncode != 0, failed.stdout


def test_count_over_time_at_a_boundary_in_promtool(tmp_path):
    """promtool 2.42: count_over_time(y[5m]) at 10m holds 6 samples, the Prometheus 2 window."""
    lo, hi = points(LINEAR).window(300, 600, PROMETHEUS_2)
    assert promtool_value(tmp_path, LINEAR, "count_over_time(y_total[5m])", "10m", hi - lo).returncode == 0
    lo3, hi3 = points(LINEAR).window(300, 600, PROMETHEUS_3)
    assert hi3 - lo3 == 5
    assert promtool_value(tmp_path, LINEAR, "count_over_time(y_total[5m])", "10m", hi3 - lo3).returncode != 0


@pytest.mark.parametrize(("written", "stored"), [
    ("1", "1.0"), ("0.25", "0.25"), ("5", "5.0"), ("10", "10.0"), ("100000", "100000.0"), ("1e+06", "1e+06"),
    ("1000000", "1e+06"), ("0.0001", "0.0001"), ("0.00001", "1e-05"), ("1.5e-07", "1.5e-07"), ("2.5", "2.5"),
    ("+Inf", "+Inf"), ("0", "0.0"), ("-1", "-1.0"),
])
def test_le_values_as_prometheus_3_stores_them(written, stored):
    assert normalised_float(written) == stored
    assert PROMETHEUS_3.le(written) == stored
    assert PROMETHEUS_2.le(written) == written


@pytest.mark.parametrize(("output", "major"), [
    ("promtool, version 2.42.0+ds (branch: debian/sid, revision: 2.42.0+ds-5+deb12u1)", 2),
    ("promtool, version 3.1.0 (branch: HEAD, revision: 7f5f5ae8)", 3),
    ("promtool, version 3.0.0-rc.0 (branch: HEAD)", 3),
])
def test_semantics_from_the_version(output, major):
    assert semantics_of_promtool(output) == Semantics(major)


def test_unknown_versions_are_refused():
    with pytest.raises(ValueError):
        semantics_of_promtool("promtool (devel)")
    with pytest.raises(ValueError):
        Semantics(1)


# --------------------------------------------------------------------------
# slokit.yaml `prometheus_version`, through `slokit generate` and `slokit test`
# --------------------------------------------------------------------------


def generate_project(root, version: int | None):
    import shutil as _shutil

    from support.fixtures import REPO_ROOT, slokit_argv

    _shutil.copytree(REPO_ROOT / "slos", root / "slos")
    config = "version: 1\nspecs: [slos]\n" + (f"prometheus_version: {version}\n" if version else "")
    (root / "slokit.yaml").write_text(config)
    done = subprocess.run([*slokit_argv(), "generate"], cwd=root, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return sorted((root / "alerts" / "tests").glob("*.test.yaml"))


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    return {v: generate_project(tmp_path_factory.mktemp(f"p{v}"), v) for v in (2, 3)}


def test_prometheus_3_tests_differ_where_the_semantics_do(both):
    from slokit import naming as N

    two, three = both[2], both[3]
    assert [p.name for p in two] == [p.name for p in three] and two
    for p2, p3 in zip(two, three):
        text2, text3 = p2.read_text(), p3.read_text()
        assert N.RULE_TESTS_PROMETHEUS_MARKER not in text2
        assert f"# {N.RULE_TESTS_PROMETHEUS_MARKER}3 " in text3.splitlines()[2]
    chatbot2 = yaml.safe_load((two[0].parent / "support-chatbot.test.yaml").read_text())
    chatbot3 = yaml.safe_load((three[0].parent / "support-chatbot.test.yaml").read_text())
    series2 = {s["series"] for t in chatbot2["tests"] for s in t["input_series"]}
    series3 = {s["series"] for t in chatbot3["tests"] for s in t["input_series"]}
    # ttft-under-1s reads the 1s bucket: written le="1" for 2, le="1.0" (as Prometheus 3 stores it) for 3.
    assert any('le="1"' in s for s in series2) and not any('le="1.0"' in s for s in series2)
    assert any('le="1.0"' in s for s in series3) and not any('le="1"' in s for s in series3)
    # The same scenarios, other expected values next to the steps.
    assert [t["name"] for t in chatbot2["tests"]] == [t["name"] for t in chatbot3["tests"]]
    assert chatbot2["tests"] != chatbot3["tests"]


def test_installed_promtool_passes_the_2_tests_and_fails_the_3_tests(both):
    assert run_tests(*both[2]).returncode == 0
    failed = run_tests(*both[3])
    assert failed.returncode != 0 and "FAILED" in failed.stdout + failed.stderr


def test_slokit_test_warns_when_the_tests_expect_another_prometheus(both):
    from support.fixtures import slokit_argv

    root3 = both[3][0].parents[2]
    done = subprocess.run([*slokit_argv(), "test"], cwd=root3, capture_output=True, text=True, timeout=600)
    warnings = [line for line in done.stderr.splitlines() if "SLK303" in line or "range semantics" in line]
    assert len(warnings) == len(both[3]), done.stderr[:2000]
    assert all(":3:1: warning: these tests expect Prometheus 3's range semantics" in w for w in warnings)
    assert "prometheus_version: 2" in done.stderr
    root2 = both[2][0].parents[2]
    done = subprocess.run([*slokit_argv(), "test"], cwd=root2, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and "range semantics" not in done.stderr, done.stderr[:2000]


def test_semantics_warnings_for_unmarked_files_under_prometheus_3(both):
    from slokit.ruletest import semantics_warnings

    found = semantics_warnings(both[2], installed=3)
    assert [(d.path, d.line, d.column) for d in found] == [(str(p), 1, 1) for p in both[2]]
    assert all("prometheus_version: 3" in d.hint and d.code == "SLK303" for d in found)
    assert semantics_warnings(both[3], installed=3) == [] and semantics_warnings(both[2], installed=None) == []
