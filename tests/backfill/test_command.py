"""`slokit backfill` on the command line: dry run, and the mistakes a user makes (exit codes, no traceback)."""

from __future__ import annotations

import subprocess

from support.fixtures import REPO_ROOT, slokit_argv
from support.ports import free_port


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*slokit_argv(), "backfill", str(REPO_ROOT / "slos"), *args], capture_output=True,
                          text=True, cwd=REPO_ROOT, timeout=120)


def test_dry_run_lists_each_group_without_a_prometheus() -> None:
    done = run("support-chatbot", "--dry-run")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    # The bad rate falls back on the recorded total (`or 0 * slo:total_events:rate5m`): it follows in pass 2.
    assert "slokit-support-chatbot-api-success: slo:total_events:rate5m over the 30d before recording began (pass 1)" \
        in lines
    assert "slokit-support-chatbot-api-success: slo:bad_events:rate5m over the 30d before recording began (pass 2)" \
        in lines
    assert ("slokit-support-chatbot:budgets: slo_budget:usage_per_event:ratio_rate1h over the 7d before recording "
            "began (pass 2)") in lines
    assert not any(line.startswith("slokit-rag-assistant") for line in lines)


def test_mistakes_are_explained() -> None:
    unreachable = f"http://127.0.0.1:{free_port()}"
    done = run("--prometheus", unreachable)
    assert done.returncode == 2 and "give --data-dir" in done.stderr, done.stderr
    done = run("--prometheus", unreachable, "--output-dir", str(REPO_ROOT))
    assert done.returncode == 1, done.stderr
    assert "cannot reach Prometheus" in done.stderr and "Traceback" not in done.stderr
    done = run("nosuch/slo", "--dry-run")
    assert done.returncode == 2 and "no service 'nosuch'" in done.stderr, done.stderr
