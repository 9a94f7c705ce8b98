"""Shared pytest fixtures: the real-process fixtures of tests/support/
(Prometheus, Alertmanager, webhook receiver, demo app)."""

from support.fixtures import demo_app, repo_root, start_alertmanager, start_prometheus, webhook  # noqa: F401
