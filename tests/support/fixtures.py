"""pytest fixtures over the real processes of this package (made available
to every test by tests/conftest.py). Each one stops what it started, also
when the test fails."""

from __future__ import annotations

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
