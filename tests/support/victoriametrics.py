"""Real VictoriaMetrics (single node) and vmalert on 127.0.0.1 (Debian package victoria-metrics).

VictoriaMetrics answers the Prometheus query API, so `PromClient(vm.url)`
queries it; vmalert serves /api/v1/alerts and /api/v1/rules in Prometheus'
shape, so `PromClient(vmalert.url).alerts()` works too.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from .ports import free_port
from .process import LoopbackServer, ManagedProcess, http_ok
from .prometheus import PromClient


def vm_binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise AssertionError(f"{name} is not installed: run `make system-deps` (Debian package victoria-metrics)")
    return path


def scrape_only(config: dict[str, Any]) -> dict[str, Any]:
    """A Prometheus config reduced to what VictoriaMetrics' -promscrape.config reads (it rejects the rest)."""
    return {"global": {k: v for k, v in config.get("global", {}).items() if k in ("scrape_interval", "external_labels")},
            "scrape_configs": config.get("scrape_configs", [])}


@dataclass
class VictoriaMetricsServer(LoopbackServer):
    """`victoria-metrics` with its data in `workdir`, scraping `scrape_config` (a Prometheus
    config dict) when given. `latency_offset` is -search.latencyOffset (default 30s upstream:
    queries do not see the last 30s of samples)."""

    workdir: Path
    scrape_config: dict[str, Any] | None = None
    latency_offset: str | None = None
    extra_args: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    process: ManagedProcess | None = field(default=None, init=False)

    @property
    def client(self) -> PromClient:
        return PromClient(self.url)

    def start(self, timeout: float = 30.0) -> "VictoriaMetricsServer":
        self.workdir.mkdir(parents=True, exist_ok=True)
        # Imported history may be old: keep everything.
        argv = [vm_binary("victoria-metrics"), f"-storageDataPath={self.workdir / 'data'}",
                f"-httpListenAddr={self.address}", "-retentionPeriod=100y"]
        if self.scrape_config is not None:
            path = self.workdir / "scrape.yml"
            path.write_text(yaml.safe_dump(scrape_only(self.scrape_config), sort_keys=False))
            argv.append(f"-promscrape.config={path}")
        if self.latency_offset is not None:
            argv.append(f"-search.latencyOffset={self.latency_offset}")
        argv += self.extra_args
        self.process = ManagedProcess("victoria-metrics", argv, self.workdir / "victoria-metrics.log").start()
        self.process.wait_ready(http_ok(f"{self.url}/health"), timeout)
        return self

    def import_prometheus(self, text: str) -> None:
        """POST samples in the Prometheus text format with millisecond timestamps, then make them searchable."""
        resp = httpx.post(f"{self.url}/api/v1/import/prometheus", content=text.encode(), timeout=60)
        assert resp.status_code in (200, 204), f"import failed: {resp.status_code} {resp.text}"
        resp = httpx.get(f"{self.url}/internal/force_flush", timeout=60)
        assert resp.status_code == 200, f"force_flush failed: {resp.status_code} {resp.text}"
        httpx.get(f"{self.url}/internal/resetRollupResultCache", timeout=60)


@dataclass
class VMAlertServer(LoopbackServer):
    """`vmalert` evaluating `rule_files` every `interval` against `datasource` (a VictoriaMetrics
    URL), writing recorded series and alert state back to it, notifying `notifier` (an
    Alertmanager URL; vmalert 1.79 refuses to start without one when a file has alerts)."""

    rule_files: list[Path]
    datasource: str
    workdir: Path
    notifier: str
    interval: str = "1s"
    extra_args: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    process: ManagedProcess | None = field(default=None, init=False)

    @property
    def client(self) -> PromClient:
        return PromClient(self.url)

    def start(self, timeout: float = 30.0) -> "VMAlertServer":
        self.workdir.mkdir(parents=True, exist_ok=True)
        argv = [vm_binary("vmalert"), *(f"-rule={p}" for p in self.rule_files), f"-datasource.url={self.datasource}",
                f"-remoteWrite.url={self.datasource}", f"-evaluationInterval={self.interval}",
                f"-httpListenAddr={self.address}", f"-notifier.url={self.notifier}", *self.extra_args]
        self.process = ManagedProcess("vmalert", argv, self.workdir / "vmalert.log").start()
        self.process.wait_ready(http_ok(f"{self.url}/health"), timeout)
        return self
