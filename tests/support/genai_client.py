"""An application instrumented with the official OpenTelemetry OpenAI
instrumentation (opentelemetry-instrumentation-openai-v2), its metrics
exported by the OpenTelemetry Prometheus exporter on 127.0.0.1.

Run as its own process (the instrumentation patches the `openai` module and
the SDK keeps a process-wide registry, neither of which belongs in the test
process):

    python genai_client.py --base-url URL --metrics-port PORT --models a,b --failing-model c --embedding-model e

It sends chat completions to URL in a loop until terminated: plain, streamed
(with usage) and to the failing model, and embeddings, so successes, errors and streaming
timings are all recorded. The conventions the instrumentation follows are
chosen by the environment the caller sets (OTEL_SEMCONV_STABILITY_OPT_IN).
No prompt or reply text is captured (the instrumentation's default).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time

import openai
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from prometheus_client import start_http_server


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--metrics-port", type=int, required=True)
    parser.add_argument("--models", default="", help="comma-separated chat models that answer")
    parser.add_argument("--failing-model", default=None, help="a chat model the server fails")
    parser.add_argument("--embedding-model", default=None)
    parser.add_argument("--pause", type=float, default=0.05, help="seconds between calls")
    args = parser.parse_args(argv)

    reader = PrometheusMetricReader()
    provider = MeterProvider(resource=Resource.create({"service.name": "genai-chat"}), metric_readers=[reader])
    OpenAIInstrumentor().instrument(meter_provider=provider)
    start_http_server(args.metrics_port, addr="127.0.0.1")

    client = openai.OpenAI(base_url=args.base_url, api_key="not-a-real-key", max_retries=0, timeout=10)
    messages = [{"role": "user", "content": "say hello in five words"}]
    calls = [(model, stream) for model in filter(None, args.models.split(",")) for stream in (False, True)]
    calls += [(model, False) for model in (args.failing_model, args.embedding_model) if model]
    plan = itertools.cycle(calls)
    for model, stream in plan:
        try:
            if model == args.embedding_model:
                client.embeddings.create(model=model, input=["a short text to embed"])
            elif stream:
                for _ in client.chat.completions.create(model=model, messages=messages, stream=True,
                                                        stream_options={"include_usage": True}):
                    pass
            else:
                client.chat.completions.create(model=model, messages=messages)
        except openai.APIError:
            pass  # the failing model: the instrumentation records error.type
        time.sleep(args.pause)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
