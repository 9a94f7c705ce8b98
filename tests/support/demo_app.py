"""The demo LLM app (`slokit-demo-app`) as a real subprocess."""

from __future__ import annotations

import secrets
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from .ports import free_port
from .process import LoopbackServer, ManagedProcess, clean_env, http_ok


def demo_app_argv() -> list[str]:
    exe = shutil.which("slokit-demo-app") or (str(Path(sys.executable).parent / "slokit-demo-app"))
    return [exe] if Path(exe).exists() else [sys.executable, "-m", "slokit_app"]


@dataclass
class DemoApp(LoopbackServer):
    """`slokit-demo-app --port P` on 127.0.0.1 with a known admin token
    (SLOKIT_APP_ADMIN_TOKEN, so nothing is parsed from its stderr), the
    simulated provider, a fixed seed, and `env` overrides (e.g.
    SLOKIT_APP_TIME_SCALE). Its JSON request log goes to workdir/app.log."""

    workdir: Path
    seed: int = 7
    env: dict[str, str] = field(default_factory=dict)
    catalog: Path | None = None
    port: int = field(default_factory=free_port)
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    process: ManagedProcess | None = field(default=None, init=False)

    def start(self, timeout: float = 30.0) -> "DemoApp":
        argv = demo_app_argv() + ["--port", str(self.port)]
        if self.catalog is not None:
            argv += ["--catalog", str(self.catalog)]
        env = clean_env(SLOKIT_APP_ADMIN_TOKEN=self.token, SLOKIT_APP_SEED=str(self.seed), **self.env)
        self.process = ManagedProcess("slokit-demo-app", argv, self.workdir / "app.log", env=env).start()
        self.process.wait_ready(http_ok(f"{self.url}/healthz"), timeout)
        return self

    def _admin(self, method: str, path: str, json: Any = None) -> dict[str, Any]:
        resp = httpx.request(method, f"{self.url}/admin/{path}", json=json, timeout=10,
                             headers={"authorization": f"Bearer {self.token}"})
        if resp.status_code != 200:
            raise AssertionError(f"{method} /admin/{path}: {resp.status_code} {resp.text}")
        return resp.json()

    def activate(self, scenario: str, **params: Any) -> dict[str, Any]:
        """Switch a fault scenario on (PUT /admin/scenarios/<name>)."""
        return self._admin("PUT", f"scenarios/{scenario}", {"params": params})

    def deactivate(self, scenario: str) -> dict[str, Any]:
        return self._admin("DELETE", f"scenarios/{scenario}")

    def clear(self) -> dict[str, Any]:
        """All scenarios off (recovery)."""
        return self._admin("DELETE", "scenarios")

    def active(self) -> list[Any]:
        return self._admin("GET", "scenarios")["active"]
