"""`slokit status`: where each SLO and budget stands now, read from the recorded series.

Every number is a series the generated rules record (names in slokit.naming);
thresholds and windows come from the plan. Nothing is recomputed here except
formatting, so status agrees with the alerts and dashboards by construction.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import click

from slokit import naming as N
from slokit.explain import UnknownTarget, human_duration, select
from slokit.ops.common import (RecordedIndex, load_plan, prometheus_failure, prometheus_option, split_arguments)
from slokit.ops.prom import Alert, Labels, Prometheus, PrometheusError
from slokit.plan import BudgetPlan, ProjectPlan, SLOPlan


@dataclass(frozen=True)
class TierBurn:
    severity: str
    long_window: str
    short_window: str
    threshold: float  # the tier's burn factor
    long_burn: float | None
    short_burn: float | None
    enabled: bool

    @property
    def burning(self) -> bool:
        return (self.long_burn is not None and self.short_burn is not None
                and self.long_burn > self.threshold and self.short_burn > self.threshold)


@dataclass(frozen=True)
class GroupStatus:
    group: dict[str, str]
    sli: float | None  # good share over the SLO window
    events: float | None  # events over the SLO window
    budget_left: float | None  # share of the error budget left (negative when overspent)
    budget_left_events: float | None
    budget_left_outage_seconds: float | None
    burns: tuple[TierBurn, ...]


@dataclass(frozen=True)
class AlertStatus:
    alert: str
    state: str
    severity: str
    labels: dict[str, str]
    since: str


@dataclass(frozen=True)
class SLOStatus:
    service: str
    slo: str
    objective: float  # ratio
    window: str
    groups: tuple[GroupStatus, ...]
    alerts: tuple[AlertStatus, ...]


@dataclass(frozen=True)
class BudgetGroupStatus:
    group: dict[str, str]
    used: float | None
    projected: float | None
    remaining: float | None  # share of the limit left


@dataclass(frozen=True)
class BudgetStatus:
    service: str
    budget: str
    unit: str
    limit: float
    window: str
    groups: tuple[BudgetGroupStatus, ...]
    alerts: tuple[AlertStatus, ...]


@dataclass(frozen=True)
class Status:
    prometheus: str
    time: float
    slos: tuple[SLOStatus, ...]
    budgets: tuple[BudgetStatus, ...]


def _alerts(alerts: list[Alert], service: str, label: str, name: str) -> tuple[AlertStatus, ...]:
    mine = [a for a in alerts if a.label(N.LABEL_SERVICE) == service and a.label(label) == name]
    return tuple(AlertStatus(a.name, a.state, a.label(N.LABEL_SEVERITY), dict(a.labels), a.active_since)
                 for a in sorted(mine, key=lambda a: (a.state != "firing", a.name, a.labels)))


def slo_status(slo: SLOPlan, index: RecordedIndex, alerts: list[Alert]) -> SLOStatus:
    def values(record: str) -> dict[Labels, float]:
        return index.by_group(record, slo.service, slo.name, slo.group_by)

    ratio, total = values(N.SLO_ERROR_RATIO_WINDOW), values(N.SLO_TOTAL_RATE_WINDOW)
    left = values(N.SLO_BUDGET_REMAINING)
    left_events, left_outage = values(N.SLO_BUDGET_REMAINING_EVENTS), values(N.SLO_BUDGET_REMAINING_OUTAGE)
    burn = {w: values(N.slo_burn_rate(w)) for w in slo.alert_windows}
    groups = sorted(set(ratio) | set(total) | set(left)) or ([] if slo.group_by else [()])
    out = []
    for g in groups:
        burns = tuple(TierBurn(t.severity, t.tier.long_window, t.tier.short_window, float(t.burn_factor),
                               burn[t.tier.long_window].get(g), burn[t.tier.short_window].get(g), t.enabled)
                      for t in slo.tiers)
        out.append(GroupStatus(dict(g), None if g not in ratio else 1 - ratio[g],
                               None if g not in total else total[g] * slo.window_s, left.get(g),
                               left_events.get(g), left_outage.get(g), burns))
    return SLOStatus(slo.service, slo.name, float(slo.objective_ratio), slo.window, tuple(out),
                     _alerts(alerts, slo.service, N.LABEL_SLO, slo.name))


def budget_status(budget: BudgetPlan, index: RecordedIndex, alerts: list[Alert]) -> BudgetStatus:
    def values(record: str) -> dict[Labels, float]:
        return index.by_group(record, budget.service, budget.name, budget.by)

    used, projected, remaining = values(N.BUDGET_USED_WINDOW), values(N.BUDGET_PROJECTED), values(N.BUDGET_REMAINING)
    groups = sorted(set(used) | set(projected)) or ([] if budget.by else [()])
    return BudgetStatus(budget.service, budget.name, budget.unit, float(budget.limit), budget.window,
                        tuple(BudgetGroupStatus(dict(g), used.get(g), projected.get(g), remaining.get(g))
                              for g in groups),
                        _alerts(alerts, budget.service, N.LABEL_BUDGET, budget.name))


def collect(plan: ProjectPlan, prom: Prometheus, target: str | None) -> Status:
    selected = select(plan, target)
    index = RecordedIndex(prom)
    alerts = prom.alerts()
    slos = tuple(slo_status(s, index, alerts) for _svc, slos, _b in selected for s in slos)
    budgets = tuple(budget_status(b, index, alerts) for _svc, _s, budgets in selected for b in budgets)
    return Status(prom.url, time.time(), slos, budgets)


# -- output -----------------------------------------------------------------


def pct(x: float | None, digits: int = 3) -> str:
    return "-" if x is None else f"{x * 100:.{digits}g}%"


def num(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def group_text(group: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in group.items()) or "(all)"


def burn_text(b: TierBurn) -> str:
    mark = " !" if b.burning else ""
    off = "" if b.enabled else " (off)"
    return (f"{b.severity} {b.long_window}/{b.short_window}: {num(b.long_burn)}/{num(b.short_burn)} "
            f"> {b.threshold:g}{mark}{off}")


def alert_text(alerts: tuple[AlertStatus, ...]) -> str:
    if not alerts:
        return "-"
    return "\n".join(f"{a.alert} {a.severity} {a.labels.get(N.LABEL_LONG_WINDOW, '')} {a.state}".replace("  ", " ")
                     for a in alerts)


def render_table(status: Status, console) -> None:
    from rich.table import Table

    slos = Table(title=f"SLOs ({status.prometheus})", show_lines=True)
    for col in ("SLO", "group", "SLI / objective", "events", "budget left", "burn rate (long/short > threshold)",
                "alerts"):
        slos.add_column(col, overflow="fold")
    for s in status.slos:
        if not s.groups:
            slos.add_row(f"{s.service}/{s.slo}", "-", f"no data / {pct(s.objective, 4)} ({s.window})", "-", "-", "-",
                         alert_text(s.alerts))
        for g in s.groups:
            bad = g.sli is not None and g.sli < s.objective
            sli = f"{'[red]' if bad else ''}{pct(g.sli, 5)}{'[/red]' if bad else ''} / {pct(s.objective, 4)} ({s.window})"
            left = (f"{pct(g.budget_left)}, {num(g.budget_left_events)} events, "
                    f"{human_duration(max(g.budget_left_outage_seconds, 0)) if g.budget_left_outage_seconds is not None else '-'}"
                    " of full outage")
            burns = "\n".join(("[bold red]" + burn_text(b) + "[/bold red]") if b.burning else burn_text(b)
                              for b in g.burns)
            slos.add_row(f"{s.service}/{s.slo}", group_text(g.group), sli, num(g.events), left, burns,
                         alert_text(s.alerts))
    console.print(slos)
    if status.budgets:
        budgets = Table(title="Budgets", show_lines=True)
        for col in ("budget", "group", "used", "projected", "limit", "left", "alerts"):
            budgets.add_column(col, overflow="fold")
        for b in status.budgets:
            for g in b.groups or ():
                over = g.projected is not None and g.projected > b.limit
                projected = f"{'[red]' if over else ''}{num(g.projected)} {b.unit}{'[/red]' if over else ''}"
                budgets.add_row(f"{b.service}/{b.budget}", group_text(g.group), f"{num(g.used)} {b.unit}", projected,
                                f"{b.limit:g} {b.unit} / {b.window}", pct(g.remaining), alert_text(b.alerts))
            if not b.groups:
                budgets.add_row(f"{b.service}/{b.budget}", "-", "no data", "-", f"{b.limit:g} {b.unit} / {b.window}",
                                "-", alert_text(b.alerts))
        console.print(budgets)


def to_json(status: Status) -> str:
    def enrich(obj):
        d = asdict(obj)
        for slo, raw in zip(d["slos"], obj.slos):
            for g, graw in zip(slo["groups"], raw.groups):
                for b, braw in zip(g["burns"], graw.burns):
                    b["burning"] = braw.burning
        return d

    return json.dumps(enrich(status), indent=2, sort_keys=True)


def _console():
    import shutil
    import sys

    from rich.console import Console

    # Colour and terminal width only on a terminal; pipes and files get plain, wide text.
    tty = sys.stdout.isatty()
    return Console(width=None if tty else max(160, shutil.get_terminal_size().columns), no_color=not tty,
                   highlight=False)


@click.command("status")
@click.argument("args", nargs=-1, metavar="[PATH]... [SERVICE[/SLO]]")
@click.option("--catalog", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Metric catalog file. Default: catalog.yaml beside the SLO files.")
@prometheus_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--watch", is_flag=True, help="Redraw the table every --interval seconds until interrupted.")
@click.option("--interval", type=click.FloatRange(min=1), default=15.0, show_default=True,
              help="Seconds between redraws with --watch.")
def status_command(args: tuple[str, ...], catalog: Path | None, prometheus_url: str, fmt: str, watch: bool,
                   interval: float) -> None:
    """Show each SLO's SLI, error budget left, burn rates and firing alerts, and each budget's spend.

    Reads the series the generated rules record in a running Prometheus.
    PATH is the SLO spec directory or files (default slos/); SERVICE or
    SERVICE/SLO narrows the output. Exit 1 when Prometheus cannot be read.

    \b
    Examples:
      slokit status --prometheus http://127.0.0.1:9090
      slokit status slos/ support-chatbot/api-success --prometheus http://127.0.0.1:9090
      slokit status --prometheus http://127.0.0.1:9090 --format json
    """
    paths, target = split_arguments(args)
    plan = load_plan(paths, catalog)
    prom = Prometheus(prometheus_url)
    try:
        select(plan, target)
    except UnknownTarget as exc:
        raise click.BadParameter(str(exc), param_hint="SERVICE[/SLO]") from None
    try:
        if not watch:
            status = collect(plan, prom, target)
            if fmt == "json":
                click.echo(to_json(status))
            else:
                render_table(status, _console())
            return
        from rich.live import Live

        console = _console()
        with Live(console=console, auto_refresh=False) as live:
            while True:
                status = collect(plan, prom, target)
                if fmt == "json":
                    click.echo(to_json(status))
                else:
                    from rich.console import Group

                    tables = _Capture()
                    render_table(status, tables)
                    live.update(Group(*tables.items), refresh=True)
                time.sleep(interval)
    except PrometheusError as exc:
        prometheus_failure(exc)
    except KeyboardInterrupt:
        pass


class _Capture:
    """Collects what render_table prints, so --watch can redraw it in place."""

    def __init__(self) -> None:
        self.items: list = []

    def print(self, item) -> None:
        self.items.append(item)
