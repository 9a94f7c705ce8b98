"""CPU of the generated promtool rule tests alone, for this slokit and (with --code) another, side by side.

Writes the synthetic project of gen_scale.py (N/10 services x 10 SLOs), then
renders only the rule tests of every service (`render_service`, no cache),
each code in its own process, and prints the CPU seconds of the rendering
(after loading and planning), a digest of the files and the ratio. The
digests must be equal when a change is meant to keep the output byte for
byte. Benchmarks print; they assert nothing.

    .venv/bin/python bench/ruletests_model.py --sizes 100 --code /tmp/old   # /tmp/old/slokit: the code before
    .venv/bin/python bench/ruletests_model.py --sizes 100 --prometheus 3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO))
from gen_scale import write_project  # noqa: E402  (the same synthetic projects)

RENDER = r"""
import hashlib, json, sys, time
from pathlib import Path
from slokit.pipeline import load_and_check
from slokit.plan import build_plan
from slokit.render.ruletests import render_service
from slokit.render.ruletests.prometheus_model import Semantics
specs, major = Path(sys.argv[1]), int(sys.argv[2])
plan = build_plan(load_and_check(sorted(specs.glob("svc-*.yaml")), specs / "catalog.yaml"))
start = time.process_time()
files = {}
for service in plan.services:
    files |= render_service(service, plan.catalog, Semantics(major))
cpu = time.process_time() - start
digest = hashlib.sha256()
for path, text in sorted(files.items()):
    digest.update(f"{path}\0{len(text)}\0{text}".encode())
print(json.dumps({"cpu": cpu, "files": len(files), "bytes": sum(len(t.encode()) for t in files.values()),
                  "digest": digest.hexdigest()[:16]}))
"""


def render(specs: Path, code: Path | None, major: int) -> dict:
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = str(code)
    out = subprocess.run([sys.executable, "-c", RENDER, str(specs), str(major)], env=env, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100], help="numbers of SLOs (10 per service)")
    ap.add_argument("--code", type=Path, default=None, help="directory holding the `slokit` package to compare")
    ap.add_argument("--prometheus", type=int, choices=(2, 3), default=2, help="range semantics of the tests")
    args = ap.parse_args(argv)
    print(f"{'SLOs':>6} {'files':>6} {'MB':>6}  {'this CPU s':>10}  {'other CPU s':>11}  {'ratio':>6}  digests")
    last = None
    with tempfile.TemporaryDirectory(prefix="slokit-bench-") as tmp:
        for n in args.sizes:
            specs = Path(tmp) / f"specs-{n}"
            write_project(specs, n)
            this = render(specs, None, args.prometheus)
            other = render(specs, args.code, args.prometheus) if args.code is not None else None
            ratio = f"{other['cpu'] / this['cpu']:6.2f}" if other else f"{'-':>6}"
            digests = this["digest"] + ("" if other is None else
                                        " = " + other["digest"] if other["digest"] == this["digest"]
                                        else " != " + other["digest"])
            print(f"{n:>6} {this['files']:>6} {this['bytes'] / 1e6:6.1f}  {this['cpu']:10.2f}  "
                  f"{other['cpu'] if other else float('nan'):11.2f}  {ratio}  {digests}", flush=True)
            last = (n, this, other)
    n, this, other = last
    same = "same output" if other is None or other["digest"] == this["digest"] else "DIFFERENT output"
    versus = f", {other['cpu']:.2f}s with {args.code} ({other['cpu'] / this['cpu']:.2f}x), {same}" if other else ""
    print(f"summary at {n} SLOs: rule tests {this['cpu']:.2f}s CPU{versus}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
