"""Benchmark of the transactional write (`write.write_outputs`) against the two-phase write it replaced.

The baseline is the earlier algorithm, restated here: stage each changed file
as a fsynced temporary beside its target, then rename them all. The
transaction adds a lock, a journal written twice, a backup rename per
replaced file, directory fsyncs and the hash per file. Both write the same
outputs (the bundled example, plus N synthetic files) into fresh copies of
the same tree, interleaved A B A B so machine noise hits both alike. Two
scenarios: a first generation (every file added) and a regeneration where
every file changed. Prints milliseconds per run and the ratio.

Usage: python bench/write_transaction.py [--extra 200] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from slokit.pipeline import build_outputs
from slokit.project import load_project
from slokit.write import write_outputs

REPO = Path(__file__).resolve().parents[1]


def two_phase_write(root: Path, outputs: dict[str, str]) -> None:
    """The earlier write: temporaries beside the targets, fsynced, then renamed into place."""
    staged = []
    for rel, text in outputs.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        staged.append((tmp, target))
    for tmp, target in staged:
        os.replace(tmp, target)


def timed(fn, root: Path, outputs: dict[str, str]) -> float:
    start = time.perf_counter()
    fn(root, outputs)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--extra", type=int, default=200, help="synthetic output files added to the example")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    base = dict(build_outputs(load_project([REPO / "slos"])))
    first = {**base, **{f"alerts/extra/{i:04}.rules.yaml": f"groups: []  # {i}\n" * 40 for i in range(args.extra)}}
    second = {rel: text + "# changed\n" for rel, text in first.items()}
    work = Path(tempfile.mkdtemp(prefix="slokit-bench-write-"))
    results: dict[tuple[str, str], list[float]] = {}
    try:
        for r in range(args.rounds):
            for name, fn in (("two-phase", two_phase_write), ("transaction", write_outputs)):
                root = work / f"{name}-{r}"
                results.setdefault(("first generation", name), []).append(timed(fn, root, first))
                results.setdefault(("all files changed", name), []).append(timed(fn, root, second))
                shutil.rmtree(root)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{len(first)} files, {args.rounds} rounds, median ms per run")
    print(f"{'scenario':<20} {'two-phase':>10} {'transaction':>12} {'ratio':>7}")
    for scenario in ("first generation", "all files changed"):
        old = statistics.median(results[(scenario, "two-phase")])
        new = statistics.median(results[(scenario, "transaction")])
        print(f"{scenario:<20} {old:>10.1f} {new:>12.1f} {new / old:>6.2f}x")


if __name__ == "__main__":
    main()
