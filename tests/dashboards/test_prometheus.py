"""Every dashboard query against a real Prometheus loaded with the generated rules.

Prometheus (the Debian package) starts on 127.0.0.1 with a TSDB backfilled by
`promtool tsdb create-blocks-from openmetrics` from eight days of synthetic
data for every catalog metric (synthetic.py), and evaluates the generated
recording and alerting rules every second. Then every panel query, every
variable query and every annotation query of every generated dashboard runs
through the HTTP API, with Grafana's variables substituted twice: with All
(`.*`) and with a real value of each variable (the first value its own query
returns). Each must succeed (no PromQL error) and return data: instant
queries at least one sample, range queries at least one series.

One exception, stated in the assertion: a query that compares a recorded
series with itself a week earlier (`... offset 1w` on a slokit recording)
cannot have a week-old recording in a Prometheus that started seconds ago; it
must run without error, and the same query without the offset must return
data (so its names and labels are right). Offsets on raw catalog metrics are
checked as written: the backfill has the week-old data.

Tempo (TraceQL) panels cannot run here; their queries are checked as text in
test_lint.py.
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest
import yaml

from support.prometheus import PrometheusError, PrometheusServer, binary

from .harness import Query, all_queries, dashboards, example_outputs, promql_of, queries, selectors
from .synthetic import openmetrics

RANGE = 1800
STEP = 30
RULES_READY_TIMEOUT = 90


@pytest.fixture(scope="module")
def loaded_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    from slokit.project import load_project

    from .harness import EXAMPLE

    work = tmp_path_factory.mktemp("dashboards-prometheus")
    outputs = example_outputs()
    rule_files = []
    for path, text in outputs.items():
        if path.endswith(".rules.yaml"):
            target = work / "rules" / Path(path).name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            rule_files.append(target)
    catalog = load_project([EXAMPLE]).catalog
    data_file = work / "history.om"
    with data_file.open("w") as f:
        f.writelines(openmetrics(catalog, end=int(time.time())))
    result = subprocess.run([binary("promtool"), "tsdb", "create-blocks-from", "openmetrics", "--quiet",
                             "--max-block-duration=240h", str(data_file), str(work / "prometheus" / "data")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"promtool backfill failed:\n{result.stdout}\n{result.stderr}"
    data_file.unlink()
    config = {"global": {"scrape_interval": "15s", "evaluation_interval": "1s"},
              "rule_files": [str(p) for p in rule_files]}
    server = PrometheusServer(config, work / "prometheus")
    server.start()
    try:
        wait_for_recordings(server, rule_files)
        yield server
    finally:
        server.stop()


def recorded_names(rule_files: list[Path]) -> set[str]:
    names = set()
    for path in rule_files:
        for group in yaml.safe_load(path.read_text())["groups"]:
            names.update(r["record"] for r in group["rules"] if "record" in r)
    return names


def wait_for_recordings(server: PrometheusServer, rule_files: list[Path]) -> None:
    """Until every recording rule has produced a series (each rule group evaluated at least once)."""
    wanted = recorded_names(rule_files)
    deadline = time.monotonic() + RULES_READY_TIMEOUT
    missing = wanted
    while time.monotonic() < deadline:
        missing = wanted - server.client.series_names()
        if not missing:
            time.sleep(2)  # a second evaluation, so rules reading other recordings see them
            return
        time.sleep(0.5)
    raise AssertionError(f"recording rules without output after {RULES_READY_TIMEOUT}s: {sorted(missing)}")


_RECORDED_OFFSET = re.compile(r"((?:slo|slo_budget):[A-Za-z0-9_:]+(?:\{[^}]*\})?) offset \w+")


def has_recorded_offset(expr: str) -> bool:
    return bool(_RECORDED_OFFSET.search(expr))


def run(server: PrometheusServer, query: Query, expr: str, now: float) -> int:
    """Number of series (or samples) returned; raises PrometheusError on a PromQL error."""
    client = server.client
    if query.kind == "panel" and query.instant:
        return len(client.query(expr, time=now))
    if query.kind == "variable":
        return len(client.query(expr, time=now))
    return len(client.query_range(expr, now - RANGE, now, STEP))


def check(server: PrometheusServer, query: Query, values: dict[str, str], now: float) -> str | None:
    """None when the query answers with data, else what went wrong."""
    expr = promql_of(query, values)
    where = f"{query.dashboard} / {query.kind} {query.panel!r} {query.ref_id}".rstrip()
    try:
        found = run(server, query, expr, now)
        if found == 0 and has_recorded_offset(expr):
            run(server, query, expr, now)  # must not error
            found = run(server, query, _RECORDED_OFFSET.sub(r"\1", expr), now)
            if found == 0:
                return f"{where}: no data even without the offset on recorded series\n{expr}"
            return None
    except PrometheusError as exc:
        return f"{where}: PromQL error {exc}\n{expr}"
    return None if found else f"{where}: no data with {values}\n{expr}"


_OWN_SERVICE = re.compile(r'\bservice="([^"]+)"')
ALL = {"datasource": "prometheus", "feature": ".*", "model": ".*", "service": ".*", "team": ".*", "slo": ".*"}


def test_every_query_answers_with_all_selected(loaded_prometheus: PrometheusServer) -> None:
    now = time.time()
    problems = [p for q in all_queries() if (p := check(loaded_prometheus, q, ALL, now))]
    assert not problems, f"{len(problems)} queries failed:\n\n" + "\n\n".join(problems)


def grafana_regex_escape(value: str) -> str:
    """How Grafana's Prometheus datasource writes a variable value into a `=~` matcher:
    regex metacharacters escaped with a backslash that is itself escaped for the PromQL string."""
    return re.sub(r"([\\^$*+?.()|{}\[\]])", r"\\\\\1", value)


def first_values(server: PrometheusServer, path: str, dashboard: dict, now: float) -> dict[str, str]:
    """Each variable's first value from its own label_values query, in dependency order."""
    values = dict(ALL)
    for variable in dashboard["templating"]["list"]:
        if variable["type"] != "query":
            continue
        query = next(q for q in queries(path, dashboard) if q.kind == "variable" and q.panel == variable["name"])
        result = server.client.query(promql_of(query, values), time=now)
        found = sorted({s["metric"].get(variable["name"]) for s in result} - {None})
        assert found, f"{path}: variable {variable['name']} has no values ({query.expr})"
        values[variable["name"]] = grafana_regex_escape(found[0])
    return values


def test_every_query_answers_for_a_real_variable_value(loaded_prometheus: PrometheusServer) -> None:
    now = time.time()
    problems = []
    for path, dashboard in dashboards().items():
        values = first_values(loaded_prometheus, path, dashboard, now)
        for q in queries(path, dashboard):
            # A panel of one service's row selects that service: choose it in the service variable.
            own = _OWN_SERVICE.search(q.expr)
            chosen = {**values, "service": grafana_regex_escape(own.group(1))} if own else values
            if (p := check(loaded_prometheus, q, chosen, now)):
                problems.append(p)
    assert not problems, f"{len(problems)} queries failed:\n\n" + "\n\n".join(problems)


def test_the_check_fails_on_a_wrong_query(loaded_prometheus: PrometheusServer) -> None:
    """The assertions above can fail: a misspelled metric has no data, bad PromQL is an error."""
    now = time.time()
    missing = Query("x", "p", "A", 'sum(rate(llm_request_total{feature=~"$feature"}[$__rate_interval]))', "panel")
    broken = Query("x", "p", "A", "sum(rate(llm_requests_total[$__rate_interval])", "panel")
    assert "no data" in (check(loaded_prometheus, missing, ALL, now) or "")
    assert "PromQL error" in (check(loaded_prometheus, broken, ALL, now) or "")


def test_histogram_panels_query_recent_buckets(loaded_prometheus: PrometheusServer) -> None:
    """Histogram queries read `_bucket` series the backfill wrote (le labels as Prometheus stores them)."""
    bucket_queries = [q for q in all_queries() if any((s.name or "").endswith("_bucket")
                                                      for s in selectors(promql_of(q, ALL)))]
    assert bucket_queries
    for q in bucket_queries:
        assert q.exemplar or any(o.exemplar for o in all_queries() if o.dashboard == q.dashboard
                                 and o.panel == q.panel), f"{q.dashboard} {q.panel}: no target asks for exemplars"
