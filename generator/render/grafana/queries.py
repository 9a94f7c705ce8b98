"""PromQL for dashboard panels: selectors that honour the service scope and the
dashboard's template variables, rates over `$__rate_interval`, quantiles from
histogram buckets, and selectors of the recorded SLO and budget series.

Aggregation always happens after `rate` (`sum by (...) (rate(x[...]))`), and
histogram quantiles aggregate the buckets `by (le, ...)`.
"""

from __future__ import annotations

from dataclasses import dataclass

from slokit import naming as N
from slokit.plan import BudgetPlan, SLOPlan
from slokit.promql import Matcher, Selector, aggregate, equals, one_of
from slokit.render.grafana.signals import Metric

RATE_INTERVAL = "$__rate_interval"
RANGE = "$__range"


def variable_matcher(label: str) -> Matcher:
    """label=~"$label": multi-value and All both render as a regex in Grafana."""
    return Matcher(label, "=~", f"${label}")


@dataclass(frozen=True)
class Filters:
    """What narrows a dashboard's queries.

    `scope` is the service's label filter (applied to raw catalog metrics that
    carry the label); `variables` are the labels with a template variable;
    `service` is an extra matcher on recorded series (the service variable of
    dashboards that show several services).
    """

    scope: tuple[tuple[str, tuple[str, ...]], ...] = ()
    variables: tuple[str, ...] = ()
    service: Matcher | None = None

    def raw(self, metric: Metric, *extra: Matcher, suffix: str = "") -> str:
        """A catalog metric's selector (suffix `_bucket` etc. for histograms)."""
        matchers: list[Matcher] = []
        for label, values in self.scope:
            if metric.has(label):
                matchers.append(one_of(label, list(values)))
        for label in self.variables:
            if metric.has(label):
                matchers.append(variable_matcher(label))
        return Selector(metric.name + suffix, tuple(matchers) + extra).render()

    def recorded(self, record: str, identity: tuple[Matcher, ...], labels: tuple[str, ...]) -> str:
        """A recorded series: `identity` (service, slo or budget) plus variables on its extra labels."""
        matchers = list(identity)
        if self.service is not None:
            # The service variable narrows on top of the series' own identity.
            matchers.append(self.service)
        matchers += [variable_matcher(label) for label in labels if label in self.variables]
        return Selector(record, tuple(matchers)).render()

    def slo(self, slo: SLOPlan, record: str) -> str:
        return self.recorded(record, slo.identity, slo.group_by)

    def slo_constant(self, slo: SLOPlan, record: str) -> str:
        """Series recorded per SLO only (objective, budget, window): no group labels."""
        return self.recorded(record, slo.identity, ())

    def budget(self, budget: BudgetPlan, record: str) -> str:
        return self.recorded(record, budget.identity, budget.by)

    def budget_constant(self, budget: BudgetPlan, record: str) -> str:
        return self.recorded(record, budget.identity, ())


def rate(selector: str, by: tuple[str, ...] = (), window: str = RATE_INTERVAL, offset: str = "") -> str:
    shift = f" offset {offset}" if offset else ""
    return f"{aggregate('sum', by)}(rate({selector}[{window}]{shift}))"


def increase(selector: str, by: tuple[str, ...] = (), window: str = RANGE, offset: str = "") -> str:
    shift = f" offset {offset}" if offset else ""
    return f"{aggregate('sum', by)}(increase({selector}[{window}]{shift}))"


def quantile(q: float, bucket_selector: str, by: tuple[str, ...] = ()) -> str:
    return f"histogram_quantile({q}, sum by ({', '.join(('le', *by))}) (rate({bucket_selector}[{RATE_INTERVAL}])))"


def ratio(numerator: str, denominator: str) -> str:
    """numerator / denominator, with an empty result rather than NaN or Inf when the denominator is 0."""
    return f"{numerator}\n/\n({denominator} > 0)"


def legend(*labels: str, prefix: str = "") -> str:
    text = " ".join(f"{{{{{label}}}}}" for label in labels)
    return f"{prefix} {text}".strip() if prefix else text


def label_replace(expr: str, label: str, value: str) -> str:
    """Adds a constant label (to tell series apart after `or`)."""
    return f'label_replace({expr}, "{label}", "{value}", "", "")'


def service_matcher(service: str) -> Matcher:
    return equals(N.LABEL_SERVICE, service)
