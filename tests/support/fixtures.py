"""pytest fixtures over the real processes of this package (made available
to every test by tests/conftest.py). Each one stops what it started, also
when the test fails."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from .alertmanager import AlertmanagerServer
from .demo_app import DemoApp
from .prometheus import PrometheusServer
from .webhook import WebhookReceiver

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root (where slos/, stack/, alerts/ live)."""
    return REPO_ROOT


def slokit_argv() -> list[str]:
    """The installed `slokit` CLI (the venv's), or `python -m slokit`."""
    exe = Path(sys.executable).parent / "slokit"
    return [str(exe)] if exe.exists() else ([shutil.which("slokit")] if shutil.which("slokit")
                                            else [sys.executable, "-m", "slokit"])


def generate(out: Path, specs: Path = REPO_ROOT / "slos") -> Path:
    """Run the real `slokit generate <specs> --out <out>`; fail with its output if it fails."""
    result = subprocess.run([*slokit_argv(), "generate", str(specs), "--out", str(out)],
                            capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert result.returncode == 0, f"slokit generate failed:\n{result.stdout}\n{result.stderr}"
    return out


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Output root of `slokit generate slos/` run once per session into a tmp
    dir (alerts/, dashboards/, stack/grafana/, docs/runbooks/ under it), so
    tests never depend on the committed outputs being fresh."""
    return generate(tmp_path_factory.mktemp("generated"))


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    """A started webhook receiver; `webhook.url` goes into Alertmanager's config."""
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def demo_app(tmp_path: Path) -> Iterator[DemoApp]:
    """`slokit-demo-app` on a free port with a known admin token (`demo_app.token`)."""
    with DemoApp(tmp_path / "app") as app:
        yield app


@pytest.fixture
def start_prometheus(tmp_path: Path) -> Iterator[Callable[..., PrometheusServer]]:
    """Factory: `start_prometheus(config_dict, extra_args=[...])` -> a started
    PrometheusServer (each in its own tmp dir); all stopped at teardown."""
    servers: list[PrometheusServer] = []

    def start(config: dict[str, Any], extra_args: list[str] | None = None) -> PrometheusServer:
        server = PrometheusServer(config, tmp_path / f"prometheus-{len(servers)}", extra_args=extra_args or [])
        servers.append(server)
        return server.start()

    try:
        yield start
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def start_alertmanager(tmp_path: Path) -> Iterator[Callable[[dict[str, Any]], AlertmanagerServer]]:
    """Factory: `start_alertmanager(config_dict)` -> a started AlertmanagerServer
    (clustering off); all stopped at teardown."""
    servers: list[AlertmanagerServer] = []

    def start(config: dict[str, Any]) -> AlertmanagerServer:
        server = AlertmanagerServer(config, tmp_path / f"alertmanager-{len(servers)}")
        servers.append(server)
        return server.start()

    try:
        yield start
    finally:
        for server in servers:
            server.stop()
