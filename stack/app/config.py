"""Settings of the demo app, read from the environment (12-factor style).

Every knob has a safe default: simulated provider (no network, no keys),
bind 127.0.0.1, no OTLP export, no raw content in logs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ENV_PREFIX = "SLOKIT_APP_"


def _default_catalog() -> Path:
    # The repository's catalog, two levels above this package (stack/app -> repo root).
    return Path(__file__).resolve().parents[2] / "slos" / "catalog.yaml"


def _env(name: str, default: str) -> str:
    return os.environ.get(ENV_PREFIX + name, default)


def _flag(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class OpenAISettings:
    """An OpenAI-compatible endpoint; used only when `provider` is `openai`."""

    base_url: str = ""
    api_key: str = field(default="", repr=False)
    # Our model name (sim-large / sim-small role) -> the endpoint's model id.
    model_map: dict[str, str] = field(default_factory=dict)
    provider_name: str = "openai"
    timeout_s: float = 30.0


@dataclass(frozen=True)
class Settings:
    catalog_path: Path = field(default_factory=_default_catalog)
    host: str = "127.0.0.1"
    port: int = 8000
    version: str = "0.1.0"
    # 0: simulated latencies are observed (metrics, span timestamps) but never slept.
    # 1: slept in real time; 0.01: slept at 1/100 speed. Tests and bench use 0.
    time_scale: float = 0.0
    seed: int | None = None
    provider: str = "simulated"
    openai: OpenAISettings = field(default_factory=OpenAISettings)
    scenario_file: Path | None = None
    admin_token: str | None = field(default=None, repr=False)
    # Admin requests are accepted from loopback clients only, unless explicitly
    # allowed (for a container whose admin caller sits on another address).
    admin_allow_remote: bool = False
    debug_capture_rate: float = 0.0
    telemetry: bool = True
    max_retries: int = 2
    backoff_base_s: float = 0.25
    request_timeout_s: float = 10.0
    breaker_failures: int = 5
    breaker_cooldown_s: float = 10.0
    hash_key: bytes | None = field(default=None, repr=False)

    @staticmethod
    def from_env() -> "Settings":
        seed = _env("SEED", "")
        scenario = _env("SCENARIO_FILE", "")
        model_map = {}
        for pair in filter(None, os.environ.get("SLOKIT_APP_OPENAI_MODELS", "").split(",")):
            ours, _, theirs = pair.partition("=")
            model_map[ours.strip()] = theirs.strip()
        hash_key = _env("HASH_KEY", "")
        return Settings(
            catalog_path=Path(_env("CATALOG", str(_default_catalog()))),
            host=_env("HOST", "127.0.0.1"),
            port=int(_env("PORT", "8000")),
            version=_env("VERSION", "0.1.0"),
            time_scale=float(_env("TIME_SCALE", "0")),
            seed=int(seed) if seed else None,
            provider=_env("PROVIDER", "simulated"),
            openai=OpenAISettings(
                base_url=os.environ.get("SLOKIT_APP_OPENAI_BASE_URL", ""),
                api_key=os.environ.get("SLOKIT_APP_OPENAI_API_KEY", ""),
                model_map=model_map,
                provider_name=os.environ.get("SLOKIT_APP_OPENAI_PROVIDER_NAME", "openai"),
                timeout_s=float(os.environ.get("SLOKIT_APP_OPENAI_TIMEOUT", "30")),
            ),
            scenario_file=Path(scenario) if scenario else None,
            admin_token=_env("ADMIN_TOKEN", "") or None,
            admin_allow_remote=_flag(_env("ADMIN_ALLOW_REMOTE", "false")),
            debug_capture_rate=float(_env("DEBUG_CAPTURE_RATE", "0")),
            telemetry=_flag(_env("TELEMETRY", "true")),
            hash_key=hash_key.encode() if hash_key else None,
        )
