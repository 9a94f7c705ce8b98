"""Typed selectors beyond value lists: `{regex: ...}`, `{not: [...]}`, a histogram's or summary's `_count`
as events, and Prometheus naming conventions as warnings (errors with --strict).

Per stage: the model reads the forms, validate checks them against the catalog's declared values
(positioned errors), the plan renders them as PromQL (escaped once), explain says what a regex selects,
and the real promtool evaluates the rendered rules on series a regex must and must not count.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from slokit.cli import main
from slokit.errors import SlokitError
from slokit.explain import explain
from slokit.model import LabelMatch, Selector
from slokit.plan import build_plan
from slokit.project import load_project
from support.prometheus import binary

CATALOG = """\
version: 1
labels:
  code: {values: ["200", "404", "500", "503"]}
  verb: {values: [GET, POST, WATCH, CONNECT]}
  tenant: {max_cardinality: 100}
metrics:
  http_request_duration_seconds:
    type: histogram
    unit: seconds
    help: Request latency.
    labels: [code, verb, tenant]
    buckets: [0.1, 0.5, 1]
  rpc_latency_seconds:
    type: summary
    unit: seconds
    help: RPC latency.
    labels: [code]
"""


def project(tmp_path: Path, slos: str, catalog: str = CATALOG, scope: str = "") -> Path:
    (tmp_path / "catalog.yaml").write_text(catalog)
    (tmp_path / "api.yaml").write_text(f"version: 1\nservice: api\nowner: web\n{scope}slos:\n{slos}")
    return tmp_path


def ratio(bad: str, total: str = "{metric: http_request_duration_seconds_count}") -> str:
    return (f"  - name: errors\n    objective: 99\n    sli:\n      ratio:\n        bad: {bad}\n"
            f"        total: {total}\n")


def validate(path: Path, *options: str):
    return CliRunner().invoke(main, [*options, "validate", str(path)])


def sli_of(path: Path):
    plan = build_plan(load_project([path]))
    return plan.services[0].slos[0].sli


# -- model -----------------------------------------------------------------


def test_the_model_reads_values_lists_regexes_and_exclusions():
    sel = Selector.model_validate({"metric": "x_total", "match": {
        "a": "v", "b": ["v", "w"], "c": {"regex": "5.."}, "d": {"not": ["WATCH", "CONNECT"]}, "e": {"not": "X"},
        "f": {"regex": "g.*", "not": ["gx"]}}})
    assert sel.match["a"] == "v" and sel.match["b"] == ["v", "w"]
    assert sel.match["c"] == LabelMatch(regex="5..") and sel.match["c"].excluded == []
    assert sel.match["d"].excluded == ["WATCH", "CONNECT"] and sel.match["e"].excluded == ["X"]
    assert sel.match["f"].regex == "g.*" and sel.match["f"].excluded == ["gx"]


# -- plan: PromQL ---------------------------------------------------------


def test_regex_and_exclusions_render_as_anchored_prometheus_matchers(tmp_path):
    path = project(tmp_path, ratio(
        '{metric: http_request_duration_seconds_count, match: {code: {regex: "5.."}, verb: {not: [WATCH, CONNECT]}}}',
        '{metric: http_request_duration_seconds_count, match: {verb: {not: WATCH}}}'))
    sli = sli_of(path)
    assert sli.events_query == 'http_request_duration_seconds_count{code=~"5..", verb!~"CONNECT|WATCH"}'
    assert sli.total_query == 'http_request_duration_seconds_count{verb!="WATCH"}'
    assert sli.metrics == ("http_request_duration_seconds",)  # the histogram, not its series


def test_a_regex_is_escaped_once_for_the_promql_string(tmp_path):
    # YAML single quotes keep the backslash: the regex is `a\.b|"c"`; PromQL needs `\\` and `\"` inside "...".
    path = project(tmp_path, ratio(
        """{metric: http_request_duration_seconds_count, match: {tenant: {regex: 'a\\.b|"c"'}}}"""))
    assert sli_of(path).events_query == 'http_request_duration_seconds_count{tenant=~"a\\\\.b|\\"c\\""}'
    # ... and promtool reads it back as the same regex (checked below by evaluation).


def test_a_regex_narrows_the_service_scope_instead_of_replacing_it(tmp_path):
    path = project(tmp_path, ratio('{metric: http_request_duration_seconds_count, match: {code: {regex: "5.."}}}'),
                   scope='scope: {code: ["500", "200"]}\n')
    sli = sli_of(path)
    assert sli.events_query == 'http_request_duration_seconds_count{code=~"200|500", code=~"5.."}'
    assert sli.total_query == 'http_request_duration_seconds_count{code=~"200|500"}'  # scope on _count too


def test_a_summary_count_is_a_ratio_sli(tmp_path):
    path = project(tmp_path, ratio('{metric: rpc_latency_seconds_count, match: {code: {not: ["200", "404"]}}}',
                                   "{metric: rpc_latency_seconds_count}"))
    assert sli_of(path).events_query == 'rpc_latency_seconds_count{code!~"200|404"}'


def test_explain_says_which_declared_values_a_regex_selects(tmp_path):
    path = project(tmp_path, ratio('{metric: http_request_duration_seconds_count, match: {code: {regex: "5.."}, '
                                   'verb: {regex: "[A-Z]+T", not: [POST]}}}'))
    text = explain(build_plan(load_project([path])))
    assert '  code=~"5.." selects 500, 503 of the declared values\n' in text
    assert '  verb=~"[A-Z]+T" verb!="POST" selects GET, CONNECT of the declared values\n' in text


# -- validate: positioned errors -----------------------------------------------


@pytest.mark.parametrize("match, where, message", [
    ('{code: {regex: "5(0"}}', '"5(0"', "regex '5(0' for label 'code' is not valid RE2: missing ): 5(0"),
    ('{code: {regex: "\\\\1"}}', '"\\\\1"', "regex '\\\\1' for label 'code' is not valid RE2"),
    ('{code: {regex: "3.."}}', '"3.."', "regex '3..' selects none of the declared values of label 'code' "
                                        "(200, 404, 500, 503)"),
    ('{code: {regex: "50"}}', '"50"', "regex '50' selects none of the declared values"),  # anchored: not 500
    ('{verb: {not: [GET, POST, WATCH, CONNECT]}}', "[GET",    "this selects no value of label 'verb': every "
                                                            "declared value is excluded by `not`"),
    ('{code: {regex: "5..", not: ["500", "503"]}}', "{regex", "every value the regex selects is excluded"),
    ('{verb: {not: [PUT]}}', "PUT", "value 'PUT' is not allowed for label 'verb'"),
    ("{verb: {not: []}}", "[]", "empty `not` list for label 'verb' excludes nothing"),
    ("{verb: {}}", "{}", "the match of label 'verb' has neither `regex` nor `not`"),
    ('{tenant: {regex: "(?=x)"}}', '"(?=x)"', "is not valid RE2: invalid perl operator: (?="),
])
def test_bad_regexes_and_exclusions_are_positioned_errors(tmp_path, match, where, message):
    path = project(tmp_path, ratio(f"{{metric: http_request_duration_seconds_count, match: {match}}}"))
    with pytest.raises(SlokitError) as info:
        load_project([path])
    errors = [d for d in info.value.diagnostics if d.is_error]
    assert len(errors) == 1, [d.format() for d in errors]
    line = (path / "api.yaml").read_text().splitlines()[errors[0].line - 1]
    assert line[errors[0].column - 1:].startswith(where) and message in errors[0].message, errors[0].format()
    result = validate(path)
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_a_label_with_only_a_cap_accepts_any_valid_regex_and_exclusion(tmp_path):
    path = project(tmp_path, ratio('{metric: http_request_duration_seconds_count, match: '
                                   '{tenant: {regex: "acme-.*", not: [acme-test]}}}'))
    assert sli_of(path).events_query == \
        'http_request_duration_seconds_count{tenant!="acme-test", tenant=~"acme-.*"}'


def test_a_bucket_series_is_not_an_event_counter(tmp_path):
    path = project(tmp_path, ratio("{metric: http_request_duration_seconds_bucket}"))
    result = validate(path)
    assert result.exit_code == 1
    assert ("api.yaml:9:23: ratio SLIs count events with counters, but http_request_duration_seconds_bucket is "
            "the _bucket series of histogram http_request_duration_seconds\n"
            "  hint: count its observations with http_request_duration_seconds_count") in result.stderr


# -- validate: bad (or good) must be a subset of total -------------------------

COUNT = "http_request_duration_seconds_count"


@pytest.mark.parametrize("part, total, where, warning", [
    # total leaves out WATCH and CONNECT, bad does not filter verb: it counts them (the exporters example's bug)
    ('{code: {regex: "5.."}}', "{verb: {not: [WATCH, CONNECT]}}", "{code",
     "bad counts verb WATCH, CONNECT, which total leaves out (verb: {not: [WATCH, CONNECT]})"),
    ("{verb: [GET, WATCH]}", "{verb: [GET, POST]}", "verb",
     "bad counts verb WATCH, which total leaves out (verb: [GET, POST])"),
    ('{verb: {regex: ".*T"}}', '{verb: {regex: "G.*|P.*"}}', "verb",
     'bad counts verb CONNECT, which total leaves out (verb: {regex: "G.*|P.*"})'),
    # a label with only a cap: only an unfiltered part against a filtered total is certain
    ('{code: "500"}', '{tenant: {regex: "acme-.*"}}', "{code",
     'bad counts tenant any value, which total leaves out (tenant: {regex: "acme-.*"})'),
    # subsets: no warning
    ('{code: {regex: "5.."}, verb: {not: [WATCH, CONNECT]}}', "{verb: {not: [WATCH, CONNECT]}}", None, None),
    ('{verb: GET}', '{verb: [GET, POST]}', None, None),
    ('{verb: {regex: "P.*"}}', '{verb: {not: [WATCH]}}', None, None),
    ('{tenant: {regex: "acme-x.*"}}', '{tenant: {regex: "acme-.*"}}', None, None),  # not compared: no values
    ('{code: "500"}', '{tenant: {regex: ".*"}}', None, None),
])
def test_a_part_that_is_not_a_subset_of_total_is_a_positioned_warning(tmp_path, part, total, where, warning):
    path = project(tmp_path, ratio(f"{{metric: {COUNT}, match: {part}}}", f"{{metric: {COUNT}, match: {total}}}"))
    result = validate(path)
    assert result.exit_code == 0, result.output
    found = [line for line in result.stderr.splitlines() if "leaves out" in line]
    if warning is None:
        assert not found, result.stderr
        assert validate(path, "--strict").exit_code == 0
        return
    assert len(found) == 1 and warning in found[0] and ": warning: " in found[0], result.stderr
    assert "bad events must be a subset of total's, or the error ratio is off" in found[0]
    assert "  hint: give bad the same filter as total: " in result.stderr
    line_no, column = (int(n) for n in found[0].split(": warning")[0].rsplit(":", 2)[1:])
    line = (path / "api.yaml").read_text().splitlines()[line_no - 1]
    assert line[column - 1:].startswith(where), (line, column)
    strict = validate(path, "--strict")
    assert strict.exit_code == 1 and "leaves out" in strict.stderr


def test_good_must_be_a_subset_of_total_too_and_other_metrics_are_not_compared(tmp_path):
    good = (f"  - name: ok\n    objective: 99\n    sli:\n      ratio:\n        good: {{metric: {COUNT}, match: "
            f"{{verb: [GET, WATCH]}}}}\n        total: {{metric: {COUNT}, match: {{verb: {{not: WATCH}}}}}}\n")
    result = validate(project(tmp_path, good))
    assert ("good counts verb WATCH, which total leaves out (verb: {not: WATCH}): good events must be a subset "
            "of total's, or the success ratio is off") in result.stderr
    other = ratio("{metric: rpc_latency_seconds_count}", f"{{metric: {COUNT}, match: {{code: \"200\"}}}}")
    assert "leaves out" not in validate(project(tmp_path, other)).stderr


# -- naming conventions: warnings, errors under --strict -------------------------


EXPORTER_CATALOG = """\
version: 1
labels:
  status: {max_cardinality: 60}
metrics:
  nginx_ingress_controller_requests:
    type: counter
    unit: requests
    help: Requests.
    labels: [status]
  "vllm:e2e_request_latency_seconds":
    type: histogram
    unit: seconds
    help: Latency.
    buckets: [1, 5]
  istio_request_duration_milliseconds:
    type: histogram
    unit: milliseconds
    help: Latency.
    buckets: [100, 500]
"""


def test_conventions_are_positioned_warnings_and_strict_makes_them_errors(tmp_path):
    path = project(tmp_path, ratio("{metric: nginx_ingress_controller_requests, match: {status: {regex: '5..'}}}",
                                   "{metric: nginx_ingress_controller_requests}"), catalog=EXPORTER_CATALOG)
    result = validate(path)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if not line.startswith("  hint")]
    assert lines == [
        f"{path / 'catalog.yaml'}:5:3: warning: counter nginx_ingress_controller_requests does not end in _total, "
        "as the Prometheus convention has counters do",
        f"{path / 'catalog.yaml'}:10:3: warning: metric name 'vllm:e2e_request_latency_seconds' contains ':', "
        "which the Prometheus convention keeps for recording rules",
        f"{path / 'catalog.yaml'}:17:11: warning: unit 'milliseconds' is not a base unit (the Prometheus "
        "convention is seconds)",
        "3 warnings"]
    assert "or mark it `third_party: true`" in result.stderr
    strict = validate(path, "--strict")
    assert strict.exit_code == 1 and strict.stderr.rstrip().endswith("3 errors")
    assert "warning:" not in strict.stderr
    # third_party: no advice at all.
    data = yaml.safe_load(EXPORTER_CATALOG)
    for metric in data["metrics"].values():
        metric["third_party"] = True
    (path / "catalog.yaml").write_text(yaml.safe_dump(data))
    quiet = validate(path, "--strict")
    assert quiet.exit_code == 0 and "warning" not in quiet.stderr, quiet.output


def test_reserved_names_and_series_collisions_stay_errors(tmp_path):
    catalog = CATALOG + ("  http_request_duration_seconds_count:\n    type: counter\n    unit: requests\n"
                         "    help: x\n  __secret_total:\n    type: counter\n    unit: requests\n    help: x\n")
    path = project(tmp_path, ratio("{metric: __secret_total}", "{metric: __secret_total}"), catalog=catalog)
    result = validate(path)
    assert result.exit_code == 1
    assert "collides with a series of histogram http_request_duration_seconds" in result.stderr
    assert "metric name '__secret_total' starts with '__'" in result.stderr


# -- real promtool: what the rendered matchers select -------------------------


def test_promtool_counts_exactly_the_series_the_regex_and_exclusions_select(tmp_path):
    """5xx by regex, WATCH/CONNECT excluded; 404, 5030 (not anchored-matched) and WATCH 500 are not counted."""
    path = project(tmp_path, ratio(
        '{metric: http_request_duration_seconds_count, match: {code: {regex: "5.."}, verb: {not: [WATCH, CONNECT]}, '
        """tenant: {regex: 'a\\.b|"c"'}}}"""))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["generate", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rules = out / "alerts" / "api.rules.yaml"
    series = {  # labels -> per-minute increase
        'code="500", verb="GET", tenant="a.b"': 60,     # counted
        'code="503", verb="POST", tenant="\\"c\\""': 60,  # counted: the quote survived escaping once
        'code="503", verb="POST", tenant="axb"': 100,  # `.` was escaped: not counted
        'code="500", verb="WATCH", tenant="a.b"': 100,  # excluded verb
        'code="5030", verb="GET", tenant="a.b"': 100,  # anchored regex: not 5xx
        'code="404", verb="GET", tenant="a.b"': 100,
    }
    test = {"rule_files": [str(rules)], "evaluation_interval": "1m", "tests": [{
        "interval": "1m",
        "input_series": [{"series": f"http_request_duration_seconds_count{{{labels}}}", "values": f"0+{inc}x30"}
                         for labels, inc in series.items()],
        "promql_expr_test": [{"expr": 'slo:bad_events:rate5m{service="api"}', "eval_time": "20m",
                              "exp_samples": [{"labels": 'slo:bad_events:rate5m{service="api", slo="errors"}',
                                               "value": 2}]}],  # (60 + 60) per minute
    }]}
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(test))
    proc = subprocess.run([binary("promtool"), "test", "rules", str(tmp_path / "t.yaml")], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    generated = CliRunner().invoke(main, ["test", str(out / "alerts" / "tests")])
    assert generated.exit_code == 0, generated.output
    assert "no synthetic input" not in (out / "alerts" / "tests" / "api.test.yaml").read_text()
