"""What every slokit dashboard shares: tags, the header, the datasource and label variables."""

from __future__ import annotations

from slokit import naming as N
from slokit.plan import ServicePlan
from slokit.promql import Selector, one_of
from slokit.render.grafana import signals as S
from slokit.render.common import header_lines
from slokit.render.grafana.dashboard_json import Variable
from slokit.render.grafana.queries import variable_matcher

TAG = "slokit"
# Labels with a template variable on service dashboards, in display order.
VARIABLE_LABELS = (S.FEATURE, S.MODEL)


def datasource_variable() -> Variable:
    return Variable("datasource", "Data source", "datasource", "prometheus", current=N.DATASOURCE_PROMETHEUS_UID,
                    description="The Prometheus-compatible datasource every panel queries.")


def description(sources: tuple[str, ...], text: str) -> str:
    return " ".join(header_lines(sources)) + " " + text


def _variable_source(signals: S.Signals) -> S.Metric | None:
    """The metric variable values are read from: the one every model call increments."""
    return signals.get(S.REQUESTS)


def label_variables(service: ServicePlan | None, signals: S.Signals) -> tuple[Variable, ...]:
    """feature (limited to the service's scope) and model (limited to the chosen features)."""
    source = _variable_source(signals)
    if source is None:
        return ()
    variables, earlier = [], []
    for label in VARIABLE_LABELS:
        if not source.has(label):
            continue
        matchers = [one_of(k, list(v)) for k, v in (service.scope if service else ()) if source.has(k)]
        matchers += [variable_matcher(e) for e in earlier]
        query = f"label_values({Selector(source.name, tuple(matchers)).render()}, {label})"
        variables.append(Variable(label, label.capitalize(), "query", query, multi=True, include_all=True,
                                  all_value=".*", current="$__all",
                                  description=f"Narrows every panel whose series carry `{label}`."))
        earlier.append(label)
    return tuple(variables)
