"""The whole-run shortcut: when nothing that `generate` reads changed, skip loading and rendering.

A successful run records, in `<output root>/.slokit/cache/run.json`:

- a key: slokit's version and a digest of its code, the Python, PyYAML
  (and whether libyaml is used), Jinja2 and pydantic versions, the working
  directory, the arguments and options as resolved (PATHs, catalog, output
  root, rule formats, templates directory, slokit.yaml's path);
- every input file with its sha256: the specs, the catalog, slokit.yaml and
  every file of the templates directory;
- the entries (name and type) of every directory that is searched for inputs
  (a spec file added, removed or swapped for a link changes it);
- every output with the sha256 slokit wrote, and the sha256 of the manifest.

The next run compares all of that with what is there now, reading every
output through the same link-refusing readers as the writer. Only when every
part matches is the run answered from the record (generation is a function
of exactly these inputs); any difference, any unreadable file, an interrupted
transaction or a leftover temporary file means a full run.

The project's warnings are recorded and reported again. A run is recorded
only when it is the fixed point: writing it warned about nothing, and the
runbooks it read for their hand-kept sections held exactly what it wrote (so
the next run, reading the same files, renders the same text). A
`--check` run is recorded only when it found nothing stale; it is good for a
later `generate` only when the manifest needed no update either.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path

from slokit import naming as N
from slokit import cache as C
from slokit.cache import CACHE_DIR, text_digest

RECORD = "run.json"
FORMAT = 1


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _libraries() -> list[str]:
    import jinja2
    import pydantic
    import yaml

    return [sys.version, yaml.__version__, str(getattr(yaml, "__with_libyaml__", False)), jinja2.__version__,
            pydantic.VERSION]


def run_key(args: dict[str, object]) -> str:
    """What a run depends on besides its input files and directories."""
    import slokit

    parts = {"format": FORMAT, "version": slokit.__version__, "code": C.code_digest(), "libraries": _libraries(),
             "cwd": os.path.realpath(os.getcwd()), "args": args}
    return _sha(json.dumps(parts, sort_keys=True, default=str).encode())


def listing(directory: Path) -> list[list[str]] | None:
    """A directory's entries with their type (and where a link leads), not following links; None if unreadable."""
    try:
        with os.scandir(directory) as it:
            entries = []
            for e in it:
                mode = e.stat(follow_symlinks=False).st_mode
                kind = "link" if stat.S_ISLNK(mode) else "dir" if stat.S_ISDIR(mode) else \
                    "file" if stat.S_ISREG(mode) else "other"
                target = os.path.realpath(e.path) if kind == "link" else ""
                entries.append([e.name, kind, target])
    except OSError:
        return None
    return sorted(entries)


def file_digest(path: Path) -> str | None:
    try:
        return _sha(Path(path).read_bytes())
    except OSError:
        return None


def tree(directory: Path | None) -> tuple[dict[str, list[list[str]] | None], list[Path]]:
    """Every directory (with its listing) and file under `directory`, for a templates directory."""
    if directory is None:
        return {}, []
    dirs: dict[str, list[list[str]] | None] = {}
    files: list[Path] = []
    todo = [Path(os.path.realpath(directory))]
    while todo:
        d = todo.pop()
        entries = dirs[str(d)] = listing(d)
        for name, kind, _ in entries or []:
            if kind == "dir":
                todo.append(d / name)
            elif kind in ("file", "link"):
                files.append(d / name)
    return dirs, files


@dataclass
class Record:
    key: str
    dirs: dict[str, list[list[str]] | None]
    files: dict[str, str | None]
    outputs: dict[str, str]
    manifest: str | None
    for_generate: bool  # False: a clean --check whose manifest a generate would still update
    warnings: list[dict[str, object]] = field(default_factory=list)  # the project's, shown again

    def text(self) -> str:
        body = {"key": self.key, "dirs": self.dirs, "files": self.files, "outputs": self.outputs,
                "manifest": self.manifest, "for_generate": self.for_generate, "warnings": self.warnings}
        return json.dumps({"digest": text_digest(json.dumps(body, sort_keys=True)), "record": body}, sort_keys=True)

    @staticmethod
    def parse(text: str) -> "Record | None":
        try:
            entry = json.loads(text)
            body, check = entry["record"], entry["digest"]
            if check != text_digest(json.dumps(body, sort_keys=True)):
                return None
            return Record(str(body["key"]), dict(body["dirs"]), dict(body["files"]), dict(body["outputs"]),
                          body["manifest"], bool(body["for_generate"]), list(body["warnings"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


@dataclass
class Inputs:
    """What one run reads, as far as it is known before loading.

    `dirs` are searched for inputs (listed), `trees` read whole (templates),
    `files` named by the arguments or slokit.yaml (the catalog, spec files given
    one by one, slokit.yaml itself). The spec files found in `dirs` are added
    from the project once it is loaded, or from the record when checking it.
    """

    key: str
    dirs: list[Path] = field(default_factory=list)
    trees: list[Path] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def state(self, loaded: list[Path] | list[str]) -> tuple[dict[str, list[list[str]] | None], dict[str, str | None]]:
        dirs: dict[str, list[list[str]] | None] = {}
        files: list[Path] = [*self.files, *(Path(f) for f in loaded)]
        for d in self.dirs:
            dirs[os.path.realpath(d)] = listing(d)
        for d in self.trees:
            found, inside = tree(d)
            dirs.update(found)
            files += inside
        return dirs, {os.path.realpath(f): file_digest(f) for f in files}


    def snapshot(self) -> tuple[dict[str, list[list[str]] | None], dict[str, str | None]]:
        """The state before a run loads anything: every spec-like entry of the searched directories is hashed.

        `remember` records these hashes, not ones taken after the run: a spec edited while the run was loading
        then differs from the record, and the next run is a full one.
        """
        candidates = [Path(d) / name for d in self.dirs for name, kind, _ in (listing(d) or [])
                      if kind in ("file", "link") and name.endswith((".yaml", ".yml"))]
        return self.state(candidates)


def _cache_dir(out: Path) -> Path | None:
    """The cache directory when it is safe to use (no link, nothing else in the way)."""
    root = Path(os.path.realpath(out))
    for d in (root / N.STATE_DIR, root / CACHE_DIR):
        if d.is_symlink() or (d.exists() and not d.is_dir()):
            return None
    return root / CACHE_DIR


def _read_record(out: Path) -> Record | None:
    cache = _cache_dir(out)
    if cache is None:
        return None
    try:
        path = cache / RECORD
        if path.is_symlink():
            return None
        return Record.parse(path.read_text(encoding="utf-8"))
    except OSError:
        return None


@dataclass(frozen=True)
class Answer:
    count: int  # outputs
    warnings: tuple  # the project's warnings (Diagnostic), as the full run reported them


def up_to_date(out: Path, inputs: Inputs, for_generate: bool) -> Answer | None:
    """The last recorded run's answer when it read exactly these inputs and its outputs are intact."""
    from slokit.errors import Diagnostic

    from slokit.write import Unsafe, _legacy_temporaries, _read, _walk

    record = _read_record(out)
    if record is None or record.key != inputs.key or (for_generate and not record.for_generate):
        return None
    root = Path(os.path.realpath(out))
    if os.path.lexists(root / N.TRANSACTION_DIR):
        return None
    dirs, files = inputs.state(list(record.files))
    if dirs != record.dirs or files != record.files or None in files.values():
        return None
    try:
        for rel in [N.MANIFEST_FILE, *record.outputs]:
            state, _ = _walk(root, rel)
            if state != "file":
                return None
            want = record.manifest if rel == N.MANIFEST_FILE else record.outputs[rel]
            if _sha(_read(root / rel)) != want:
                return None
    except (Unsafe, OSError):
        return None
    if _legacy_temporaries(root, set(record.outputs) | {N.MANIFEST_FILE}):
        return None  # a full generate removes them
    try:
        warnings = tuple(Diagnostic(**w) for w in record.warnings)
    except TypeError:
        return None
    return Answer(len(record.outputs), warnings)


def remember(out: Path, inputs: Inputs, before: tuple, loaded: frozenset[Path], outputs: dict[str, str],
             for_generate: bool, warnings: tuple = ()) -> None:
    """Record a successful run whose outputs are now on disk; a record that cannot be written is a slower run.

    `before` is `inputs.snapshot()` taken before loading: the record holds those hashes of the files loaded,
    and nothing is recorded when the directories changed or a loaded file was not in the snapshot.
    """
    import tempfile

    from slokit.write import Unsafe, _read, _walk

    cache = _cache_dir(out)
    if cache is None:
        return
    root = Path(os.path.realpath(out))
    dirs, files = inputs.state(sorted(loaded))
    before_dirs, before_files = before
    if None in files.values() or dirs != before_dirs or not set(files) <= set(before_files):
        return
    files = {f: before_files[f] for f in files}
    try:
        _walk(root, N.MANIFEST_FILE)
        manifest = _sha(_read(root / N.MANIFEST_FILE))
    except (Unsafe, OSError):
        return
    record = Record(inputs.key, dirs, files, {rel: text_digest(text) for rel, text in outputs.items()},
                    manifest, for_generate, [dataclasses.asdict(w) for w in warnings])
    try:
        cache.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache, prefix=".tmp-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(record.text())
        os.replace(tmp, cache / RECORD)
    except OSError:
        return


def forget(out: Path) -> None:
    """Drop the record before a run that may change the outputs (a crash then cannot leave a stale one)."""
    cache = _cache_dir(out)
    if cache is None:
        return
    try:
        (cache / RECORD).unlink()
    except OSError:
        return


def run_inputs(paths: tuple[Path, ...], catalog: Path | None, out: Path, rule_formats: tuple[str, ...],
               templates: Path | None, config: Path | None) -> Inputs:
    """The inputs of a `generate` with these resolved arguments (see the module docstring)."""
    args = {"paths": [str(p) for p in paths], "catalog": str(catalog) if catalog else None,
            "out": os.path.realpath(out), "formats": list(rule_formats),
            "templates": os.path.realpath(templates) if templates else None,
            "config": os.path.realpath(config) if config else None}
    dirs = [p if p.is_dir() else p.parent for p in paths]
    files = [p for p in paths if not p.is_dir()] + [f for f in (catalog, config) if f is not None]
    return Inputs(run_key(args), dirs, [templates] if templates is not None else [], files)


class Reads:
    """Wraps the reader of current runbooks, remembering what it returned (see `fixed_point`)."""

    def __init__(self, read):
        self._read = read
        self.seen: dict[str, str | None] = {}

    def __call__(self, rel: str) -> str | None:
        text = self.seen[rel] = self._read(rel)
        return text

    def fixed_point(self, outputs: dict[str, str]) -> bool:
        """Every file read held what this run writes there: a rerun reads the same and renders the same."""
        return all(outputs.get(rel) == text for rel, text in self.seen.items())
