"""Which recorded series a deployment needs history of, how far back, in what order.

Pure data from the plan: no Prometheus, no promtool. A recording rule needs
history when some rule of its group reads it at a past instant: through a
range (`avg_over_time(r[30d])`) or an `offset` (`r offset 1w`). A rule that
must be backfilled over a span needs the records it reads over that span
too (plus their own ranges), so the need propagates down the references.
promtool evaluates each rule against the Prometheus API and cannot see what
it is writing itself, so a record that reads another backfilled record comes
one pass (level) later.
"""

from __future__ import annotations

from dataclasses import dataclass

import promql_parser

from slokit.plan import ProjectPlan, RecordingRule, RuleGroup, ServicePlan
from slokit.promql import match_op


@dataclass(frozen=True)
class Read:
    """One reference of a rule to a series name: how far before the evaluation it reaches."""

    name: str
    equals: tuple[tuple[str, str], ...]  # the selector's equality matchers
    lookback_s: int  # range + offset; 0 for an instant read


@dataclass(frozen=True)
class BackfillRecord:
    rule: RecordingRule
    span_s: int  # history needed before recording began
    level: int  # 1 reads only raw series; n reads records of levels below n


@dataclass(frozen=True)
class GroupBackfill:
    group: str
    records: tuple[BackfillRecord, ...]  # in the group's rule order

    @property
    def levels(self) -> tuple[int, ...]:
        return tuple(sorted({r.level for r in self.records}))

    def batches(self) -> list[tuple[int, int, tuple[RecordingRule, ...]]]:
        """(level, span, rules): one promtool run each, lower levels first, longer spans first."""
        keys = sorted({(r.level, r.span_s) for r in self.records}, key=lambda k: (k[0], -k[1]))
        return [(level, span, tuple(r.rule for r in self.records if (r.level, r.span_s) == (level, span)))
                for level, span in keys]


def _seconds(delta) -> int:
    return int(delta.total_seconds()) if delta is not None else 0


def reads(expr: str) -> list[Read]:
    """Every series `expr` reads, with the lookback of each read (subqueries add theirs)."""
    found: list[Read] = []

    def selector(node, extra: int) -> None:
        equals = tuple((m.name, m.value) for m in node.matchers.matchers if match_op(m.op) == "=")
        if node.name:
            found.append(Read(node.name, equals, extra + _seconds(node.offset)))

    def visit(node, extra: int) -> None:
        if isinstance(node, promql_parser.MatrixSelector):
            selector(node.vector_selector, extra + _seconds(node.range))
        elif isinstance(node, promql_parser.VectorSelector):
            selector(node, extra)
        elif isinstance(node, promql_parser.SubqueryExpr):
            visit(node.expr, extra + _seconds(node.range) + _seconds(node.offset))
        elif isinstance(node, promql_parser.BinaryExpr):
            visit(node.lhs, extra)
            visit(node.rhs, extra)
        elif isinstance(node, promql_parser.Call):
            for arg in node.args:
                visit(arg, extra)
        elif isinstance(node, promql_parser.AggregateExpr):
            visit(node.expr, extra)
            if node.param is not None:
                visit(node.param, extra)
        elif isinstance(node, (promql_parser.ParenExpr, promql_parser.UnaryExpr)):
            visit(node.expr, extra)

    visit(promql_parser.parse(expr), 0)
    return found


def _matches(read: Read, rule: RecordingRule) -> bool:
    """Does `read` select what `rule` records? (Its equality matchers agree with the rule's labels.)"""
    if read.name != rule.record:
        return False
    labels = dict(rule.labels)
    return all(labels.get(k, v) == v for k, v in read.equals)


def plan_group(group: RuleGroup) -> GroupBackfill:
    records = group.recording_rules
    edges: list[tuple[int | None, int, int]] = []  # (reader index or None for an alert, record index, lookback)
    for reader in group.rules:
        reader_i = records.index(reader) if isinstance(reader, RecordingRule) else None
        for read in reads(reader.expr):
            for i, rule in enumerate(records):
                if _matches(read, rule) and i != reader_i:
                    edges.append((reader_i, i, read.lookback_s))
    # A record evaluated live reads over [t - lookback, t]; one that is itself
    # backfilled over a span reads that much further back.
    need = [0] * len(records)
    changed = True
    while changed:  # a fixpoint over a DAG: at most one pass per level
        changed = False
        for reader_i, i, lookback in edges:
            reach = (need[reader_i] if reader_i is not None else 0) + lookback
            if reach > need[i]:
                need[i] = reach
                changed = True
    level = [1] * len(records)
    for _ in records:  # longest path over the references between needed records
        for reader_i, i, _lookback in edges:
            if reader_i is not None and need[reader_i] and need[i]:
                level[reader_i] = max(level[reader_i], level[i] + 1)
    chosen = tuple(BackfillRecord(r, need[i], level[i]) for i, r in enumerate(records) if need[i] > 0)
    return GroupBackfill(group.name, chosen)


def _groups(service: ServicePlan, item: str | None) -> list[RuleGroup]:
    if not item:
        return list(service.rule_groups)
    slo = next((s for s in service.slos if s.name == item), None)
    if slo is not None:
        return [slo.rule_group]
    # Budgets share one group: naming a budget backfills the group.
    named = {g.name for s in service.slos for g in [s.rule_group]}
    return [g for g in service.rule_groups if g.name not in named]


def plan_backfill(plan: ProjectPlan, target: str | None = None) -> list[GroupBackfill]:
    """Every group with something to backfill, in the plan's order; `target` as `slokit explain` takes it."""
    from slokit.explain import select

    chosen = select(plan, target)
    item = target.partition("/")[2] if target else None
    out = []
    for service, _slos, _budgets in chosen:
        for group in _groups(service, item):
            planned = plan_group(group)
            if planned.records:
                out.append(planned)
    return out
