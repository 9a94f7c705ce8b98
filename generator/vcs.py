"""Which spec files a change touches, from git, for blaming the right file.

When a service is defined in two files, the duplicate is the file the
current change added or modified (untracked, staged or changed against
HEAD), not the one that was already there. Without git, outside a work tree,
or when both or neither file changed, the later path in sorted order is the
duplicate. git is only read (`git status --porcelain`), never written.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def changed_files(files: list[Path]) -> frozenset[Path]:
    """The resolved paths among `files` that git reports as new or modified; empty without git."""
    git = shutil.which("git")
    if git is None or not files:
        return frozenset()
    changed: set[Path] = set()
    for directory in sorted({f.resolve().parent for f in files}):
        try:
            top = subprocess.run([git, "rev-parse", "--show-toplevel"], cwd=directory, capture_output=True,
                                 text=True, timeout=10, check=False)
            if top.returncode != 0:
                continue
            status = subprocess.run([git, "status", "--porcelain", "-z", "--untracked-files=all", "--", "."],
                                    cwd=directory, capture_output=True, text=True, timeout=10, check=False)
        except (OSError, subprocess.SubprocessError):
            continue
        root = Path(top.stdout.strip())
        for entry in status.stdout.split("\0"):
            if len(entry) > 3 and entry[:2] != "  ":
                changed.add((root / entry[3:]).resolve())
    wanted = {f.resolve() for f in files}
    return frozenset(changed & wanted)
