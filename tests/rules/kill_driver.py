"""Run by test_write_safety's kill loop as a real process: write one variant of the outputs, to be SIGKILLed.

Usage: python kill_driver.py ROOT VARIANT. It renders the bundled example,
adds many synthetic outputs (so the commit takes long enough to be hit by a
kill), prints `ready` and calls `write_outputs`, the code under test.
"""

from __future__ import annotations

import sys
from pathlib import Path

from slokit.pipeline import build_outputs
from slokit.project import load_project
from slokit.write import write_outputs

EXTRA = 150


def variant_outputs(root: Path, variant: str) -> dict[str, str]:
    outputs = dict(build_outputs(load_project([root / "slos"])))
    if variant == "b":
        # b: one service's rules changed, the cost dashboard gone (pruned), other synthetic files.
        outputs[next(p for p in outputs if p.endswith(".rules.yaml"))] += "# b\n"
        outputs.pop("dashboards/slokit-cost.json")
    for i in range(EXTRA):
        outputs[f"alerts/extra/{variant}-{i:03}.rules.yaml"] = f"groups: []  # {variant} {i}\n" * 50
    return outputs


def main() -> None:
    root, variant = Path(sys.argv[1]), sys.argv[2]
    outputs = variant_outputs(root, variant)
    print("ready", flush=True)
    write_outputs(root, outputs)
    print("done", flush=True)


if __name__ == "__main__":
    main()
