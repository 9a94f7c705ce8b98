"""`stack/demo_local.py` end to end, shortened: up (fast Alertmanager, 1s intervals, 45s outage), status, down.

Real processes on free 127.0.0.1 ports: the demo app, slokit-loadgen, the
alert sink, Alertmanager with the stack's routing and Prometheus with the
generated rules of slos/. `down` must stop every one of them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from support.fixtures import REPO_ROOT, slokit_argv
from support.ports import free_port

SCRIPT = REPO_ROOT / "stack" / "demo_local.py"


def run(state: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), "--state-dir", str(state), *args], capture_output=True,
                          text=True, timeout=timeout, cwd=REPO_ROOT)


def alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


def test_up_status_down(tmp_path: Path, generated: Path):
    state = tmp_path / "demo"
    ports = {name: free_port() for name in ("app", "prometheus", "alertmanager", "sink")}
    port_args = [a for name, port in ports.items() for a in (f"--{name}-port", str(port))]
    try:
        up = run(state, "up", "--rules", str(generated / "alerts"), "--fast", "--interval", "1s", "--normal", "5s",
                 "--outage", "45s", "--recovery", "5s", "--rate", "10", *port_args, timeout=240)
        assert up.returncode == 0, up.stdout + up.stderr
        out = up.stdout
        assert "---- provider outage" in out and "---- recovery" in out
        assert "FIRING   SLOErrorBudgetBurn support-chatbot/api-success page 1h" in out, out
        assert "NOTIFIED page: firing SLOErrorBudgetBurn support-chatbot/api-success" in out, out
        assert (state / "admin-token").stat().st_mode & 0o077 == 0
        listed = run(state, "status")
        assert listed.stdout.count("running") == 5, listed.stdout
        # Left running for slokit status: it sees the page.
        status = subprocess.run([*slokit_argv(), "status", str(REPO_ROOT / "slos"), "--prometheus",
                                 f"http://127.0.0.1:{ports['prometheus']}", "support-chatbot/api-success",
                                 "--format", "json"], capture_output=True, text=True, timeout=60)
        assert status.returncode == 0, status.stderr
        alerts = json.loads(status.stdout)["slos"][0]["alerts"]
        assert any(a["severity"] == "page" and a["state"] == "firing" for a in alerts)
    finally:
        saved = json.loads((state / "state.json").read_text()) if (state / "state.json").exists() else None
        down = run(state, "down")
    assert down.returncode == 0, down.stderr
    assert saved is not None and len(saved["processes"]) == 5
    assert not [p for p in saved["processes"] if alive(p["pid"])]
    assert "not running" in run(state, "status").stdout
