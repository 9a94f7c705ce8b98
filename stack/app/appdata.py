"""The app's data files (stack/app/data/*.yaml) as typed, frozen records."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml

DATA_DIR = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Prices:
    """US dollars per 1M tokens."""

    input: float
    output: float
    cache_read: float
    cache_write: float


@dataclass(frozen=True)
class LogNormal:
    median: float
    sigma: float


@dataclass(frozen=True)
class ModelProfile:
    name: str
    provider: str
    prices: Prices
    ttft: LogNormal
    decode_mean: float
    decode_stddev: float
    chunk_tokens: int
    requests_per_minute: int
    tokens_per_minute: int


@dataclass(frozen=True)
class FeatureConfig:
    name: str
    model: str
    fallback: str
    max_output_tokens: int
    answer_tokens: LogNormal
    token_budget: int
    eval_sample_rate: float
    connectors: tuple[str, ...]
    tools: tuple[str, ...]
    max_agent_steps: int


@dataclass(frozen=True)
class PromptTemplate:
    feature: str
    version: str
    text: str
    quality_shift: float
    validation_error_rate: float
    context_docs: int
    padding_tokens: int
    cache_prefix: bool = True

    @property
    def template_id(self) -> str:
        return f"{self.feature}/{self.version}"

    @property
    def sha(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Passage:
    id: str
    text: str


@dataclass(frozen=True)
class Connector:
    name: str
    latency: LogNormal
    passages: tuple[Passage, ...]


@dataclass(frozen=True)
class ScenarioDef:
    name: str
    kind: str
    description: str
    params: dict


@dataclass(frozen=True)
class AppData:
    models: dict[str, ModelProfile]
    features: dict[str, FeatureConfig]
    templates: dict[tuple[str, str], PromptTemplate]
    active_versions: dict[str, str]
    connectors: dict[str, Connector]
    scenarios: dict[str, ScenarioDef]


def _read(name: str) -> dict:
    return yaml.safe_load((DATA_DIR / name).read_text(encoding="utf-8"))


def _lognormal(d: dict) -> LogNormal:
    return LogNormal(float(d["median"]), float(d["sigma"]))


def load_app_data() -> AppData:
    models = {
        name: ModelProfile(
            name=name, provider=m["provider"], prices=Prices(**{k: float(v) for k, v in m["prices"].items()}),
            ttft=_lognormal(m["ttft"]), decode_mean=float(m["decode_tps"]["mean"]),
            decode_stddev=float(m["decode_tps"]["stddev"]), chunk_tokens=int(m["chunk_tokens"]),
            requests_per_minute=int(m["quota"]["requests_per_minute"]),
            tokens_per_minute=int(m["quota"]["tokens_per_minute"]),
        )
        for name, m in _read("models.yaml")["models"].items()
    }
    features = {
        name: FeatureConfig(
            name=name, model=f["model"], fallback=f["fallback"], max_output_tokens=int(f["max_output_tokens"]),
            answer_tokens=_lognormal(f["answer_tokens"]), token_budget=int(f["token_budget"]),
            eval_sample_rate=float(f["eval_sample_rate"]), connectors=tuple(f["connectors"]),
            tools=tuple(f["tools"]), max_agent_steps=int(f["max_agent_steps"]),
        )
        for name, f in _read("features.yaml")["features"].items()
    }
    prompts = _read("prompts.yaml")
    templates = {
        (feature, version): PromptTemplate(feature=feature, version=version, **t)
        for feature, versions in prompts["templates"].items()
        for version, t in versions.items()
    }
    connectors = {
        name: Connector(name, _lognormal(c["latency"]), tuple(Passage(**p) for p in c["passages"]))
        for name, c in _read("corpus.yaml")["connectors"].items()
    }
    scenarios = {
        name: ScenarioDef(name, s["kind"], s.get("description", ""), dict(s.get("params", {})))
        for name, s in _read("scenarios.yaml")["scenarios"].items()
    }
    return AppData(models, features, templates, dict(prompts["active"]), connectors, scenarios)
