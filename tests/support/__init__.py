"""Reusable real-process test fixtures.

Everything here starts the real thing on 127.0.0.1 with a free port, waits
until it answers, and always stops it again (`with` blocks or pytest
fixtures). Modules:

- `ports`: `free_port()`.
- `process`: `ManagedProcess`, a subprocess with a log file, a readiness
  probe and guaranteed termination.
- `prometheus`: `PrometheusServer`, `prometheus_config()` (a scrape +
  rules + alerting config with short intervals) and `PromClient` (queries).
- `alertmanager`: `AlertmanagerServer` and `AlertmanagerClient` (API v2).
- `webhook`: `WebhookReceiver`, an http.server in a thread that records
  Alertmanager notifications.
- `demo_app`: `DemoApp`, the `slokit-demo-app` subprocess with a known admin
  token, and scenario switching.
- `wait`: `wait_until()` polling helper.
- `fixtures`: pytest fixtures over all of the above (loaded by tests/conftest.py).

Import as `from support.prometheus import PrometheusServer` (tests/ is on
sys.path through tests/conftest.py).
"""
