"""How `slokit generate` scales with the number of SLOs, beside the I/O floor.

Writes synthetic projects of N services x 10 SLOs (every SLI kind, windows
7d/28d/30d, group_by on the 28d SLOs, a min-traffic guard on the 7d ones,
budgets on every fifth service) against the bundled catalog, then runs, as
real processes (process start included):

- generate          a first run into an empty output root (no cache)
- check, cold       `generate --check` with the cache removed
- check             `generate --check` again (cache warm)
- nothing changed   `generate` again
- one changed       `generate` after editing one service's spec
- floor             load the same spec YAML with libyaml and write outputs of
                    the same shape and size with libyaml/json, no SLO logic

Wall and CPU time are per process (os.wait4), peak RSS is the process' own
ru_maxrss. Prints a table and one summary line of ratios. Benchmarks print;
they assert nothing.

    .venv/bin/python bench/gen_scale.py                 # 100 and 1,000 SLOs
    .venv/bin/python bench/gen_scale.py --sizes 100 1000 10000
    .venv/bin/python bench/gen_scale.py --code /tmp/old  # run the slokit package in /tmp/old/slokit
"""

from __future__ import annotations

import argparse
import json
import marshal
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.rules import family  # noqa: E402  (the SLI kinds and SLO shapes the rule tests use)

SLOS_PER_SERVICE = 10
CACHE_DIR = ".slokit/cache"


# --------------------------------------------------------------------------
# Synthetic projects
# --------------------------------------------------------------------------


def service_spec(i: int) -> dict[str, Any]:
    """Service i: 10 SLOs cycling through the SLI kinds, windows and objectives."""
    kinds = list(family.KINDS)
    slos = []
    for j in range(SLOS_PER_SERVICE):
        n = i * SLOS_PER_SERVICE + j
        kind = kinds[n % len(kinds)]
        window = family.WINDOWS[(n // len(kinds)) % len(family.WINDOWS)]
        objective = family.OBJECTIVES[(n // 3) % len(family.OBJECTIVES)]
        spec = family.slo(kind, window, objective)
        spec["name"] = f"{kind}-{j}"
        slos.append(spec)
    spec: dict[str, Any] = {"version": 1, "service": f"svc-{i:05d}", "owner": "bench-team",
                            "labels": {"tier": "2"}, "scope": {"feature": ["support_chat", "order_agent"]},
                            "slos": slos}
    if i % 5 == 0:
        spec["budgets"] = family.BUDGETS
    return spec


def write_project(directory: Path, n_slos: int) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(family.CATALOG, directory / "catalog.yaml")
    files = []
    for i in range(max(1, n_slos // SLOS_PER_SERVICE)):
        path = directory / f"svc-{i:05d}.yaml"
        path.write_text(family.dump(service_spec(i)), encoding="utf-8")
        files.append(path)
    return files


# --------------------------------------------------------------------------
# Measuring processes
# --------------------------------------------------------------------------


@dataclass
class Run:
    wall: float
    cpu: float
    rss_mb: float
    rc: int


def measure(cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> Run:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    proc.stderr.close() if proc.stderr else None
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-2000:]}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode)


def slokit_cmd(code: Path | None) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = str(code)
    return [sys.executable, "-m", "slokit"], env


FLOOR = r"""
import json, marshal, sys, yaml
from pathlib import Path
specs, data, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
for f in sorted(Path(specs).glob("*.yaml")):
    yaml.load(f.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
docs = marshal.loads(Path(data).read_bytes())
for rel, kind, doc in docs:
    target = out / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    if kind == "json":
        text = json.dumps(doc, indent=2, sort_keys=True) + "\n"
    elif kind == "yaml":
        text = yaml.dump(doc, Dumper=yaml.CSafeDumper, sort_keys=False, width=120, default_flow_style=False)
    else:
        text = doc
    target.write_text(text, encoding="utf-8")
"""


def floor_data(out: Path, data_file: Path) -> int:
    """The generated outputs as plain data (parsed once, here), for the floor process to write again."""
    docs = []
    total = 0
    for path in sorted(p for p in out.rglob("*") if p.is_file() and CACHE_DIR not in p.as_posix()):
        rel = path.relative_to(out).as_posix()
        text = path.read_text(encoding="utf-8")
        total += len(text.encode())
        if path.suffix == ".json":
            docs.append((rel, "json", json.loads(text)))
        elif path.suffix in (".yaml", ".yml"):
            docs.append((rel, "yaml", yaml.load(text, Loader=yaml.CSafeLoader)))
        else:
            docs.append((rel, "text", text))
    data_file.write_bytes(marshal.dumps(docs))
    return total


def edit_one(spec: Path) -> None:
    text = spec.read_text(encoding="utf-8")
    spec.write_text(text.replace("owner: bench-team", "owner: bench-team-2", 1), encoding="utf-8")


# --------------------------------------------------------------------------
# Table
# --------------------------------------------------------------------------

COLUMNS = ("generate", "check, cold", "check", "nothing changed", "one changed", "floor")


def bench_size(n: int, code: Path | None, work: Path) -> tuple[dict[str, Run], int, int]:
    specs, out = work / f"specs-{n}", work / f"out-{n}"
    files = write_project(specs, n)
    cmd, env = slokit_cmd(code)
    gen = cmd + ["generate", str(specs), "--out", str(out)]
    runs = {"generate": measure(gen, env)}
    shutil.rmtree(out / CACHE_DIR, ignore_errors=True)
    runs["check, cold"] = measure(gen + ["--check"], env)
    runs["check"] = measure(gen + ["--check"], env)
    runs["nothing changed"] = measure(gen, env)
    size = floor_data(out, work / "floor.marshal")
    n_files = sum(1 for p in out.rglob("*") if p.is_file() and CACHE_DIR not in p.as_posix())
    floor_out = work / f"floor-{n}"
    runs["floor"] = measure([sys.executable, "-c", FLOOR, str(specs), str(work / "floor.marshal"), str(floor_out)])
    edit_one(files[0])
    runs["one changed"] = measure(gen, env)
    for name in ("check, cold", "check"):
        if runs[name].rc != 0:
            raise RuntimeError(f"{name} reported stale outputs right after generate")
    shutil.rmtree(floor_out, ignore_errors=True)
    return runs, size, n_files


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000],
                    help="numbers of SLOs (10 per service); add 10000 for the large run")
    ap.add_argument("--code", type=Path, default=None,
                    help="directory holding a `slokit` package to run instead of the installed one")
    args = ap.parse_args(argv)
    results = []
    print(f"{'SLOs':>6} {'output':>9} {'files':>6}  " + "  ".join(f"{c:>22}" for c in COLUMNS))
    print(f"{'':>6} {'':>9} {'':>6}  " + "  ".join(f"{'wall / CPU s, RSS MB':>22}" for _ in COLUMNS), flush=True)
    with tempfile.TemporaryDirectory(prefix="slokit-bench-") as tmp:
        for n in args.sizes:
            runs, size, n_files = bench_size(n, args.code, Path(tmp))
            results.append((n, runs, size, n_files))
            cells = [f"{runs[c].wall:6.2f} /{runs[c].cpu:6.2f}, {runs[c].rss_mb:4.0f}" for c in COLUMNS]
            print(f"{n:>6} {size / 1e6:8.1f}M {n_files:>6}  " + "  ".join(f"{c:>22}" for c in cells), flush=True)
    n, runs, _, _ = results[-1]
    first = results[0]
    g = runs["generate"]
    linear = (g.cpu / n) / (first[1]["generate"].cpu / first[0]) if len(results) > 1 else 1.0
    print(f"summary at {n} SLOs: generate {g.wall:.2f}s wall / {g.cpu:.2f}s CPU ({g.cpu / runs['floor'].cpu:.1f}x "
          f"the I/O floor's CPU), check {runs['check'].cpu:.2f}s CPU, cold check {runs['check, cold'].cpu:.2f}s CPU, "
          f"nothing changed {runs['nothing changed'].cpu:.2f}s CPU ({runs['nothing changed'].cpu / g.cpu:.2f}x generate), "
          f"one changed {runs['one changed'].cpu:.2f}s CPU, peak RSS {max(r.rss_mb for r in runs.values()):.0f} MB, "
          f"CPU per SLO {linear:.2f}x that at {first[0]} SLOs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
