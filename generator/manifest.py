"""The manifest (`.slokit-manifest.json`): which files slokit wrote, and what it wrote into them.

Version 2 maps each path to the sha256 of the bytes slokit wrote, so pruning
can tell a file that still holds slokit's output (safe to delete) from one a
person edited since (reported, never deleted)::

    {"generator": "slokit", "version": 2, "files": {"alerts/a.rules.yaml": "<sha256 hex>"}}

Version 1 listed paths only. Its entries are read as "slokit wrote this, but
cannot prove the file is unchanged" (hash `None`): such a file is rewritten
when it is still an output and is never pruned. A `None` hash is also how a
version 2 manifest keeps tracking a stale version 1 entry, so the warning
about it repeats until a person deals with the file.

A manifest is data a person can edit, so everything in it is checked before
anything is touched: JSON syntax, size, nesting, and that every entry is a
plain relative path inside the directories slokit writes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from slokit import naming as N
from slokit.errors import Diagnostic, SlokitError

MANIFEST_VERSION = 2
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
_HEX = re.compile(r"^[0-9a-f]{64}$")
_FIX = "restore it from version control, or delete it (slokit then prunes nothing and writes a new one)"


def content_hash(content: str | bytes) -> str:
    """sha256 of the bytes slokit writes for `content` (text is always written as UTF-8, `\\n` line ends)."""
    return hashlib.sha256(content.encode("utf-8") if isinstance(content, str) else content).hexdigest()


@dataclass(frozen=True)
class Manifest:
    files: dict[str, str | None] = field(default_factory=dict)
    version: int = MANIFEST_VERSION
    text: str = field(default="", compare=False, repr=False)
    display: str = N.MANIFEST_FILE

    @property
    def paths(self) -> set[str]:
        return set(self.files)

    def diagnostic(self, rel: str, message: str, hint: str = _FIX) -> Diagnostic:
        """A diagnostic at the entry's line in the manifest (found by its JSON spelling)."""
        index = self.text.find(json.dumps(rel))
        line, column = (1, 1) if index < 0 else _line_col(self.text, index)
        return Diagnostic(self.display, line, column, message, hint)


def _line_col(text: str, index: int) -> tuple[int, int]:
    before = text[:index]
    return before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1


def manifest_text(files: dict[str, str | None]) -> str:
    return json.dumps({"generator": "slokit", "version": MANIFEST_VERSION, "files": dict(sorted(files.items()))},
                      indent=2) + "\n"


def entry_problem(rel: str) -> str | None:
    """Why `rel` cannot be a manifest entry, or None. Only the string is judged here; the file system later."""
    if rel == "" or "\x00" in rel or "\\" in rel:
        return "is not a usable relative path"
    if rel.startswith("/") or os.path.isabs(rel):
        return "is an absolute path; the manifest lists paths relative to the output root"
    parts = rel.split("/")
    if ".." in parts:
        return "contains `..`; the manifest lists paths inside the output root"
    if "." in parts or "" in parts or PurePosixPath(rel).as_posix() != rel:
        return "is not a plain relative path (`.` or empty parts)"
    if rel == N.MANIFEST_FILE or not N.is_output_path(rel):
        dirs = ", ".join(d + "/" for d in N.OUTPUT_DIRS)
        return f"is not in a directory slokit writes ({dirs})"
    return None


def _error(display: str, line: int, column: int, message: str) -> SlokitError:
    return SlokitError([Diagnostic(display, line, column, message, _FIX)])


def read_manifest(root: Path, display: str | None = None) -> Manifest:
    """The manifest in `root` (empty when there is none); raise SlokitError when it cannot be trusted."""
    path = root / N.MANIFEST_FILE
    display = display or str(path)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return Manifest(display=display)
    except OSError as exc:
        raise _error(display, 1, 1, f"cannot read the manifest: {exc.strerror}") from None
    if stat.S_ISLNK(info.st_mode):
        raise _error(display, 1, 1, "the manifest is a symlink; slokit does not follow it")
    if not stat.S_ISREG(info.st_mode):
        raise _error(display, 1, 1, "the manifest is not a regular file")
    if info.st_size > MAX_MANIFEST_BYTES:
        raise _error(display, 1, 1, f"the manifest is larger than {MAX_MANIFEST_BYTES // (1024 * 1024)} MiB")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as handle:
            raw = handle.read(MAX_MANIFEST_BYTES + 1)
    except OSError as exc:
        raise _error(display, 1, 1, f"cannot read the manifest: {exc.strerror}") from None
    return parse_manifest(raw, display)


def parse_manifest(raw: bytes, display: str) -> Manifest:
    if len(raw) > MAX_MANIFEST_BYTES:
        raise _error(display, 1, 1, f"the manifest is larger than {MAX_MANIFEST_BYTES // (1024 * 1024)} MiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _error(display, 1, 1, f"the manifest is not UTF-8 (byte offset {exc.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _error(display, exc.lineno, exc.colno, f"the manifest is not valid JSON: {exc.msg}") from None
    except RecursionError:
        raise _error(display, 1, 1, "the manifest is nested too deeply to be one slokit wrote") from None
    if not isinstance(data, dict) or data.get("generator") != "slokit":
        raise _error(display, 1, 1, 'the manifest is not a slokit manifest (no "generator": "slokit")')
    version, files = data.get("version"), data.get("files")
    if version == 1 and isinstance(files, list) and all(isinstance(f, str) for f in files):
        entries: dict[str, str | None] = {f: None for f in files}
    elif version == 2 and isinstance(files, dict) and all(v is None or (isinstance(v, str) and _HEX.match(v))
                                                          for v in files.values()):
        entries = dict(files)
    else:
        raise _error(display, 1, 1, f"the manifest has an unknown layout (version {version!r}); "
                     f"slokit reads versions 1 and {MANIFEST_VERSION}")
    manifest = Manifest(entries, version, text, display)
    diags = [manifest.diagnostic(rel, f"manifest entry {json.dumps(rel)} {problem}")
             for rel in sorted(entries) if (problem := entry_problem(rel))]
    if diags:
        raise SlokitError(diags)
    return manifest
