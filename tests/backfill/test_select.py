"""What `slokit backfill` writes: the records read in the past, how far back, in which pass; the holes it fills."""

from __future__ import annotations

from pathlib import Path

from slokit.backfill.run import Hole, holes
from slokit.backfill.select import plan_backfill, plan_group, reads
from slokit.plan import AlertingRule, RecordingRule, RuleGroup, build_plan
from slokit.project import load_project

from support.fixtures import REPO_ROOT

DAY = 86400


def rec(name: str, expr: str, **labels: str) -> RecordingRule:
    return RecordingRule(name, expr, tuple(sorted({"service": "s", **labels}.items())))


def test_reads_carry_range_offset_and_subquery_lookbacks() -> None:
    found = reads('avg_over_time(a{service="s"}[6h]) > 1.5 * b offset 1w and max_over_time(c[1h:1m] offset 1d)'
                  ' + rate(d[5m] offset 1h)')
    assert [(r.name, r.lookback_s) for r in found] == [("a", 6 * 3600), ("b", 7 * DAY), ("c", DAY + 3600),
                                                        ("d", 3600 + 300)]
    assert found[0].equals == (("service", "s"),)


def test_a_record_read_over_a_range_is_backfilled_and_its_instant_readers_are_not() -> None:
    group = RuleGroup("g", (
        rec("base:rate5m", "sum(rate(raw[5m]))"),
        rec("win:rate3d", 'avg_over_time(base:rate5m{service="s"}[3d])'),
        rec("ratio", 'win:rate3d{service="s"} / 2'),
        AlertingRule("A", 'ratio{service="s"} > 1', (), ()),
    ))
    planned = plan_group(group)
    assert [(r.rule.record, r.span_s, r.level) for r in planned.records] == [("base:rate5m", 3 * DAY, 1)]


def test_an_offset_read_pulls_its_inputs_one_pass_earlier_over_the_same_span() -> None:
    group = RuleGroup("g", (
        rec("usage:rate1h", "sum(rate(cost[1h]))", budget="x"),
        rec("usage:rate1h", "sum(rate(cost_other[1h]))", budget="y"),  # same name, other budget: not read
        rec("events:rate1h", "sum(rate(calls[1h]))", budget="x"),
        rec("per_event", 'usage:rate1h{budget="x", service="s"} / events:rate1h{budget="x", service="s"}',
            budget="x"),
        AlertingRule("CostRegression", 'per_event{budget="x"} > 1.5 * per_event{budget="x"} offset 1w', (), ()),
    ))
    planned = plan_group(group)
    got = [(r.rule.record, dict(r.rule.labels)["budget"], r.span_s, r.level) for r in planned.records]
    assert got == [("usage:rate1h", "x", 7 * DAY, 1), ("events:rate1h", "x", 7 * DAY, 1), ("per_event", "x", 7 * DAY, 2)]
    assert [(level, span, len(rules)) for level, span, rules in planned.batches()] == [(1, 7 * DAY, 2),
                                                                                      (2, 7 * DAY, 1)]


def test_the_repository_slos_backfill_their_base_rates_over_their_window() -> None:
    plan = build_plan(load_project([REPO_ROOT / "slos"]))
    groups = {g.group: g for g in plan_backfill(plan)}
    api = groups["slokit-support-chatbot-api-success"]
    # The bad rate reads the recorded total (its fallback when no bad event exists yet), so it comes second.
    assert [(r.rule.record, r.span_s, r.level) for r in api.records] == [
        ("slo:total_events:rate5m", 30 * DAY, 1), ("slo:bad_events:rate5m", 30 * DAY, 2)]
    only = plan_backfill(plan, "support-chatbot/api-success")
    assert [g.group for g in only] == ["slokit-support-chatbot-api-success"]


def test_holes_are_the_beginning_and_long_gaps_cut_at_the_head_block() -> None:
    times = [1000.0, 1010.0, 1020.0, 2000.0, 2010.0]
    assert holes(times, 10, head=5000) == (Hole(None, 999.999), Hole(1025.0, 1999.999))
    # A gap reaching into the head block is cut there; one inside it waits for a later run.
    assert holes(times, 10, head=1500) == (Hole(None, 999.999), Hole(1025.0, 1499.999))
    assert holes(times, 10, head=1010) == (Hole(None, 999.999),)
    assert holes(times, 10, head=500) == (Hole(None, 499.999),)
