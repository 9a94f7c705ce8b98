"""Prometheus metrics built from the catalog, exposed as OpenMetrics with exemplars.

The catalog decides which metrics exist and which labels they carry; call
sites pass a *context* of label values (a superset) and each metric picks the
labels the catalog gives it. A label the context lacks is `other`; a metric
the catalog drops is simply not emitted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST, generate_latest

from slokit.model import Catalog, MetricDef

from slokit_app.labels import OTHER, LabelBounds

Context = Mapping[str, object]


def _build(name: str, d: MetricDef):
    labels = list(d.labels)
    if d.type == "counter":
        # prometheus_client appends `_total` itself.
        return Counter(name.removesuffix("_total"), d.help, labels, registry=None)
    if d.type == "histogram":
        return Histogram(name, d.help, labels, buckets=list(d.buckets or []) + [float("inf")], registry=None)
    return Gauge(name, d.help, labels, registry=None, multiprocess_mode="all")


class _CatalogCollector:
    """Collects the catalog's metrics, without the `_created` series.

    The catalog is the contract: `_created` samples would become extra series
    in Prometheus. Dropping them here avoids prometheus_client's process-wide
    switch.
    """

    def __init__(self, metrics: Iterable):
        self._metrics = list(metrics)

    def collect(self) -> Iterable[Metric]:
        for metric in self._metrics:
            for family in metric.collect():
                family.samples = [s for s in family.samples if not s.name.endswith("_created")]
                yield family


class Metrics:
    def __init__(self, catalog: Catalog, enabled: bool = True):
        self.enabled = enabled
        self._defs = dict(catalog.metrics)
        self._bounds = LabelBounds(dict(catalog.labels))
        self._metrics = {name: _build(name, d) for name, d in sorted(self._defs.items())}
        self._children: dict[tuple[str, tuple[str, ...]], object] = {}
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_CatalogCollector(self._metrics.values()))

    def _child(self, name: str, ctx: Context):
        metric = self._metrics.get(name)
        if metric is None:
            return None
        labels = self._defs[name].labels
        if not labels:
            return metric
        values = tuple(self._bounds.bound(label, ctx.get(label, OTHER)) for label in labels)
        # prometheus_client validates and locks on every labels() call; children
        # are stable objects, so look them up once per label set.
        key = (name, values)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*values)
        return child

    @staticmethod
    def _exemplar(trace_id: str | None) -> dict[str, str] | None:
        return {"trace_id": trace_id} if trace_id else None

    def inc(self, name: str, ctx: Context, amount: float = 1.0, trace_id: str | None = None) -> None:
        if not self.enabled or amount <= 0:
            return
        child = self._child(name, ctx)
        if child is not None:
            child.inc(amount, exemplar=self._exemplar(trace_id))

    def observe(self, name: str, ctx: Context, value: float, trace_id: str | None = None) -> None:
        if not self.enabled:
            return
        child = self._child(name, ctx)
        if child is not None:
            child.observe(value, exemplar=self._exemplar(trace_id))

    def set(self, name: str, ctx: Context, value: float) -> None:
        if not self.enabled:
            return
        child = self._child(name, ctx)
        if child is not None:
            child.set(value)

    def add(self, name: str, ctx: Context, amount: float) -> None:
        """Move a gauge up or down (in-flight requests)."""
        if not self.enabled:
            return
        child = self._child(name, ctx)
        if child is not None:
            child.inc(amount)

    def remove(self, name: str, ctx: Context) -> None:
        metric = self._metrics.get(name)
        if metric is None or not self.enabled:
            return
        values = [self._bounds.bound(label, ctx.get(label, OTHER)) for label in self._defs[name].labels]
        self._children.pop((name, tuple(values)), None)
        try:
            metric.remove(*values)
        except KeyError:
            pass

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
