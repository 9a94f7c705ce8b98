"""Real Alertmanager (Debian: `prometheus-alertmanager`) on 127.0.0.1, and its API v2."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import yaml

from .ports import free_port
from .process import LoopbackServer, ManagedProcess, http_ok

# Debian installs the binary as prometheus-alertmanager; upstream tarballs as alertmanager.
BINARY_NAMES = ("prometheus-alertmanager", "alertmanager")


def alertmanager_binary() -> str:
    for name in BINARY_NAMES:
        path = shutil.which(name)
        if path:
            return path
    raise AssertionError("alertmanager is not installed: run `make system-deps` "
                         "(Debian package prometheus-alertmanager)")


def amtool_binary() -> str:
    path = shutil.which("amtool")
    if path is None:
        raise AssertionError("amtool is not installed: run `make system-deps` (Debian package prometheus-alertmanager)")
    return path


def with_webhook(config: dict[str, Any], base_url: str, *, fast: bool = True) -> dict[str, Any]:
    """A copy of an Alertmanager config with every receiver replaced by one
    webhook to `<base_url>/<receiver name>` (send_resolved on), keeping routes
    and inhibitions (pass `WebhookReceiver.base_url`). `fast` shrinks
    group_wait/group_interval/repeat_interval everywhere so notifications
    arrive within seconds."""
    config = yaml.safe_load(yaml.safe_dump(config))  # deep copy
    config["receivers"] = [{"name": r["name"],
                            "webhook_configs": [{"url": f"{base_url}/{r['name']}", "send_resolved": True}]}
                           for r in config.get("receivers", [])]
    config.pop("templates", None)
    if fast:
        def shrink(route: dict[str, Any]) -> None:
            for key, value in (("group_wait", "1s"), ("group_interval", "2s"), ("repeat_interval", "1h")):
                if key in route or route is config["route"]:
                    route[key] = value
            for child in route.get("routes", []):
                shrink(child)
        shrink(config["route"])
    return config


@dataclass
class AlertmanagerClient:
    url: str
    timeout: float = 10.0

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        resp = httpx.post(f"{self.url}/api/v2/alerts", json=alerts, timeout=self.timeout)
        if resp.status_code != 200:
            raise AssertionError(f"POST /api/v2/alerts: {resp.status_code} {resp.text}")

    def alerts(self, **filters: Any) -> list[dict[str, Any]]:
        """GET /api/v2/alerts; filters such as active=True, inhibited=True, filter=['slo="x"']."""
        params = {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in filters.items()}
        resp = httpx.get(f"{self.url}/api/v2/alerts", params=params, timeout=self.timeout)
        resp.raise_for_status()
        return resp.json()

    def status(self) -> dict[str, Any]:
        resp = httpx.get(f"{self.url}/api/v2/status", timeout=self.timeout)
        resp.raise_for_status()
        return resp.json()


def alert(labels: dict[str, str], *, annotations: dict[str, str] | None = None, resolved: bool = False,
          minutes: int = 10) -> dict[str, Any]:
    """An API v2 alert as Prometheus would send it: firing for `minutes` from
    now, or resolved (endsAt in the past)."""
    now = datetime.now(timezone.utc)
    ends = now - timedelta(seconds=1) if resolved else now + timedelta(minutes=minutes)
    return {"labels": labels, "annotations": annotations or {},
            "startsAt": (now - timedelta(minutes=1)).isoformat(), "endsAt": ends.isoformat()}


@dataclass
class AlertmanagerServer(LoopbackServer):
    """Alertmanager with `config` (a dict) on a free 127.0.0.1 port, clustering
    off (`--cluster.listen-address=`), data in `workdir`."""

    config: dict[str, Any]
    workdir: Path
    port: int = field(default_factory=free_port)
    process: ManagedProcess | None = field(default=None, init=False)

    @property
    def client(self) -> AlertmanagerClient:
        return AlertmanagerClient(self.url)

    @property
    def config_path(self) -> Path:
        return self.workdir / "alertmanager.yml"

    def start(self, timeout: float = 30.0) -> "AlertmanagerServer":
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(yaml.safe_dump(self.config, sort_keys=False))
        argv = [alertmanager_binary(), f"--config.file={self.config_path}", f"--storage.path={self.workdir / 'data'}",
                f"--web.listen-address={self.address}", "--cluster.listen-address="]
        self.process = ManagedProcess("alertmanager", argv, self.workdir / "alertmanager.log").start()
        self.process.wait_ready(http_ok(f"{self.url}/-/ready"), timeout)
        return self



def load_config(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())
