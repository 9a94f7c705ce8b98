"""The parts of status, gate and report that need no Prometheus: arguments, selectors, the test, periods."""

from __future__ import annotations

import subprocess
from datetime import datetime, timezone

import pytest

from slokit.ops.gate import fisher_greater, z_critical
from slokit.ops.report import month_period, previous_month
from slokit.ops.selectors import SelectorError, parse_matchers, with_matchers
from support.fixtures import REPO_ROOT, slokit_argv


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*slokit_argv(), *args], capture_output=True, text=True, timeout=60, cwd=REPO_ROOT)


@pytest.mark.parametrize("text", ['a="b"} or vector(1) or {c="d"', "foo", 'x{a="b"}', "", '__name__="up"'])
def test_selectors_that_are_not_label_matchers_are_refused(text):
    with pytest.raises(SelectorError):
        parse_matchers(text)


def test_selector_values_are_quoted_once():
    matchers = parse_matchers(r'{track="ca\"n", model=~"sim-.*"}')
    assert with_matchers('llm_requests_total{status="ok"}', matchers) == \
        r'llm_requests_total{model=~"sim-.*", status="ok", track="ca\"n"}'
    with pytest.raises(SelectorError, match="already selects on"):
        with_matchers('llm_requests_total{status="ok"}', parse_matchers('status="error"'))


def test_fisher_one_sided():
    # 5/100 vs 0/100: P(X >= 5) under the hypergeometric of 5 bad in 200 split 100/100.
    assert fisher_greater(5, 100, 0, 100) == pytest.approx(0.0296, abs=5e-4)
    assert fisher_greater(0, 100, 5, 100) == pytest.approx(1.0)
    assert z_critical(0.01) == pytest.approx(2.326, abs=1e-3)


def test_calendar_months_are_exact():
    nov = month_period("2026-11")
    assert (nov.start, nov.end) == (datetime(2026, 11, 1, tzinfo=timezone.utc).timestamp(),
                                    datetime(2026, 12, 1, tzinfo=timezone.utc).timestamp())
    jan_before = previous_month("2027-01")
    assert jan_before.label == "December 2026" and jan_before.seconds == 31 * 86400
    assert nov.range == "[2591999999ms]"


@pytest.mark.parametrize("args, message", [
    (["gate", "--candidate", 'a="b"', "--baseline", 'a="c"', "--window", "abc", "--emit", "argo"],
     "is not a duration"),
    (["report", "--prometheus", "http://127.0.0.1:9", "--last", "xyz"], "is not a duration"),
    (["report", "--prometheus", "http://127.0.0.1:9", "--month", "2026-13"], "not a month"),
    (["report", "--prometheus", "http://127.0.0.1:9", "--month", "2026-11", "--last", "7d"], "exactly one of"),
    (["status", "--prometheus", "http://127.0.0.1:9", "nope/x"], "no service 'nope'"),
])
def test_usage_errors(args, message):
    proc = cli(*args)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr


def test_selector_clash_is_reported_before_querying():
    proc = cli("gate", "--prometheus", "http://127.0.0.1:9", "--candidate", 'status="ok"', "--baseline", 'status="x"',
               "--slo", "support-chatbot/api-success")
    assert proc.returncode == 1 and "already selects on" in proc.stderr and "cannot reach" not in proc.stderr


def test_report_templates_beside_slokit_yaml_win(tmp_path, monkeypatch):
    from pathlib import Path

    from slokit.ops.report import template_dir

    (tmp_path / "slos" / "templates").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert template_dir(None, (Path("slos"),)) == Path("slos") / "templates"
    (tmp_path / "slokit.yaml").write_text("version: 1\n")
    (tmp_path / "templates").mkdir()
    assert template_dir(None, (Path("slos"),)).resolve() == (tmp_path / "templates").resolve()
    assert template_dir(tmp_path / "x", ()) == tmp_path / "x"
