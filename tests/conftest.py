"""Shared pytest fixtures: the real-process fixtures of tests/support/
(Prometheus, Alertmanager, webhook receiver, demo app)."""

from support.fixtures import (  # noqa: F401
    demo_app,
    generated,
    repo_root,
    start_alertmanager,
    start_prometheus,
    webhook,
)
