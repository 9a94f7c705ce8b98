"""Writing outputs: all or nothing, atomic per file, pruning only our own files.

slokit records what it wrote in a manifest (`.slokit-manifest.json` in the
output root). A file it generated before and no longer produces (a deleted
SLO) is removed; any other file in the output directories is left alone,
because slokit did not create it.
"""

from __future__ import annotations

import difflib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from slokit import naming as N

MANIFEST_VERSION = 1


@dataclass(frozen=True)
class Change:
    path: str
    kind: str  # added | changed | removed


def read_manifest(root: Path) -> set[str]:
    path = root / N.MANIFEST_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = data.get("files", [])
        return {f for f in files if isinstance(f, str) and _inside(root, f)}
    except (OSError, ValueError, AttributeError):
        return set()


def _inside(root: Path, rel: str) -> bool:
    """A manifest entry must stay inside the output root (a hand-edited manifest must not delete /etc)."""
    if os.path.isabs(rel) or ".." in Path(rel).parts:
        return False
    return True


def manifest_text(paths: list[str]) -> str:
    return json.dumps({"generator": "slokit", "version": MANIFEST_VERSION, "files": sorted(paths)}, indent=2) + "\n"


def plan_changes(root: Path, outputs: dict[str, str]) -> list[Change]:
    """What `write_outputs` would change, without touching anything."""
    changes = []
    for rel, text in sorted(outputs.items()):
        target = root / rel
        try:
            current = target.read_text(encoding="utf-8")
        except FileNotFoundError:
            changes.append(Change(rel, "added"))
            continue
        except (OSError, UnicodeDecodeError):
            current = None
        if current != text:
            changes.append(Change(rel, "changed"))
    for rel in sorted(read_manifest(root) - set(outputs)):
        if (root / rel).exists():
            changes.append(Change(rel, "removed"))
    return changes


def diff(root: Path, outputs: dict[str, str], changes: list[Change], context: int = 3) -> str:
    """A unified diff of committed files against a fresh generation."""
    chunks = []
    for change in changes:
        target = root / change.path
        old = target.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True) if target.exists() else []
        new = outputs.get(change.path, "").splitlines(keepends=True)
        chunks.extend(difflib.unified_diff(old, new, f"a/{change.path}", f"b/{change.path}", n=context))
    return "".join(chunks)


class WriteError(Exception):
    """An output could not be written; nothing was changed."""


def _atomic_write(target: Path, text: str) -> None:
    staged = _stage(target, text)
    os.replace(staged, target)


def _stage(target: Path, text: str) -> str:
    """Write `text` to a temporary file beside `target` (same filesystem, so the final rename is atomic)."""
    if target.is_dir():
        raise WriteError(f"{target} is a directory, where slokit writes a file; move it away")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return tmp


def _missing_dirs(root: Path, targets: list[Path]) -> list[Path]:
    """Directories the targets need that do not exist yet (deepest first), to remove again on failure."""
    missing: set[Path] = set()
    for target in targets:
        d = target.parent
        while not d.exists() and d != root:
            missing.add(d)
            d = d.parent
    return sorted(missing, key=lambda p: len(p.parts), reverse=True)


def write_outputs(root: Path, outputs: dict[str, str]) -> list[Change]:
    """Write every output that changed, prune stale generated files, update the manifest.

    Everything is rendered before this is called, so a user error can never
    leave a half-written tree. Writing is two-phase: every changed file is
    first staged as a temporary file beside its target; only when all are
    staged are they renamed into place (a rename within a directory is
    atomic). If staging fails (disk full, a directory in the way, no
    permission), the staged files and new directories are removed and no
    output has changed.
    """
    changes = plan_changes(root, outputs)
    previous = read_manifest(root)
    writes = [root / c.path for c in changes if c.kind != "removed"]
    new_dirs = _missing_dirs(root, writes)
    staged: list[tuple[str, Path]] = []
    try:
        for target in writes:
            staged.append((_stage(target, outputs[target.relative_to(root).as_posix()]), target))
    except BaseException:
        for tmp, _ in staged:
            if os.path.exists(tmp):
                os.unlink(tmp)
        for d in new_dirs:
            try:
                d.rmdir()
            except OSError:
                pass
        raise
    for tmp, target in staged:
        os.replace(tmp, target)
    for change in changes:
        if change.kind == "removed":
            (root / change.path).unlink()
            _remove_empty_parents(root, (root / change.path).parent)
    manifest = manifest_text(list(outputs))
    if previous != set(outputs) or not (root / N.MANIFEST_FILE).exists():
        _atomic_write(root / N.MANIFEST_FILE, manifest)
    return changes


def _remove_empty_parents(root: Path, directory: Path) -> None:
    root = root.resolve()
    directory = directory.resolve()
    while directory != root and root in directory.parents:
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent
