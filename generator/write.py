"""Writing outputs: all or nothing, only inside what slokit owns, pruning only files that still hold its output.

What slokit owns in an output root: the files it generates, in the
directories of `naming.OUTPUT_DIRS`, the manifest, and `.slokit/`. Before
anything is written every target and every manifest entry is checked on the
file system without following links: a symlink anywhere on the way (even one
pointing back inside the root), a directory, FIFO or other special file where
a file belongs, or an input file (spec or catalog) is an error, and nothing is
touched. A file the manifest lists that is no longer generated is removed
only when its sha256 still equals the one recorded when slokit wrote it;
otherwise it is reported and left alone (see `manifest.py` for old manifests
without hashes). The write itself is a transaction (`transaction.py`).
"""

from __future__ import annotations

import difflib
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from slokit import naming as N
from slokit import transaction as T
from slokit.errors import Diagnostic, SlokitError
from slokit.manifest import Manifest, content_hash, manifest_text, read_manifest
from slokit.render.keep import END as KEEP_END

MAX_COMPARE_BYTES = 64 * 1024 * 1024
# What slokit before the transactional write left beside a target when killed: mkstemp's `.NAME.XXXXXXXX.tmp`.
_LEGACY_TMP = re.compile(r"^\.(?P<name>.+)\.[a-z0-9_]{8}\.tmp$")


@dataclass(frozen=True)
class Change:
    path: str
    kind: str  # added | changed | removed


@dataclass(frozen=True)
class WritePlan:
    changes: list[Change]
    manifest: dict[str, str | None]  # the manifest to write
    warnings: list[str] = field(default_factory=list)
    new_dirs: list[str] = field(default_factory=list)
    existing: frozenset[str] = frozenset()  # targets that are files now (backed up before they are replaced)
    current_manifest: str = ""
    recorded: dict[str, str | None] = field(default_factory=dict)  # the hashes the manifest on disk holds

    @property
    def manifest_text(self) -> str:
        return manifest_text(self.manifest)

    def manifest_stale_for_check(self, outputs: dict[str, str]) -> bool:
        """`manifest_stale`, except for a file with hand-kept sections that is already what generate would write.

        Its kept text was edited by hand after slokit recorded its hash. The older hash is the safe one: a later
        prune sees the edit and keeps the file (the team's text) instead of deleting it. So `--check` does not ask
        for a regeneration just to record the hand edit.
        """
        changed = {c.path for c in self.changes}
        expected = dict(self.manifest)
        for rel, text in outputs.items():
            if rel not in changed and self.recorded.get(rel) and KEEP_END in text:
                expected[rel] = self.recorded[rel]
        return self.current_manifest != manifest_text(expected)

    @property
    def manifest_stale(self) -> bool:
        """The manifest on disk differs from the one this plan writes (its hashes would mislead a later prune)."""
        return self.current_manifest != self.manifest_text


@dataclass(frozen=True)
class WriteResult:
    changes: list[Change]
    warnings: list[str]



class Unsafe(Exception):
    """A path slokit would write or delete is not a plain file inside the root."""


def _walk(root: Path, rel: str) -> tuple[str, list[str]]:
    """What is at `rel` under `root` without following links: ("absent" | "file", missing parent dirs).

    Raise Unsafe for a symlink on the way or at the end, a non-directory where
    a directory belongs, a directory or special file at the end.
    """
    parts = rel.split("/")
    current = root
    for i, part in enumerate(parts):
        current = current / part
        try:
            info = os.lstat(current)
        except FileNotFoundError:
            return "absent", ["/".join(parts[:j + 1]) for j in range(i, len(parts) - 1)]
        except OSError as exc:
            raise Unsafe(f"{'/'.join(parts[:i + 1])} cannot be examined: {exc.strerror}") from None
        shown = "/".join(parts[:i + 1])
        if stat.S_ISLNK(info.st_mode):
            where = os.path.realpath(current)
            outside = not (where == str(root) or where.startswith(str(root) + os.sep))
            raise Unsafe(f"{shown} is a symlink (to {'outside the output root' if outside else where}); "
                         "slokit never writes or deletes through a symlink")
        last = i == len(parts) - 1
        if not last and not stat.S_ISDIR(info.st_mode):
            raise Unsafe(f"{shown} is not a directory, but slokit writes {rel} inside it")
        if last and stat.S_ISDIR(info.st_mode):
            raise Unsafe(f"{shown} is a directory, where slokit writes a file; move it away")
        if last and not stat.S_ISREG(info.st_mode):
            raise Unsafe(f"{shown} is a special file (FIFO, socket or device), where slokit writes a file; remove it")
    return "file", []


def _read(path: Path) -> bytes:
    """A regular file's bytes; O_NONBLOCK|O_NOFOLLOW so a file swapped for a FIFO or link cannot hang or redirect."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise Unsafe(f"{path} is not a regular file")
        chunks, size = [], 0
        while chunk := os.read(fd, 1024 * 1024):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_COMPARE_BYTES:
                break
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_existing(out: Path, rel: str) -> str | None:
    """The current text of an output slokit writes (a runbook's kept sections), or None.

    Read like every target: inside the root, no link followed, plain files only; anything else is None here
    and reported by `plan_write`. The text is data: callers copy parts of it, never run it.
    """
    if not N.is_output_path(rel) or rel == N.MANIFEST_FILE:
        return None
    root = Path(os.path.realpath(out))
    try:
        state, _ = _walk(root, rel)
        if state == "absent":
            return None
        return _read(root / rel).decode("utf-8", errors="replace")
    except (Unsafe, OSError):
        return None


def _display(out: Path, rel: str) -> str:
    return str(out / rel)


def plan_write(out: Path, outputs: dict[str, str], inputs: frozenset[Path] = frozenset()) -> WritePlan:
    """Everything `write_outputs` would do, checked; nothing is touched. Raise SlokitError when unsafe."""
    root = Path(os.path.realpath(out))
    manifest = read_manifest(root, _display(out, N.MANIFEST_FILE)) if root.is_dir() else Manifest()
    diags: list[Diagnostic] = []
    changes: list[Change] = []
    new_dirs: set[str] = set()
    existing: set[str] = set()
    hashes: dict[str, str | None] = {}
    for rel, text in sorted(outputs.items()):
        hashes[rel] = content_hash(text)
        try:
            if not N.is_output_path(rel) or rel == N.MANIFEST_FILE:
                raise Unsafe(f"{rel} is not in a directory slokit writes")
            state, missing = _walk(root, rel)
            if Path(os.path.realpath(root / rel)) in inputs:
                raise Unsafe(f"{rel} is one of the input files; slokit never overwrites its inputs")
            if state == "absent":
                new_dirs.update(missing)
                changes.append(Change(rel, "added"))
                continue
            existing.add(rel)
            if _read(root / rel) != text.encode("utf-8"):
                changes.append(Change(rel, "changed"))
        except Unsafe as exc:
            diags.append(Diagnostic(_display(out, rel), 1, 1, f"cannot write this output: {exc}",
                                    "remove or move what is in the way, then run `slokit generate` again"))
    warnings: list[str] = []
    for rel in sorted(manifest.paths - set(outputs)):
        recorded = manifest.files[rel]
        try:
            state, _ = _walk(root, rel)
            if state == "absent":
                continue
            if Path(os.path.realpath(root / rel)) in inputs:
                raise Unsafe(f"{rel} is one of the input files")
            current = content_hash(_read(root / rel))
        except Unsafe as exc:
            diags.append(manifest.diagnostic(rel, f"manifest entry {rel}: {exc}; nothing was written or removed"))
            continue
        except OSError as exc:
            diags.append(manifest.diagnostic(rel, f"manifest entry {rel} cannot be read to verify it "
                                             f"({exc.strerror or exc}); nothing was written or removed",
                                             "make it readable, or delete it if it is stale"))
            continue
        if recorded is None:
            warnings.append(f"{_display(out, rel)}: no longer generated, but the manifest (version 1) has no content "
                            "hash to prove the file is unchanged; left in place. Delete it yourself if it is stale")
            hashes[rel] = None
        elif current != recorded:
            warnings.append(f"{_display(out, rel)}: no longer generated, but edited since slokit wrote it; "
                            "left in place. Delete it yourself if it is stale")
            hashes[rel] = recorded
        else:
            existing.add(rel)
            changes.append(Change(rel, "removed"))
    if diags:
        raise SlokitError(diags)
    changes.sort(key=lambda c: c.path)
    return WritePlan(changes, hashes, warnings, sorted(new_dirs), frozenset(existing), manifest.text,
                     dict(manifest.files))


def pending_transaction(out: Path) -> bool:
    """An interrupted run left a transaction behind (the next `generate` rolls it back)."""
    return os.path.lexists(Path(os.path.realpath(out)) / N.TRANSACTION_DIR)


def diff(root: Path, outputs: dict[str, str], changes: list[Change], context: int = 3) -> str:
    """A unified diff of committed files against a fresh generation (only files `plan_write` vetted)."""
    chunks = []
    for change in changes:
        target = root / change.path
        old = _read(target).decode("utf-8", errors="replace").splitlines(keepends=True) \
            if change.kind != "added" else []
        new = outputs.get(change.path, "").splitlines(keepends=True)
        chunks.extend(difflib.unified_diff(old, new, f"a/{change.path}", f"b/{change.path}", n=context))
    return "".join(chunks)


def _legacy_temporaries(root: Path, names: set[str]) -> list[Path]:
    """Leftovers of an older slokit killed mid-write: `.NAME.XXXXXXXX.tmp` beside a file NAME slokit writes.

    Only the directories of vetted paths are listed, only regular files whose
    NAME is one of slokit's own are matched.
    """
    by_dir: dict[str, set[str]] = {}
    for rel in names:
        parent, _, base = rel.rpartition("/")
        by_dir.setdefault(parent, set()).add(base)
    found = []
    for parent, bases in sorted(by_dir.items()):
        directory = root / parent if parent else root
        try:
            entries = sorted(os.listdir(directory))
        except OSError:
            continue
        for entry in entries:
            match = _LEGACY_TMP.match(entry)
            if match and match.group("name") in bases and stat.S_ISREG(os.lstat(directory / entry).st_mode):
                found.append(directory / entry)
    return found


def write_outputs(out: Path, outputs: dict[str, str], inputs: frozenset[Path] = frozenset(),
                  lock_wait: float = T.LOCK_WAIT_SECONDS, on_wait=None) -> WriteResult:
    """Write every output that changed, prune stale generated files, update the manifest: all or nothing.

    Everything is rendered before this is called. Under the lock, a leftover
    of an interrupted run is rolled back first, then the plan is made and
    checked, then committed as one transaction with the manifest as its last
    operation. Raise SlokitError (unsafe tree or manifest: nothing touched),
    T.TransactionError (a failure during the write: everything restored).
    """
    out.mkdir(parents=True, exist_ok=True)
    root = Path(os.path.realpath(out))
    warnings: list[str] = []
    with T.locked(root, lock_wait, on_wait):
        recovered = T.recover(root)
        if recovered:
            warnings.append(recovered)
        plan = plan_write(out, outputs, inputs)
        warnings += plan.warnings
        ops = [T.Operation(c.path, outputs.get(c.path), c.path in plan.existing) for c in plan.changes]
        if plan.manifest_stale:
            # The manifest goes last: it is written only if everything before it was.
            ops.append(T.Operation(N.MANIFEST_FILE, plan.manifest_text, os.path.lexists(root / N.MANIFEST_FILE)))
        if ops:
            warnings += T.commit(root, ops, plan.new_dirs)
        leftovers = _legacy_temporaries(root, set(outputs) | set(plan.manifest) | {N.MANIFEST_FILE})
        for path in leftovers:
            os.unlink(path)
        if leftovers:
            warnings.append(f"removed {len(leftovers)} temporary file{'s' if len(leftovers) != 1 else ''} an "
                            "interrupted older slokit left beside its outputs")
    return WriteResult(plan.changes, warnings)
