"""Run by test_write_safety's kill loop as a real process, to be SIGKILLed while it writes.

Usage: python kill_driver.py ROOT OUTPUTS_JSON [K]. It reads the outputs
(rendered once by the test), prints `ready`, and calls `write_outputs`, the
code under test, then prints `done`. With K, the process SIGKILLs itself
instead of making its K-th os.replace call: a crash at an exact point of the
commit, which a timer cannot hit reliably.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

from slokit.write import write_outputs


def main() -> None:
    root, outputs = Path(sys.argv[1]), json.loads(Path(sys.argv[2]).read_text(encoding="utf-8"))
    if len(sys.argv) > 3:
        die_at, real, calls = int(sys.argv[3]), os.replace, [0]

        def replace(*args, **kwargs):
            calls[0] += 1
            if calls[0] == die_at:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(*args, **kwargs)

        os.replace = replace
    print("ready", flush=True)
    write_outputs(root, outputs)
    print("done", flush=True)


if __name__ == "__main__":
    main()
