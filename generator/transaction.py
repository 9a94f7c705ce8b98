"""One `generate` as a transaction: stage, commit with backups, roll back on failure or after a crash.

Everything lives in `.slokit/` in the output root (git-ignored by its own
`.gitignore`, so no repository has to list it):

- `lock`: held with flock(2) for the whole run, so two `generate` runs never
  interleave; the kernel releases it when a process dies, even by SIGKILL.
- `transaction/staged/<n>`: the new content of the n-th operation, fsynced
  before anything in the tree changes.
- `transaction/backup/<n>`: the file the n-th operation replaces or removes,
  moved aside (a rename, so nothing is copied) until the commit is durable.
- `transaction/journal.json`: the operations and the directories the commit
  creates, with a state. `committing` is written (atomically) before the
  first file in the tree is touched; `committed` after the last one, the
  manifest included. That rename is the commit point.

Recovery, at the start of the next run, follows the journal: no journal or
not yet `committing` means the tree was never touched and the staging area is
simply removed; `committing` means some operations may have run, so each one
is undone (backup moved back, added file removed, new directories removed);
`committed` means only the cleanup was interrupted. A rollback after an
exception in the same process is the same undo, run from memory.

Files are written with os.open/os.write/os.fsync/os.replace only, which is
also what the fault-injection tests intercept.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from slokit import naming as N

JOURNAL = "journal.json"
LOCK_WAIT_SECONDS = 60.0


class TransactionError(Exception):
    """The outputs could not be committed; the message says what was restored."""


@dataclass(frozen=True)
class Operation:
    path: str  # relative to the output root
    text: str | None  # new content; None removes the file
    existed: bool  # a file is there now (it is backed up before it is replaced or removed)


def write_file(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Create (or truncate) `path`, write all of `data`, fsync. Never follows a symlink at `path`."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(path, mode)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _state_dir(root: Path) -> Path:
    state = root / N.STATE_DIR
    if state.is_symlink() or (state.exists() and not state.is_dir()):
        raise TransactionError(f"{state} is not a directory slokit can use for its lock and staging; remove it")
    state.mkdir(parents=True, exist_ok=True)
    ignore = state / ".gitignore"
    if not ignore.exists():
        write_file(ignore, b"# slokit's lock and staging area; never commit it\n*\n")
    return state


@contextmanager
def locked(root: Path, wait: float = LOCK_WAIT_SECONDS, on_wait=None) -> Iterator[None]:
    """Hold `.slokit/lock`; wait up to `wait` seconds for another run to finish, then fail clearly."""
    _state_dir(root)
    fd = os.open(root / N.LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise TransactionError(
                        f"another `slokit generate` is writing to {root} (it holds {N.LOCK_FILE}); "
                        f"gave up after {wait:g} s. Let it finish, then run again") from None
                if on_wait is not None:
                    on_wait()
                    on_wait = None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # releases the lock


def _discard(root: Path, txn: Path) -> None:
    """Remove a finished transaction: renamed away first, so a half-removed one is never mistaken for a
    transaction whose journal is missing."""
    trash = root / N.STATE_DIR / f"trash-{os.getpid()}"
    os.replace(txn, trash)
    shutil.rmtree(trash)


def _empty_trash(root: Path) -> None:
    for entry in (root / N.STATE_DIR).glob("trash-*"):
        shutil.rmtree(entry, ignore_errors=True)


def _paths(root: Path) -> tuple[Path, Path, Path]:
    txn = root / N.TRANSACTION_DIR
    return txn, txn / "staged", txn / "backup"


def _write_journal(txn: Path, state: str, ops: list[Operation], new_dirs: list[str], sync: bool = True) -> None:
    doc = {"state": state, "ops": [{"path": op.path, "write": op.text is not None, "existed": op.existed}
                                   for op in ops], "dirs": new_dirs}
    tmp = txn / (JOURNAL + ".new")
    write_file(tmp, (json.dumps(doc, indent=1) + "\n").encode())
    os.replace(tmp, txn / JOURNAL)
    if sync:
        fsync_dir(txn)


def _undo(root: Path, ops: list[tuple[str, bool, bool]], new_dirs: list[str]) -> None:
    """Undo whatever part of a commit ran: ops are (path, writes, existed), in commit order."""
    txn, staged, backup = _paths(root)
    for i in reversed(range(len(ops))):
        rel, writes, existed = ops[i]
        target = root / rel
        if (backup / str(i)).exists():
            os.replace(backup / str(i), target)
        elif writes and not existed and not (staged / str(i)).exists() and os.path.lexists(target):
            os.unlink(target)  # added by this commit (its staged file was moved in)
    for rel in sorted(new_dirs, key=lambda d: d.count("/"), reverse=True):
        try:
            os.rmdir(root / rel)
        except OSError as exc:
            if exc.errno not in (errno.ENOENT, errno.ENOTEMPTY, errno.EEXIST):
                raise


def _remove_empty_parents(root: Path, rel: str) -> None:
    parent = (root / rel).parent
    while parent != root and root in parent.parents:
        try:
            os.rmdir(parent)
        except OSError:
            return
        parent = parent.parent


def _owned(root: Path, rel: str) -> bool:
    """A journal path must be an output path slokit could have written, reached without links."""
    if rel != N.MANIFEST_FILE and not N.is_output_path(rel) and not any(rel == d or d.startswith(rel + "/")
                                                                        for d in N.OUTPUT_DIRS):
        return False
    if os.path.isabs(rel) or any(part in ("", ".", "..") for part in rel.split("/")):
        return False
    current = root
    for part in rel.split("/"):
        current = current / part
        if os.path.islink(current):
            return False
    return True


def recover(root: Path) -> str | None:
    """Finish or undo an interrupted run's transaction (call with the lock held); say what was done."""
    txn, _, _ = _paths(root)
    _empty_trash(root)
    if not os.path.lexists(txn):
        return None
    try:
        doc = json.loads((txn / JOURNAL).read_text(encoding="utf-8"))
        state = doc["state"]
        ops = [(o["path"], bool(o["write"]), bool(o["existed"])) for o in doc["ops"]]
        new_dirs = [str(d) for d in doc["dirs"]]
    except FileNotFoundError:
        state, ops, new_dirs = "staging", [], []
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TransactionError(f"the journal of an interrupted run ({txn / JOURNAL}) cannot be read ({exc}); "
                               "check the outputs against version control, then delete "
                               f"{txn}") from None
    bad = [rel for rel in [*(op[0] for op in ops), *new_dirs] if not _owned(root, rel)]
    if bad:
        raise TransactionError(f"the journal of an interrupted run ({txn / JOURNAL}) names {bad[0]!r}, which is "
                               "not a file slokit writes; it was not written by slokit. Check the outputs against "
                               f"version control, then delete {txn}")
    if state == "committing":
        _undo(root, ops, new_dirs)
        message = f"rolled back an interrupted `slokit generate` ({len(ops)} operations)"
    elif state == "committed":
        for rel, writes, _ in ops:
            if not writes:
                _remove_empty_parents(root, rel)
        message = "finished the cleanup of an interrupted `slokit generate` (its outputs were complete)"
    else:
        message = "removed the staged files of an interrupted `slokit generate` (no output had changed)"
    _discard(root, txn)
    return message


def commit(root: Path, ops: list[Operation], new_dirs: list[str]) -> list[str]:
    """Apply `ops` (the manifest last) all or nothing; return warnings about a cleanup left for next time.

    Call with the lock held and after `recover`.
    """
    txn, staged, backup = _paths(root)
    plain = [(op.path, op.text is not None, op.existed) for op in ops]
    touching = False  # from the `committing` journal on, the tree may have changed
    try:
        os.mkdir(txn)
        os.mkdir(staged)
        os.mkdir(backup)
        for i, op in enumerate(ops):
            if op.text is not None:
                write_file(staged / str(i), op.text.encode("utf-8"))
        fsync_dir(staged)
        _write_journal(txn, "committing", ops, new_dirs)
        touching = True
        for rel in sorted(new_dirs, key=lambda d: d.count("/")):
            os.mkdir(root / rel)
        for i, op in enumerate(ops):
            if op.existed:
                os.replace(root / op.path, backup / str(i))
            if op.text is not None:
                os.replace(staged / str(i), root / op.path)
        for parent in sorted({(root / op.path).parent for op in ops}):
            fsync_dir(parent)
        # The commit point is this rename; nothing after it may undo the commit.
        _write_journal(txn, "committed", ops, new_dirs, sync=False)
    except BaseException as exc:
        try:
            if touching:
                _undo(root, plain, new_dirs)
            if os.path.lexists(txn):
                shutil.rmtree(txn)
        except BaseException as undo_exc:
            raise TransactionError(f"{_describe(exc)}; undoing it failed too ({_describe(undo_exc)}): the next "
                                   "`slokit generate` finishes the roll back from "
                                   f"{N.TRANSACTION_DIR}") from exc
        if isinstance(exc, OSError):
            raise TransactionError(f"{_describe(exc)}; every output was restored") from exc
        raise
    try:
        fsync_dir(txn)  # the `committed` journal is durable before the backups go
    except OSError as exc:
        return [f"the outputs are committed, but making that durable failed ({_describe(exc)}); the backups "
                f"stay in {N.TRANSACTION_DIR} and the next `slokit generate` removes them"]
    try:
        for op in ops:
            if op.text is None:
                _remove_empty_parents(root, op.path)
        _discard(root, txn)
    except OSError as exc:
        return [f"the outputs are committed, but removing {N.TRANSACTION_DIR} failed ({_describe(exc)}); "
                "the next `slokit generate` removes it"]
    return []


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"[Errno {exc.errno}] {exc.strerror}{where}"
    return str(exc) or type(exc).__name__
