"""`slokit gate`: is a canary (new prompt version, model or build) worse than the baseline?

For each selected SLO the gate counts the candidate's and the baseline's
events over a window, using the SLI's own queries from the plan narrowed by
the two selectors, and asks whether the candidate's share of bad events is
higher than the baseline's beyond chance.

The test is a one-sided Fisher exact test on the 2x2 table (bad, good) x
(candidate, baseline). Exact rather than the two-proportion z-test because
the bad events an SLO counts are rare (0.5% of a few hundred canary calls is
a handful): the z-test's normal approximation is poor exactly there, while
Fisher's test is valid at any count. The significance level is family-wise:
`--alpha` is split evenly over the SLO checks (Bonferroni), so gating on ten
SLOs does not fail a clean canary ten times as often. The emitted Argo
Rollouts and Flagger templates cannot run Fisher's test in PromQL; they
compute the one-sided pooled two-proportion z statistic against the normal
quantile of the same per-check level, which agrees with Fisher at the event
counts a rollout step sees.

Budgets with a regression rule compare cost per event (usage / regression
events): a regression is a candidate costing more than the rule's factor
times the baseline, the same rule the SLOCostRegression alert applies
against last week.

Exit 0 pass, 1 regression, 3 not enough data (fewer than --min-events
events on either side of some check, and no regression elsewhere).
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import click
import yaml

from slokit.explain import UnknownTarget, select
from slokit.ops.common import duration, fail, load_plan, prometheus_failure, split_arguments
from slokit.ops.prom import Prometheus, PrometheusError
from slokit.ops.selectors import SelectorError, parse_matchers, with_matchers
from slokit.plan import BudgetPlan, ProjectPlan, SLOPlan
from slokit.promql import Matcher

EXIT_PASS, EXIT_REGRESSION, EXIT_NOT_ENOUGH = 0, 1, 3
PASS, REGRESSION, NOT_ENOUGH, SKIPPED = "pass", "regression", "not enough data", "skipped"


# -- what is compared ---------------------------------------------------------


@dataclass(frozen=True)
class ProportionCheck:
    """Bad events out of all events of one SLO, for one arm: the two count queries."""

    target: str
    measure: str  # what the share means, e.g. "error ratio" or "share over 1 seconds"
    events: str  # "good" or "bad": what events_query counts
    total_query: str
    events_query: str

    def counts(self, prom: Prometheus, matchers: tuple[Matcher, ...], window: str) -> tuple[int, int]:
        """(bad, total) events of the arm over the window."""
        total = _increase(prom, with_matchers(self.total_query, matchers), window)
        counted = _increase(prom, with_matchers(self.events_query, matchers), window)
        bad = counted if self.events == "bad" else total - counted
        return max(0, round(bad)), max(0, round(total))

    def bad_expr(self, matchers: tuple[Matcher, ...], window: str) -> str:
        counted = increase_expr(with_matchers(self.events_query, matchers), window)
        if self.events == "bad":
            return counted
        return f"({increase_expr(with_matchers(self.total_query, matchers), window)} - {counted})"

    def total_expr(self, matchers: tuple[Matcher, ...], window: str) -> str:
        return increase_expr(with_matchers(self.total_query, matchers), window)


@dataclass(frozen=True)
class CostCheck:
    """Usage per event of a budget with a regression rule."""

    target: str
    unit: str
    usage_query: str
    events_query: str
    factor: float
    min_events_per_hour: float

    def amounts(self, prom: Prometheus, matchers: tuple[Matcher, ...], window: str) -> tuple[float, int]:
        return (_increase(prom, with_matchers(self.usage_query, matchers), window),
                max(0, round(_increase(prom, with_matchers(self.events_query, matchers), window))))

    def ratio_expr(self, candidate: tuple[Matcher, ...], baseline: tuple[Matcher, ...], window: str) -> str:
        def per_event(m: tuple[Matcher, ...]) -> str:
            return (f"({increase_expr(with_matchers(self.usage_query, m), window)} / "
                    f"{increase_expr(with_matchers(self.events_query, m), window)})")

        return f"{per_event(candidate)}\n/\n{per_event(baseline)}"


def increase_expr(selector: str, window: str) -> str:
    """Events over the window; 0, not an empty result, when no such series exists (no bad event yet)."""
    return f"(sum(increase({selector}[{window}])) or vector(0))"


def _increase(prom: Prometheus, selector: str, window: str) -> float:
    return prom.value(increase_expr(selector, window)) or 0.0


def proportion_check(slo: SLOPlan) -> ProportionCheck | None:
    """None for raw PromQL SLIs: their queries are the user's text, which a selector cannot be added to safely."""
    sli = slo.sli
    if sli.kind == "raw":
        return None
    if sli.kind == "threshold":
        unit = f" {sli.unit}" if sli.unit else ""
        # The share outside the threshold is what the SLO counts as bad.
        bad_side = sli.threshold.replace("<=", ">") if sli.threshold.startswith("<=") else sli.threshold.replace(">", "<=")
        measure = f"share {bad_side}{unit}"
    else:
        measure = "error ratio"
    return ProportionCheck(f"{slo.service}/{slo.name}", measure, sli.events, sli.total_query, sli.events_query)


def cost_check(budget: BudgetPlan) -> CostCheck | None:
    if budget.regression_factor is None or budget.regression_events_query is None:
        return None
    return CostCheck(f"{budget.service}/{budget.name}", budget.unit, budget.query, budget.regression_events_query,
                     float(budget.regression_factor), float(budget.regression_min_events_per_hour or 0))


@dataclass(frozen=True)
class Selection:
    proportions: tuple[ProportionCheck, ...]
    costs: tuple[CostCheck, ...]
    skipped: tuple[tuple[str, str], ...]  # (target, why)


def selection(plan: ProjectPlan, targets: tuple[str, ...]) -> Selection:
    proportions: list[ProportionCheck] = []
    costs: list[CostCheck] = []
    skipped: list[tuple[str, str]] = []
    seen: set[str] = set()
    for target in targets or (None,):
        for _service, slos, budgets in select(plan, target):
            for slo in slos:
                check = proportion_check(slo)
                key = f"{slo.service}/{slo.name}"
                if key in seen:
                    continue
                seen.add(key)
                if check is None:
                    skipped.append((key, "raw PromQL SLI: its queries cannot be narrowed to candidate and baseline"))
                else:
                    proportions.append(check)
            for budget in budgets:
                check = cost_check(budget)
                key = f"{budget.service}/{budget.name}"
                if check is not None and key not in seen:
                    seen.add(key)
                    costs.append(check)
    return Selection(tuple(proportions), tuple(costs), tuple(skipped))


# -- the verdict --------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    target: str
    measure: str
    verdict: str
    reason: str
    candidate_bad: float | None = None
    candidate_events: int | None = None
    baseline_bad: float | None = None
    baseline_events: int | None = None
    candidate_value: float | None = None
    baseline_value: float | None = None
    p_value: float | None = None
    level: float | None = None


@dataclass(frozen=True)
class GateReport:
    candidate: str
    baseline: str
    window: str
    test: str
    alpha: float
    min_events: int
    results: tuple[Result, ...]

    @property
    def verdict(self) -> str:
        verdicts = {r.verdict for r in self.results}
        if REGRESSION in verdicts:
            return REGRESSION
        if NOT_ENOUGH in verdicts or not verdicts - {SKIPPED}:
            return NOT_ENOUGH
        return PASS

    @property
    def exit_code(self) -> int:
        return {PASS: EXIT_PASS, REGRESSION: EXIT_REGRESSION, NOT_ENOUGH: EXIT_NOT_ENOUGH}[self.verdict]


def fisher_greater(bad_c: int, total_c: int, bad_b: int, total_b: int) -> float:
    """One-sided p-value that the candidate's bad share exceeds the baseline's."""
    from scipy.stats import fisher_exact

    table = [[bad_c, total_c - bad_c], [bad_b, total_b - bad_b]]
    return float(fisher_exact(table, alternative="greater")[1])


def judge_proportion(check: ProportionCheck, c: tuple[int, int], b: tuple[int, int], level: float,
                     min_events: int) -> Result:
    (bad_c, n_c), (bad_b, n_b) = c, b
    share = lambda bad, n: bad / n if n else None  # noqa: E731
    base = dict(target=check.target, measure=check.measure, candidate_bad=bad_c, candidate_events=n_c,
                baseline_bad=bad_b, baseline_events=n_b, candidate_value=share(bad_c, n_c),
                baseline_value=share(bad_b, n_b), level=level)
    if n_c < min_events or n_b < min_events:
        return Result(verdict=NOT_ENOUGH, reason=f"{n_c} candidate and {n_b} baseline events; at least {min_events} "
                                                 "on each side are needed", **base)
    p = fisher_greater(bad_c, n_c, bad_b, n_b)
    if p < level:
        return Result(verdict=REGRESSION, p_value=p, reason=f"{check.measure} {pct(bad_c / n_c)} vs {pct(bad_b / n_b)}"
                                                             f": higher beyond chance (p={p:.2g} < {level:.2g})", **base)
    return Result(verdict=PASS, p_value=p, reason=f"{check.measure} {pct(bad_c / n_c)} vs {pct(bad_b / n_b)}"
                                                  f" (p={p:.2g}, regression below {level:.2g})", **base)


def judge_cost(check: CostCheck, c: tuple[float, int], b: tuple[float, int], min_events: int) -> Result:
    (usage_c, n_c), (usage_b, n_b) = c, b
    base = dict(target=check.target, measure=f"{check.unit} per event", candidate_bad=usage_c, candidate_events=n_c,
                baseline_bad=usage_b, baseline_events=n_b)
    if n_c < min_events or n_b < min_events:
        return Result(verdict=NOT_ENOUGH, reason=f"{n_c} candidate and {n_b} baseline events; at least {min_events} "
                                                 "on each side are needed", **base)
    per_c, per_b = usage_c / n_c, usage_b / n_b
    base.update(candidate_value=per_c, baseline_value=per_b)
    text = f"{per_c:.4g} vs {per_b:.4g} {check.unit} per event"
    if per_b > 0 and per_c > check.factor * per_b:
        return Result(verdict=REGRESSION, reason=f"{text}: {per_c / per_b:.2f}x, over the budget's regression factor "
                                                 f"{check.factor:g}", **base)
    ratio = f"{per_c / per_b:.2f}x" if per_b > 0 else "no baseline cost"
    return Result(verdict=PASS, reason=f"{text} ({ratio}, regression above {check.factor:g}x)", **base)


def pct(x: float) -> str:
    return f"{x * 100:.3g}%"


def per_check_level(alpha: float, sel: Selection) -> float:
    return alpha / max(1, len(sel.proportions))


def run_gate(prom: Prometheus, sel: Selection, candidate: tuple[Matcher, ...], baseline: tuple[Matcher, ...],
             window: str, alpha: float, min_events: int) -> tuple[Result, ...]:
    level = per_check_level(alpha, sel)
    results = [judge_proportion(p, p.counts(prom, candidate, window), p.counts(prom, baseline, window), level,
                                min_events) for p in sel.proportions]
    results += [judge_cost(c, c.amounts(prom, candidate, window), c.amounts(prom, baseline, window), min_events)
                for c in sel.costs]
    results += [Result(target, "", SKIPPED, why) for target, why in sel.skipped]
    return tuple(results)


def check_selectors(sel: Selection, *arms: tuple[Matcher, ...]) -> None:
    """Fail before any query when a selector names a label an SLI already selects on (SelectorError)."""
    for arm in arms:
        for p in sel.proportions:
            with_matchers(p.total_query, arm), with_matchers(p.events_query, arm)
        for c in sel.costs:
            with_matchers(c.usage_query, arm), with_matchers(c.events_query, arm)


def selector_text(matchers: tuple[Matcher, ...]) -> str:
    return "{" + ", ".join(m.render() for m in matchers) + "}"


def render_text(report: GateReport) -> str:
    lines = [f"gate: candidate {report.candidate} vs baseline {report.baseline} over the last {report.window}",
             f"test: {report.test}; family-wise alpha {report.alpha:g}; at least {report.min_events} events per side",
             ""]
    width = max((len(r.target) for r in report.results), default=10)
    for r in report.results:
        lines.append(f"{r.verdict.upper():<16} {r.target:<{width}}  {r.reason}")
    code = report.exit_code
    lines += ["", f"result: {report.verdict} (exit {code})"]
    return "\n".join(lines) + "\n"


TEST_NAME = "one-sided Fisher exact test on (bad, good) x (candidate, baseline), Bonferroni over the SLO checks"


# -- Argo Rollouts and Flagger --------------------------------------------------


def z_expr(check: ProportionCheck, candidate: tuple[Matcher, ...], baseline: tuple[Matcher, ...], window: str,
           min_events: int) -> str:
    """One-sided pooled two-proportion z statistic of candidate vs baseline, in PromQL; empty with too few events."""
    b1, n1 = check.bad_expr(candidate, window), check.total_expr(candidate, window)
    b2, n2 = check.bad_expr(baseline, window), check.total_expr(baseline, window)
    pooled = f"(({b1} + {b2}) / ({n1} + {n2}))"
    # clamp_min: with no bad events on either side the variance is 0; z is then 0, not NaN.
    return (f"(\n  ({b1} / {n1}) - ({b2} / {n2})\n)\n/\n"
            f"sqrt(clamp_min({pooled} * (1 - {pooled}) * (1 / {n1} + 1 / {n2}), 1e-12))\n"
            f"and on() {n1} >= {min_events}\nand on() {n2} >= {min_events}")


def z_critical(level: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(1 - level))


def metric_name(target: str) -> str:
    return target.replace("/", "-")


def argo_template(plan_sel: Selection, candidate, baseline, window: str, alpha: float, min_events: int,
                  address: str, name: str) -> dict:
    level = per_check_level(alpha, plan_sel)
    zc = round(z_critical(level), 3)
    metrics = []
    for p in plan_sel.proportions:
        metrics.append({
            "name": metric_name(p.target),
            "interval": window, "count": 1, "failureLimit": 0,
            # Too few events gives an empty result: the measurement errors (inconclusive) instead of passing.
            "successCondition": f"result[0] <= {zc}",
            "provider": {"prometheus": {"address": address,
                                        "query": z_expr(p, candidate, baseline, window, min_events)}},
        })
    for c in plan_sel.costs:
        metrics.append({
            "name": metric_name(c.target), "interval": window, "count": 1, "failureLimit": 0,
            "successCondition": f"result[0] <= {c.factor:g}",
            "provider": {"prometheus": {"address": address, "query": c.ratio_expr(candidate, baseline, window)}},
        })
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate", "metadata": {"name": name},
            "spec": {"metrics": metrics}}


def flagger_templates(plan_sel: Selection, candidate, baseline, alpha: float, min_events: int,
                      address: str) -> tuple[list[dict], list[dict]]:
    """MetricTemplates (the query over Flagger's `{{ interval }}`) and the Canary analysis entries using them."""
    level = per_check_level(alpha, plan_sel)
    zc = round(z_critical(level), 3)
    templates, uses = [], []
    provider = {"type": "prometheus", "address": address}
    for p in plan_sel.proportions:
        name = f"slokit-{metric_name(p.target)}"
        templates.append({"apiVersion": "flagger.app/v1beta1", "kind": "MetricTemplate", "metadata": {"name": name},
                          "spec": {"provider": provider,
                                   "query": z_expr(p, candidate, baseline, "{{ interval }}", min_events)}})
        uses.append({"name": name, "templateRef": {"name": name}, "thresholdRange": {"max": zc}})
    for c in plan_sel.costs:
        name = f"slokit-{metric_name(c.target)}"
        templates.append({"apiVersion": "flagger.app/v1beta1", "kind": "MetricTemplate", "metadata": {"name": name},
                          "spec": {"provider": provider, "query": c.ratio_expr(candidate, baseline, "{{ interval }}")}})
        uses.append({"name": name, "templateRef": {"name": name}, "thresholdRange": {"max": c.factor}})
    return templates, uses


class _Literal(str):
    pass


def _yaml(doc) -> str:
    class Dumper(yaml.SafeDumper):
        pass

    def literal(dumper, value):
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, literal)
    return yaml.dump(doc, Dumper=Dumper, sort_keys=False, width=1000)


def emit(kind: str, sel: Selection, candidate, baseline, window: str, alpha: float, min_events: int,
         address: str) -> str:
    header = (f"# Generated by `slokit gate --emit {kind}` from the SLO definitions: candidate "
              f"{selector_text(candidate)} vs baseline {selector_text(baseline)}.\n"
              "# Each SLO check is the one-sided pooled two-proportion z statistic (bad events, candidate vs "
              f"baseline) against z <= critical value at family-wise alpha {alpha:g};\n"
              f"# each budget check is candidate / baseline cost per event against the budget's regression factor. "
              f"Fewer than {min_events} events on a side give an empty result (inconclusive).\n")
    if kind == "argo":
        return header + _yaml(argo_template(sel, candidate, baseline, window, alpha, min_events, address,
                                            "slokit-gate"))
    templates, uses = flagger_templates(sel, candidate, baseline, alpha, min_events, address)
    usage = _yaml({"analysis": {"metrics": [{**u, "interval": window} for u in uses]}})
    return (header + "# Use them from a Canary:\n" + "".join(f"#   {line}\n" for line in usage.splitlines())
            + "---\n".join(_yaml(t) for t in templates))


# -- the command --------------------------------------------------------------


@click.command("gate")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path), metavar="[PATH]...")
@click.option("--catalog", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Metric catalog file. Default: catalog.yaml beside the SLO files.")
@click.option("--prometheus", "prometheus_url", envvar="SLOKIT_PROMETHEUS_URL", metavar="URL", default=None,
              help="Prometheus HTTP API base URL (or SLOKIT_PROMETHEUS_URL); with --emit, the address written "
                   "into the templates (default http://prometheus:9090).")
@click.option("--candidate", required=True, metavar="SELECTOR", help='Label matchers of the canary, e.g. track="canary".')
@click.option("--baseline", required=True, metavar="SELECTOR", help='Label matchers of the baseline, e.g. track="stable".')
@click.option("--slo", "targets", multiple=True, metavar="SERVICE[/SLO]",
              help="What to gate on (repeatable): a service, an SLO or a budget. Default: every SLO and every "
                   "budget with a regression rule.")
@click.option("--window", default="30m", show_default=True, help="Compare events over this last window.")
@click.option("--min-events", type=click.IntRange(min=1), default=100, show_default=True,
              help="Events each side needs before a check decides.")
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.01,
              show_default=True, help="Family-wise significance level over the SLO checks.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--emit", type=click.Choice(["argo", "flagger"]), default=None,
              help="Print an Argo Rollouts AnalysisTemplate or Flagger MetricTemplates for the same checks "
                   "instead of running them.")
def gate_command(paths, catalog, prometheus_url, candidate, baseline, targets, window, min_events, alpha, fmt,
                 emit) -> None:
    """Release gate: compare a canary's SLO events with the baseline's; exit 0 pass, 1 regression, 3 not enough data.

    For every selected SLO: the candidate's and the baseline's share of bad
    events over --window (error ratio, or the share outside a latency, TTFT
    or cost threshold), tested with a one-sided Fisher exact test; for every
    budget with a regression rule: cost per event against the rule's factor.

    \b
    Examples:
      slokit gate --prometheus http://127.0.0.1:9090 --candidate 'track="canary"' --baseline 'track="stable"'
      slokit gate --slo support-chatbot/output-validity --candidate 'version="1.5.0"' --baseline 'version="1.4.0"'
      slokit gate --emit argo --candidate 'rollouts_pod_template_hash="{{args.canary-hash}}"' \\
                  --baseline 'rollouts_pod_template_hash="{{args.stable-hash}}"'
    """
    duration(window, "--window")
    try:
        cand, base = parse_matchers(candidate), parse_matchers(baseline)
    except SelectorError as exc:
        fail(str(exc), 'give label matchers as PromQL writes them, e.g. --candidate \'track="canary"\'')
    plan = load_plan(paths, catalog)
    try:
        sel = selection(plan, targets)
    except UnknownTarget as exc:
        raise click.BadParameter(str(exc), param_hint="--slo") from None
    try:
        check_selectors(sel, cand, base)
        if emit:
            click.echo(globals()["emit"](emit, sel, cand, base, window, alpha, min_events,
                                         prometheus_url or "http://prometheus:9090"), nl=False)
            return
        if not prometheus_url:
            raise click.UsageError("--prometheus URL is needed to run the gate (or use --emit)")
        results = run_gate(Prometheus(prometheus_url), sel, cand, base, window, alpha, min_events)
    except SelectorError as exc:
        fail(str(exc), "the candidate and baseline selectors must use labels the SLIs do not already select on")
    except PrometheusError as exc:
        prometheus_failure(exc)
    report = GateReport(selector_text(cand), selector_text(base), window, TEST_NAME, alpha, min_events, results)
    if fmt == "json":
        click.echo(json.dumps({**asdict(report), "verdict": report.verdict, "exit_code": report.exit_code},
                              indent=2, sort_keys=True))
    else:
        click.echo(render_text(report), nl=False)
    sys.exit(report.exit_code)
