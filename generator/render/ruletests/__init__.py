"""The promtool unit tests of the generated rules.

- `promtool_tests`: synthetic input series for each SLO and budget, the
  scenarios run on them, and the test files asserting their outcome;
- `prometheus_model`: what Prometheus computes from the rules on those
  series, at the instants the tests assert (the expected values).
"""

from slokit.render.ruletests.promtool_tests import render, render_service

__all__ = ["render", "render_service"]
