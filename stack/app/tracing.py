"""OpenTelemetry tracing of the app, with redacted attributes and simulated timestamps.

The app owns its TracerProvider (not the process-global one), so tests can
attach an in-memory exporter and several apps can live in one process.
Spans are exported over OTLP/HTTP only when OTEL_EXPORTER_OTLP_ENDPOINT is set.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from slokit_app.redact import redact_value
from slokit_app.timeline import Timeline

SERVICE_NAME = "slokit-demo-app"
_PROPAGATOR = TraceContextTextMapPropagator()


def otlp_exporter(env: Mapping[str, str]) -> SpanExporter | None:
    """An OTLP/HTTP exporter when the standard endpoint variables are set, else None:
    with neither set, nothing leaves the process (not even to the SDK's default
    localhost:4318)."""
    if not (env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")):
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()  # reads endpoint, headers and timeout from the same variables


def build_tracer_provider(version: str, exporters: list[SpanExporter] | None = None) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE_NAME, "service.version": version}))
    for exporter in exporters or []:
        # Test exporters see spans synchronously.
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    otlp = otlp_exporter(os.environ)
    if otlp is not None:
        provider.add_span_processor(BatchSpanProcessor(otlp))
    return provider


def extract_context(headers: Mapping[str, str]):
    """The caller's W3C `traceparent`, if any, and nothing else.

    `tracestate` and `baggage` are caller-supplied text: continued, they would
    ride verbatim on every span we export (and a malformed tracestate is echoed
    by the SDK's parser to stderr). The trace id and parent are enough to join
    the caller's trace, so only `traceparent` reaches the propagator.
    """
    traceparent = headers.get("traceparent")
    return _PROPAGATOR.extract(carrier={"traceparent": traceparent} if traceparent else {})


def trace_ids(span: Span) -> tuple[str | None, str | None]:
    ctx = span.get_span_context()
    if not ctx.is_valid or not ctx.trace_flags.sampled:
        return None, None
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")


# Ids the app or the provider generates: nothing a user typed can be in them.
_GENERATED = frozenset({"gen_ai.response.id", "gen_ai.tool.call.id", "app.llm.request.id",
                        "app.llm.prompt.template.sha"})


def set_attributes(span: Span, attributes: Mapping[str, object]) -> None:
    """Set attributes with every string redacted (generated ids aside); None values are skipped."""
    if not span.is_recording():
        return
    for key, value in attributes.items():
        if value is None:
            continue
        if key not in _GENERATED:
            value = redact_value(value)
        if isinstance(value, list):
            value = [str(v) for v in value]
        span.set_attribute(key, value)


class Tracer:
    def __init__(self, provider: TracerProvider | None):
        self.provider = provider
        self._tracer = provider.get_tracer("slokit_app") if provider else trace.NoOpTracer()

    @contextmanager
    def span(self, name: str, timeline: Timeline, attributes: Mapping[str, object] | None = None,
             context=None, kind: SpanKind = SpanKind.INTERNAL) -> Iterator[Span]:
        """A span timed on the request's simulated timeline."""
        with self._tracer.start_as_current_span(name, context=context, kind=kind, start_time=timeline.now_ns(),
                                                end_on_exit=False, record_exception=False,
                                                set_status_on_exception=False) as span:
            if attributes:
                set_attributes(span, attributes)
            try:
                yield span
            except BaseException as exc:
                # Keep a more specific error.type the caller already set.
                if "error.type" not in (getattr(span, "attributes", None) or {}):
                    span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                    set_attributes(span, {"error.type": type(exc).__name__})
                raise
            finally:
                span.end(end_time=timeline.now_ns())

    def shutdown(self) -> None:
        if self.provider is not None:
            self.provider.shutdown()
