"""`slokit report`: the weekly or monthly SLO review, read from a Prometheus's history.

Every query is evaluated at the period's end (the `time` parameter), over a
range as long as the period, so a calendar month is exact whenever the report
runs. Attainment is the traffic-weighted ratio of the recorded base rates
averaged over the period, the same form the plan uses for its long windows;
time above a tier evaluates the plan's own alert expression over the period;
alerts come from the `ALERTS` series Prometheus keeps; spend is the increase
of the budget's counter selector from the plan.
"""

from __future__ import annotations

import calendar
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import click

from slokit import naming as N
from slokit.explain import UnknownTarget, human_duration, select
from slokit.ops.common import duration, fail, group_of, load_plan, prometheus_failure, split_arguments
from slokit.ops.prom import Prometheus, PrometheusError
from slokit.plan import BudgetPlan, ProjectPlan, SLOPlan
from slokit.windows import BASE_WINDOW, format_duration
from slokit.templating import loader, template_dir

DAY = 86400
SUBQUERY_STEP = 60  # resolution of "time above a tier"
RANGE_POINTS = 10000  # query_range answers at most 11,000 points per series
WORST_GROUPS = 5
TOP_MOVERS = 5
SPEND_LABELS = ("feature", "model")


@dataclass(frozen=True)
class Period:
    start: float
    end: float
    label: str

    @property
    def seconds(self) -> int:
        return int(self.end - self.start)

    @property
    def range(self) -> str:
        """The period as a range ending at its end: 1ms short, so Prometheus 2 (whose ranges include both
        ends) leaves out the sample at the start that belongs to the period before, as Prometheus 3 does."""
        return f"[{self.seconds * 1000 - 1}ms]"


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc)


def month_period(text: str) -> Period:
    m = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise click.BadParameter(f"{text!r} is not a month such as 2026-11", param_hint="--month")
    year, month = int(m.group(1)), int(m.group(2))
    start = datetime(year, month, 1, tzinfo=timezone.utc)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=timezone.utc)
    return Period(start.timestamp(), end.timestamp(), f"{calendar.month_name[month]} {year}")


def previous_month(text: str) -> Period:
    year, month = map(int, text.split("-"))
    return month_period(f"{year - (month == 1):04d}-{(month - 2) % 12 + 1:02d}")


def last_period(text: str, now: float) -> Period:
    seconds = duration(text, "--last")
    end = now // 60 * 60
    return Period(end - seconds, end, f"last {text} to {_utc(end):%Y-%m-%d %H:%M} UTC")


# -- data ---------------------------------------------------------------------


@dataclass(frozen=True)
class TierTime:
    severity: str
    long_window: str
    short_window: str
    burn_factor: float
    seconds: float


@dataclass(frozen=True)
class GroupAttainment:
    group: dict[str, str]
    attainment: float | None
    events: float


@dataclass(frozen=True)
class DayPoint:
    end: float
    bad: float  # events
    total: float


@dataclass(frozen=True)
class SLOReport:
    service: str
    slo: str
    description: str
    objective: float
    window: str
    error_budget: float
    attainment: float | None
    events: float
    bad_events: float
    tiers: tuple[TierTime, ...]
    worst_groups: tuple[GroupAttainment, ...]
    days: tuple[DayPoint, ...]

    @property
    def budget_consumed(self) -> float | None:
        """Share of the period's error budget (error budget x its events) spent."""
        if self.attainment is None:
            return None
        return (1 - self.attainment) / self.error_budget

    @property
    def met(self) -> bool | None:
        return None if self.attainment is None else self.attainment >= self.objective


@dataclass(frozen=True)
class Episodes:
    alert: str
    target: str
    severity: str
    long_window: str
    count: int
    seconds: float
    first: float


@dataclass(frozen=True)
class SpendRow:
    group: dict[str, str]
    spend: float
    previous: float

    @property
    def change(self) -> float:
        return self.spend - self.previous


@dataclass(frozen=True)
class BudgetReport:
    service: str
    budget: str
    unit: str
    limit: float
    window: str
    period_limit: float  # the limit pro rata over the period
    spent: float
    previous: float
    rows: tuple[SpendRow, ...]
    movers: tuple[SpendRow, ...]
    days: tuple[tuple[float, float], ...]  # (day end, spend that day)


@dataclass(frozen=True)
class Report:
    prometheus: str
    period: Period
    previous: Period
    generated: float
    slos: tuple[SLOReport, ...]
    budgets: tuple[BudgetReport, ...]
    alerts: tuple[Episodes, ...] = field(default=())


# -- queries ------------------------------------------------------------------


def _base(record_fn) -> str:
    return record_fn(format_duration(BASE_WINDOW))


def _avg(slo: SLOPlan, record: str, period: Period, by: tuple[str, ...] = ()) -> str:
    agg = f"sum by ({', '.join(by)})" if by else "sum"
    return f"{agg} (avg_over_time({slo.series(record)}{period.range}))"


def slo_report(prom: Prometheus, slo: SLOPlan, period: Period) -> SLOReport:
    bad_rec, total_rec = _base(N.slo_bad_rate), _base(N.slo_total_rate)
    bad = prom.value(_avg(slo, bad_rec, period), period.end)
    total = prom.value(_avg(slo, total_rec, period), period.end)
    attainment = None if not total else 1 - (bad or 0) / total
    tiers = tuple(TierTime(t.severity, t.tier.long_window, t.tier.short_window, float(t.burn_factor),
                           _time_above(prom, slo, t.tier.long_window, period)) for t in slo.tiers if t.enabled)
    worst: tuple[GroupAttainment, ...] = ()
    if slo.group_by:
        bads = {group_of(s.labels, slo.group_by): s.value
                for s in prom.query(_avg(slo, bad_rec, period, slo.group_by), period.end)}
        groups = []
        for s in prom.query(_avg(slo, total_rec, period, slo.group_by), period.end):
            g = group_of(s.labels, slo.group_by)
            groups.append(GroupAttainment(dict(g), 1 - bads.get(g, 0) / s.value if s.value else None,
                                          s.value * period.seconds))
        worst = tuple(sorted(groups, key=lambda g: (g.attainment if g.attainment is not None else 2,
                                                    sorted(g.group.items())))[:WORST_GROUPS])
    return SLOReport(slo.service, slo.name, slo.description, float(slo.objective_ratio), slo.window,
                     float(slo.error_budget), attainment, (total or 0) * period.seconds,
                     (bad or 0) * period.seconds, tiers, worst, _days(prom, slo, period))


def _days(prom: Prometheus, slo: SLOPlan, period: Period) -> tuple[DayPoint, ...]:
    first = period.start + DAY
    if first > period.end:
        return ()
    day = Period(0, DAY, "")
    bad = {t: v for s in prom.query_range(_avg(slo, _base(N.slo_bad_rate), day), first, period.end, DAY)
           for t, v in s.points}
    total = {t: v for s in prom.query_range(_avg(slo, _base(N.slo_total_rate), day), first, period.end, DAY)
             for t, v in s.points}
    return tuple(DayPoint(t, bad.get(t, 0) * DAY, total[t] * DAY) for t in sorted(total))


def _time_above(prom: Prometheus, slo: SLOPlan, long_window: str, period: Period) -> float:
    """Seconds in the period during which the tier's own alert condition held (for any group)."""
    rules = [r for r in slo.rule_group.alerting_rules
             if r.alert == N.ALERT_BURN and dict(r.labels).get(N.LABEL_LONG_WINDOW) == long_window]
    if not rules:
        return 0.0
    expr = " ".join(rules[0].expr.split())
    count = prom.value(f"count_over_time((count({expr})){period.range[:-1]}:{SUBQUERY_STEP}s])", period.end)
    return (count or 0) * SUBQUERY_STEP


def alert_episodes(prom: Prometheus, services: set[str], period: Period) -> tuple[Episodes, ...]:
    """Firing episodes of slokit's alerts in the period, from the ALERTS series (1-minute resolution)."""
    selector = (f'ALERTS{{alertstate="firing", {N.LABEL_SERVICE}=~"{"|".join(sorted(services))}", '
                f'alertname=~"{"|".join((N.ALERT_BURN, N.ALERT_NO_DATA, N.ALERT_BUDGET_OVERRUN, N.ALERT_COST_REGRESSION))}"}}')
    step = SUBQUERY_STEP
    points: dict[tuple, list[float]] = {}
    t = period.start + step
    while t <= period.end:
        chunk_end = min(period.end, t + step * (RANGE_POINTS - 1))
        for s in prom.query_range(selector, t, chunk_end, step):
            d = dict(s.labels)
            key = (d.get("alertname", ""), f"{d.get(N.LABEL_SERVICE, '')}/{d.get(N.LABEL_SLO) or d.get(N.LABEL_BUDGET, '')}",
                   d.get(N.LABEL_SEVERITY, ""), d.get(N.LABEL_LONG_WINDOW, ""))
            points.setdefault(key, []).extend(p for p, _v in s.points)
        t = chunk_end + step
    out = []
    for key, times in sorted(points.items()):
        times = sorted(set(times))
        runs = 1 + sum(1 for a, b in zip(times, times[1:]) if b - a > step * 1.5)
        out.append(Episodes(*key, count=runs, seconds=len(times) * step, first=times[0]))
    return tuple(out)


def _spend_labels(plan: ProjectPlan, budget: BudgetPlan) -> tuple[str, ...]:
    metric = plan.catalog.metrics.get(budget.metric)
    labels = set(metric.labels) if metric is not None else set()
    return tuple(label for label in SPEND_LABELS if label in labels)


def budget_report(prom: Prometheus, plan: ProjectPlan, budget: BudgetPlan, period: Period,
                  previous: Period) -> BudgetReport:
    by = _spend_labels(plan, budget)

    def spend(p: Period, labels: tuple[str, ...]) -> dict[tuple, float]:
        agg = f"sum by ({', '.join(labels)})" if labels else "sum"
        return {group_of(s.labels, labels): s.value
                for s in prom.query(f"{agg} (increase({budget.query}{p.range}))", p.end)}

    now, before = spend(period, by), spend(previous, by)
    rows = tuple(SpendRow(dict(g), now.get(g, 0.0), before.get(g, 0.0)) for g in sorted(set(now) | set(before)))
    movers = tuple(sorted((r for r in rows if r.change), key=lambda r: (-abs(r.change), sorted(r.group.items())))
                   [:TOP_MOVERS])
    days: tuple[tuple[float, float], ...] = ()
    if period.start + DAY <= period.end:
        series = prom.query_range(f"sum(increase({budget.query}{Period(0, DAY, '').range}))", period.start + DAY, period.end, DAY)
        days = tuple(series[0].points) if series else ()
    return BudgetReport(budget.service, budget.name, budget.unit, float(budget.limit), budget.window,
                        float(budget.limit) * period.seconds / budget.window_s,
                        sum(spend(period, ()).values()), sum(spend(previous, ()).values()), rows, movers, days)


def build_report(plan: ProjectPlan, prom: Prometheus, target: str | None, period: Period,
                 previous: Period) -> Report:
    selected = select(plan, target)
    slos = tuple(slo_report(prom, s, period) for _svc, slos, _b in selected for s in slos)
    budgets = tuple(budget_report(prom, plan, b, period, previous) for _svc, _s, budgets in selected for b in budgets)
    names = {f"{s.service}/{s.name}" for _svc, slos, _b in selected for s in slos} | {
        f"{b.service}/{b.name}" for _svc, _s, budgets in selected for b in budgets}
    alerts = tuple(e for e in alert_episodes(prom, {svc.service for svc, _s, _b in selected}, period)
                   if e.target in names)
    return Report(prom.url, period, previous, time.time(), slos, budgets, alerts)


# -- output -------------------------------------------------------------------


def pct(x: float | None, digits: int = 4) -> str:
    return "-" if x is None else f"{x * 100:.{digits}g}%"


def amount(x: float | None) -> str:
    if x is None:
        return "-"
    if abs(x) >= 100000:  # event counts
        return f"{x:,.0f}"
    return f"{x:,.2f}" if abs(x) >= 1 else f"{x:.4g}"


def events(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


def signed(x: float) -> str:
    return ("+" if x > 0 else "") + amount(x)


def day_text(ts: float) -> str:
    return f"{_utc(ts - 1):%Y-%m-%d}"  # a day ending at midnight is that day


def when(ts: float) -> str:
    return f"{_utc(ts):%Y-%m-%d %H:%M}"


def group_text(group: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in group.items()) or "(all)"


def _env(kind: str, templates: Path | None):
    import jinja2

    env = jinja2.Environment(loader=loader(templates), autoescape=kind == "html",
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    env.filters.update(pct=pct, amount=amount, events=events, signed=signed, duration=human_duration, day=day_text, when=when,
                       group=group_text, md=md_cell)
    return env


def md_cell(text) -> str:
    """A Markdown table cell: `|` would end the cell, a newline the row, and markup must stay literal."""
    s = str(text)
    for ch in "\\`*_[]<>|":
        s = s.replace(ch, "\\" + ch)
    return s.replace("\n", " ")


def to_json(report: Report) -> str:
    import json
    from dataclasses import asdict

    doc = asdict(report)
    for s, raw in zip(doc["slos"], report.slos):
        s["budget_consumed"], s["met"] = raw.budget_consumed, raw.met
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def render(report: Report, kind: str, templates: Path | None = None) -> str:
    if kind == "json":
        return to_json(report)
    env = _env(kind, templates)
    charts = {}
    if kind == "html":
        from slokit.ops.charts import budget_chart, sli_chart

        charts = {f"{s.service}/{s.slo}": sli_chart(s) for s in report.slos if s.days}
        charts.update({f"{b.service}/{b.budget}": budget_chart(b) for b in report.budgets if b.days})
    template = env.get_template(f"report.{'html' if kind == 'html' else 'md'}.j2")
    return template.render(report=report, charts=charts)


@click.command("report")
@click.argument("args", nargs=-1, metavar="[PATH]... [SERVICE[/SLO]]")
@click.option("--catalog", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Metric catalog file. Default: catalog.yaml beside the SLO files.")
@click.option("--prometheus", "prometheus_url", envvar="SLOKIT_PROMETHEUS_URL", required=True, metavar="URL",
              help="Prometheus HTTP API base URL (or SLOKIT_PROMETHEUS_URL).")
@click.option("--last", "last", metavar="DURATION", default=None, help="The period ending now, e.g. 7d.")
@click.option("--month", metavar="YYYY-MM", default=None, help="A calendar month (UTC), e.g. 2026-11.")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "json"]), default="md", show_default=True,
              help="md (tables), html (tables and charts, one file) or json (the numbers).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the report to this file instead of printing it.")
@click.option("--templates", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Directory with report.md.j2 / report.html.j2 overriding the shipped templates "
                   "(default: templates/ beside slokit.yaml, else beside the SLO files, when it exists).")
def report_command(args, catalog, prometheus_url, last, month, fmt, out, templates) -> None:
    """The SLO review of a period: attainment, budget, time above each tier, alerts, worst groups, spend.

    Queries run at the period's end, so `--month 2026-11` gives the same
    numbers whenever it runs (while Prometheus keeps the history). HTML embeds
    its charts and stands alone.

    \b
    Examples:
      slokit report --prometheus http://127.0.0.1:9090 --last 7d
      slokit report --prometheus http://127.0.0.1:9090 --month 2026-11 --format html --out november.html
    """
    if (last is None) == (month is None):
        raise click.UsageError("give exactly one of --last DURATION or --month YYYY-MM")
    if month:
        period, previous = month_period(month), previous_month(month)
    else:
        period = last_period(last, time.time())
        previous = Period(period.start - period.seconds, period.start, f"the {last} before")
    paths, target = split_arguments(args)
    plan = load_plan(paths, catalog)
    templates = template_dir(templates, paths)
    try:
        report = build_report(plan, Prometheus(prometheus_url), target, period, previous)
    except UnknownTarget as exc:
        raise click.BadParameter(str(exc), param_hint="SERVICE[/SLO]") from None
    except PrometheusError as exc:
        prometheus_failure(exc)
    try:
        text = render(report, fmt, templates)
    except Exception as exc:  # a user's template: report it, not a traceback
        import jinja2

        if isinstance(exc, jinja2.TemplateError):
            fail(f"report template: {exc}", "fix the template in --templates or remove it to use the shipped one")
        raise
    if out is None:
        click.echo(text, nl=False)
        return
    out.write_text(text)
    click.echo(f"wrote {out}")
