"""The generated promtool tests kill every mutant of the bundled example's rules (tests/rules/mutation.py).

Each mutant is one deliberate mistake in the generated rules (a burn factor up
or down, a long or short window swapped, the objective, a `for`, the traffic
guard, the NaN guard, a bucket matcher, a label, the cost-regression factor,
offset and traffic floor, a budget limit); the real promtool runs the generated tests against it.
"""

from __future__ import annotations

import time

from . import mutation as M


# The mistakes the generated tests let through before they became threshold-sensitive (each survived then).
ONCE_SURVIVED = ("api-success 1h tier: burn factor 14.4 -> 20", "api-success 1h tier: short window 5m -> 30m",
                 "api-success 6h tier: burn factor 6 -> 9", "api-success 6h tier: short window 30m -> 5m",
                 "api-success 3d tier: burn factor 1 -> 2", "answered-not-refused 12h tier: burn factor 1.4 -> 2",
                 "monthly-spend: cost-regression factor 1.5 -> 3",
                 "api-success: traffic guard 60 -> 120 events/h",
                 # killed since the regression's baseline changes within its week and its traffic is near the floor
                 "monthly-spend: cost-regression offset 1w -> 1d",
                 "monthly-spend: cost-regression traffic floor 30 -> 300",
                 # the one survivor of the full run: zero traffic now asserts bad events 0, not absent
                 "api-success: bad events 5m without the `or 0 *` absent guard")


def test_the_mutants_that_once_survived_are_killed(tmp_path):
    """The full set (`python -m tests.rules.mutation`, 60 mutants) takes too long for the suite on 2 cores."""
    start = time.monotonic()
    ws = M.prepare(tmp_path)
    mutants = [m for m in M.example_mutants() if m.name.endswith(ONCE_SURVIVED)]
    assert len(mutants) == len(ONCE_SURVIVED)
    results = M.run_all(ws, mutants)
    print(M.report(results, time.monotonic() - start))
    survivors = [r.mutant.name for r in results if not r.killed]
    assert survivors == [], M.report(results, time.monotonic() - start)


def test_a_mutation_that_matches_nothing_reports_it():
    """A mutant whose pattern no longer occurs must not pass for killed: run_mutant refuses it."""
    mutant = M.burn_factor("answered-not-refused", "12h", "2")
    groups = [{"name": "slokit-rag-assistant-answered-not-refused", "rules": [
        {"alert": "SLOErrorBudgetBurn", "expr": "slo:burn_rate:rate12h{} * 2", "labels": {"long_window": "12h"}}]}]
    assert mutant(groups) is False
    groups[0]["rules"][0]["expr"] = "slo:burn_rate:rate12h{} > 1.4"
    assert mutant(groups) is True and groups[0]["rules"][0]["expr"] == "slo:burn_rate:rate12h{} > 2"
