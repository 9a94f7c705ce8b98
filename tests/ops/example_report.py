"""Render the example monthly report (docs/examples/) from the backfilled history of test_report.py.

    .venv/bin/python -m tests.ops.example_report docs/examples

Starts a real Prometheus on a backfilled TSDB (October and November 2026 of
the `shop` test service), runs `slokit report --month 2026-11` as md and
html, and stops Prometheus.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support.fixtures import slokit_argv  # noqa: E402
from support.openmetrics import backfill  # noqa: E402
from support.prometheus import PrometheusServer  # noqa: E402

from tests.ops.history import RETENTION, spec_dir  # noqa: E402
from tests.ops.test_report import build_history  # noqa: E402


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        specs = spec_dir(work)
        backfill(build_history(), work, work / "prometheus" / "data")
        with PrometheusServer({"global": {"scrape_interval": "1m"}}, work / "prometheus", extra_args=RETENTION) as p:
            for fmt in ("md", "html"):
                target = out / f"report-2026-11.{fmt}"
                subprocess.run([*slokit_argv(), "report", str(specs), "--prometheus", p.url, "--month", "2026-11",
                                "--format", fmt, "--out", str(target)], check=True)
                # The port of the throwaway Prometheus is noise in a committed example.
                target.write_text(target.read_text().replace(p.url, "http://127.0.0.1:9090"))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/examples"))
