"""Real Prometheus on 127.0.0.1: config building, the server, a query client."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from .ports import free_port
from .process import LoopbackServer, ManagedProcess, http_ok


class PrometheusError(AssertionError):
    """The HTTP API answered with status=error (bad query, ...)."""


def binary(name: str) -> str:
    """Path of a required binary; a clear failure (never a skip) when missing."""
    path = shutil.which(name)
    if path is None:
        raise AssertionError(f"{name} is not installed: run `make system-deps` (Debian packages prometheus, "
                             "prometheus-alertmanager)")
    return path


def prometheus_config(scrape_targets: dict[str, list[str]], rule_files: list[Path] = (),
                      alertmanager: str | None = None, interval: str = "1s",
                      evaluation_interval: str | None = None) -> dict[str, Any]:
    """A minimal config: one static job per `scrape_targets` key (targets as
    host:port), `rule_files`, and an Alertmanager (host:port) if given."""
    config: dict[str, Any] = {
        "global": {"scrape_interval": interval, "evaluation_interval": evaluation_interval or interval},
        "scrape_configs": [{"job_name": job, "static_configs": [{"targets": list(targets)}]}
                           for job, targets in sorted(scrape_targets.items())],
    }
    if rule_files:
        config["rule_files"] = [str(p) for p in rule_files]
    if alertmanager:
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]}
    return config


def localize_config(base: dict[str, Any], targets: dict[str, str], rule_files: list[Path],
                    alertmanager: str | None, interval: str = "1s") -> dict[str, Any]:
    """Turn a deployment config (e.g. stack/prometheus/prometheus.yml) into one
    for a test: the same jobs, relabelling, metrics paths and scrape options,
    but each kept job's targets replaced by `targets[job]` (jobs not in
    `targets`, such as services that do not run here, are dropped),
    `interval` for scrape and evaluation, the given rule files and
    Alertmanager. Unknown jobs in `targets` are an error (a typo would
    otherwise silently scrape nothing)."""
    config = yaml.safe_load(yaml.safe_dump(base))  # deep copy
    jobs = {job["job_name"] for job in config.get("scrape_configs", [])}
    unknown = set(targets) - jobs
    if unknown:
        raise ValueError(f"jobs {sorted(unknown)} are not in the base config (it has {sorted(jobs)})")
    config.setdefault("global", {})
    config["global"]["scrape_interval"] = interval
    config["global"]["evaluation_interval"] = interval
    config["global"].pop("scrape_timeout", None)
    kept = []
    for job in config.get("scrape_configs", []):
        if job["job_name"] not in targets:
            continue
        job = dict(job)
        for key in ("scrape_interval", "scrape_timeout"):
            job.pop(key, None)
        for key in [k for k in job if k.endswith("_sd_configs")]:
            del job[key]
        job["static_configs"] = [{"targets": [targets[job["job_name"]]]}]
        kept.append(job)
    config["scrape_configs"] = kept
    config["rule_files"] = [str(p) for p in rule_files]
    config.pop("alerting", None)
    if alertmanager:
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]}
    config.pop("remote_write", None)
    return config


@dataclass
class PromClient:
    """The Prometheus HTTP API, returning the `data` part of each answer."""

    url: str
    timeout: float = 10.0

    def _get(self, path: str, **params: Any) -> Any:
        resp = httpx.get(f"{self.url}/api/v1/{path}", params=params, timeout=self.timeout)
        body = resp.json()
        if body.get("status") != "success":
            raise PrometheusError(f"{path} {params}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query(self, expr: str, time: float | None = None) -> list[dict]:
        """Instant vector/scalar result of `expr` (`result` list; scalars wrapped as one item)."""
        params = {"query": expr}
        if time is not None:
            params["time"] = time
        data = self._get("query", **params)
        if data["resultType"] in ("scalar", "string"):
            return [{"metric": {}, "value": data["result"]}]
        if data["resultType"] == "matrix":
            return data["result"]
        return data["result"]

    def value(self, expr: str) -> float | None:
        """The single value of `expr`, or None when the result is empty."""
        result = self.query(expr)
        if not result:
            return None
        if len(result) > 1:
            raise PrometheusError(f"{expr}: {len(result)} series, expected one")
        return float(result[0]["value"][1])

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict]:
        return self._get("query_range", query=expr, start=start, end=end, step=step)["result"]

    def exemplars(self, expr: str, start: float, end: float) -> list[dict]:
        return self._get("query_exemplars", query=expr, start=start, end=end)

    def rule_groups(self) -> list[dict]:
        return self._get("rules")["groups"]

    def alerts(self) -> list[dict]:
        """Active (pending or firing) alerts."""
        return self._get("alerts")["alerts"]

    def targets(self) -> list[dict]:
        return self._get("targets")["activeTargets"]

    def series_names(self) -> set[str]:
        return set(self._get("label/__name__/values"))


@dataclass
class PrometheusServer(LoopbackServer):
    """`prometheus` with `config` (a dict, written to tmp) on a free port,
    TSDB in `workdir`, exemplar storage on (as in the compose stack)."""

    config: dict[str, Any]
    workdir: Path
    extra_args: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    process: ManagedProcess | None = field(default=None, init=False)

    @property
    def client(self) -> PromClient:
        return PromClient(self.url)

    @property
    def config_path(self) -> Path:
        return self.workdir / "prometheus.yml"

    def start(self, timeout: float = 30.0) -> "PrometheusServer":
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(yaml.safe_dump(self.config, sort_keys=False))
        argv = [binary("prometheus"), f"--config.file={self.config_path}",
                f"--storage.tsdb.path={self.workdir / 'data'}", f"--web.listen-address={self.address}",
                "--enable-feature=exemplar-storage", "--web.enable-lifecycle", *self.extra_args]
        self.process = ManagedProcess("prometheus", argv, self.workdir / "prometheus.log").start()
        self.process.wait_ready(http_ok(f"{self.url}/-/ready"), timeout)
        return self

    def reload(self, config: dict[str, Any]) -> None:
        """Write a new config and POST /-/reload (lifecycle API is on in tests only)."""
        self.config = config
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        resp = httpx.post(f"{self.url}/-/reload", timeout=10)
        if resp.status_code != 200:
            raise PrometheusError(f"reload failed: {resp.status_code} {resp.text}")
