"""The FastAPI app: chat (support_chat, order_agent), RAG answers, feedback,
/metrics, and the token-protected admin endpoint for fault injection."""

from __future__ import annotations

import random
import secrets
import sys
from collections.abc import Callable
from contextlib import asynccontextmanager
from typing import Literal, TextIO

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from opentelemetry.sdk.trace.export import SpanExporter
from pydantic import BaseModel, Field

from slokit.model import Catalog

from slokit_app.appdata import load_app_data
from slokit_app.calls import CallPolicy, ModelCaller
from slokit_app.catalog import load_catalog
from slokit_app.config import Settings
from slokit_app.faults import Faults, ScenarioError, load_scenario_file
from slokit_app.flow import Ask, Flow, safe_id
from slokit_app.guard import AdminPolicy, Guard
from slokit_app.logs import JsonLogger
from slokit_app.metrics import Metrics
from slokit_app.providers.simulated import SimulatedProvider
from slokit_app.telemetry import Telemetry
from slokit_app.tracing import Tracer, build_tracer_provider, extract_context

MAX_MESSAGE_CHARS = 200_000


class ChatIn(BaseModel):
    message: str = Field(max_length=MAX_MESSAGE_CHARS)
    feature: Literal["support_chat", "order_agent"] = "support_chat"
    tenant: str | None = Field(default=None, max_length=200)
    conversation_id: str | None = Field(default=None, max_length=200)


class RagIn(BaseModel):
    question: str = Field(max_length=MAX_MESSAGE_CHARS)
    tenant: str | None = Field(default=None, max_length=200)
    conversation_id: str | None = Field(default=None, max_length=200)


class FeedbackIn(BaseModel):
    feature: str = Field(max_length=100)
    rating: Literal["up", "down"]
    request_id: str | None = Field(default=None, max_length=100)


class ScenarioIn(BaseModel):
    params: dict = Field(default_factory=dict)


def _announce_token(token: str) -> None:
    print(f"slokit-demo-app: no SLOKIT_APP_ADMIN_TOKEN set; generated admin token (shown once): {token}",
          file=sys.stderr, flush=True)


def _provider(settings: Settings, data, faults: Faults, rng: random.Random):
    if settings.provider == "openai":
        from slokit_app.providers.openai_compat import OpenAICompatProvider

        if not settings.openai.base_url:
            raise SystemExit("SLOKIT_APP_PROVIDER=openai needs SLOKIT_APP_OPENAI_BASE_URL")
        return OpenAICompatProvider(settings.openai)
    if settings.provider != "simulated":
        raise SystemExit(f"unknown SLOKIT_APP_PROVIDER {settings.provider!r}: use simulated or openai")
    return SimulatedProvider(data.models, faults, rng)


def create_app(settings: Settings | None = None, *, span_exporters: list[SpanExporter] | None = None,
               log_stream: TextIO | None = None, catalog: Catalog | None = None,
               announce: Callable[[str], None] = _announce_token) -> FastAPI:
    settings = settings or Settings.from_env()
    catalog = catalog or load_catalog(settings.catalog_path)
    data = load_app_data()
    rng = random.Random(settings.seed)
    faults = Faults(data.scenarios, frozenset(data.templates))
    if settings.scenario_file is not None:
        load_scenario_file(settings.scenario_file, faults)
    admin_token = settings.admin_token
    if not admin_token:
        admin_token = secrets.token_urlsafe(24)
        announce(admin_token)

    on = settings.telemetry
    telemetry = Telemetry(
        metrics=Metrics(catalog, enabled=on),
        tracer=Tracer(build_tracer_provider(settings.version, span_exporters) if on else None),
        logger=JsonLogger(log_stream, enabled=on),
        hash_key=settings.hash_key or secrets.token_bytes(32),
        debug_capture_rate=settings.debug_capture_rate,
    )
    provider = _provider(settings, data, faults, rng)
    policy = CallPolicy(settings.max_retries, settings.backoff_base_s, settings.request_timeout_s,
                        settings.breaker_failures, settings.breaker_cooldown_s)
    flow = Flow(data, faults, ModelCaller(provider, data.models, policy, telemetry, rng), telemetry, rng,
                settings.time_scale)
    telemetry.metrics.set("llm_app_build_info", {"version": settings.version}, 1)
    for feature in data.features:
        telemetry.metrics.add("llm_inflight_requests", {"feature": feature}, 0)
    flow.publish_all_versions()

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        telemetry.tracer.shutdown()
        if hasattr(provider, "aclose"):
            await provider.aclose()

    app = FastAPI(title="slokit demo LLM app", version=settings.version, lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url=None)
    app.state.telemetry, app.state.faults, app.state.flow, app.state.settings = telemetry, faults, flow, settings
    # Outside routing and body parsing: the admin token and the body size are
    # checked before a byte of the body is read (guard.py).
    app.add_middleware(Guard, admin=AdminPolicy(admin_token, settings.admin_allow_remote))

    async def _answer(ask: Ask, request: Request) -> JSONResponse:
        reply = await flow.handle(ask, extract_context(request.headers))
        return JSONResponse(reply.body, status_code=reply.http_status)

    @app.post("/v1/chat")
    async def chat(body: ChatIn, request: Request) -> JSONResponse:
        tenant = body.tenant or request.headers.get("x-tenant-id") or "default"
        return await _answer(Ask(body.feature, body.message, tenant, body.conversation_id), request)

    @app.post("/v1/rag/answer")
    async def rag(body: RagIn, request: Request) -> JSONResponse:
        tenant = body.tenant or request.headers.get("x-tenant-id") or "default"
        return await _answer(Ask("rag_answer", body.question, tenant, body.conversation_id), request)

    @app.post("/v1/feedback")
    async def feedback(body: FeedbackIn) -> dict:
        telemetry.metrics.inc("llm_user_feedback_total", {"feature": body.feature, "rating": body.rating})
        return {"recorded": True, "request_id": safe_id(body.request_id, None)}

    @app.get("/metrics")
    async def metrics(request: Request) -> Response:
        payload, content_type = telemetry.metrics.exposition(request.headers.get("accept"))
        return Response(payload, media_type=content_type)

    @app.get("/healthz")
    async def healthz() -> dict:
        return {"status": "ok", "version": settings.version, "provider": provider.name}

    def _scenarios() -> dict:
        return {"active": [{"name": s.name, "kind": s.kind, "params": s.params} for s in faults.active()],
                "known": {n: {"kind": d.kind, "description": d.description, "params": d.params}
                          for n, d in sorted(faults.known().items())}}

    # Every /admin route is behind the Guard's admin gate.
    @app.get("/admin/scenarios")
    async def list_scenarios():
        return _scenarios()

    @app.put("/admin/scenarios/{name}")
    async def activate(name: str, body: ScenarioIn | None = None):
        try:
            faults.activate(name, (body.params if body else {}))
        except ScenarioError as exc:
            return JSONResponse({"error": str(exc)}, status_code=404 if "unknown" in str(exc) else 422)
        flow.publish_all_versions()
        return _scenarios()

    @app.delete("/admin/scenarios/{name}")
    async def deactivate(name: str):
        if not faults.deactivate(name):
            return JSONResponse({"error": f"scenario {name!r} is not active"}, status_code=404)
        flow.publish_all_versions()
        return _scenarios()

    @app.delete("/admin/scenarios")
    async def clear():
        faults.clear()
        flow.publish_all_versions()
        return _scenarios()

    return app
