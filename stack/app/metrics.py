"""Prometheus metrics built from the catalog, exposed as OpenMetrics with
exemplars to a scraper that asks for it, else in the text format 0.0.4.

The catalog decides which metrics exist and which labels they carry; call
sites pass a *context* of label values (a superset) and each metric picks the
labels the catalog gives it. A label the context lacks is `other`; a metric
the catalog drops is simply not emitted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.exposition import generate_latest as generate_text
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST as CONTENT_TYPE_OPENMETRICS
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics

from slokit.model import Catalog, MetricDef

from slokit_app.labels import OTHER, LabelBounds

Context = Mapping[str, object]


def _quality(params: list[str]) -> float:
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def wants_openmetrics(accept: str | None) -> bool:
    """True when the Accept header prefers OpenMetrics to the text format.

    Prometheus asks `application/openmetrics-text;version=1.0.0,...,text/plain;
    version=0.0.4;q=0.5,*/*;q=0.1`; promtool, curl and older scrapers ask for
    text or anything. Ties go to the text format, which every consumer reads.
    """
    best_om, best_text = 0.0, 0.0
    for item in (accept or "").split(","):
        media, *params = item.split(";")
        media = media.strip().lower()
        q = _quality(params)
        if media == "application/openmetrics-text":
            best_om = max(best_om, q)
        elif media in ("text/plain", "text/*", "*/*"):
            best_text = max(best_text, q)
    return best_om > best_text


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

    def exposition(self, accept: str | None = None) -> tuple[bytes, str]:
        """The payload and its content type, negotiated from the scraper's Accept header."""
        if wants_openmetrics(accept):
            return generate_openmetrics(self.registry), CONTENT_TYPE_OPENMETRICS
        return generate_text(self.registry), CONTENT_TYPE_PLAIN_0_0_4
