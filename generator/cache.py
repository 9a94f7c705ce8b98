"""slokit's cache of rendered outputs, under `<output root>/.slokit/cache/`.

A service's rule tests (the costly part of a render) are keyed by a SHA-256
of the service's plan and the catalog as plain data, slokit's version and a
digest of slokit's own code (so an upgrade or a local edit of the generator
never reuses an old result) -> the rendered test files.

A wrong cache is worse than none: entries are written only after a complete,
successful generation, each carries a digest of its own content and is ignored
when that does not match, and the cache is not used at all when `.slokit` or
`cache` is a symlink (it could point outside what slokit owns).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

CACHE_DIR = Path(".slokit") / "cache"
FORMAT = 1  # bump when the layout of an entry changes


@lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of slokit's own source files: a changed generator is a different generator."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".py", ".j2", ".yaml")
                       and "__pycache__" not in p.parts):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def _version() -> str:
    import slokit

    return slokit.__version__


def digest(*parts: str | bytes) -> str:
    """SHA-256 of length-prefixed parts (so no two different part lists hash alike)."""
    h = hashlib.sha256()
    for part in (FORMAT, _version(), code_digest(), *parts):
        data = part if isinstance(part, bytes) else str(part).encode()
        h.update(len(data).to_bytes(8, "big") + data)
    return h.hexdigest()


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Cache:
    root: Path  # the cache directory
    # Entries of this run, written by `commit` once the run succeeded (a failed run caches nothing).
    pending: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)

    @staticmethod
    def open(out_dir: Path) -> "Cache | None":
        """The cache of an output root, or None where using it would not be safe."""
        for d in (out_dir / ".slokit", out_dir / CACHE_DIR):
            if d.is_symlink() or (d.exists() and not d.is_dir()):
                return None
        return Cache(out_dir / CACHE_DIR)

    # -- entries ---------------------------------------------------------------

    def _path(self, kind: str, key: str) -> Path:
        return self.root / kind / f"{key}.json"

    def get(self, kind: str, key: str) -> dict[str, str] | None:
        try:
            entry = json.loads(self._path(kind, key).read_text(encoding="utf-8"))
            data, check = entry["data"], entry["digest"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if not isinstance(data, dict) or check != text_digest(json.dumps(data, sort_keys=True)):
            return None  # damaged or edited: recompute
        return data

    def put(self, kind: str, key: str, data: dict[str, str]) -> None:
        """Store an entry atomically; a cache that cannot be written is only a slower run."""
        path = self._path(kind, key)
        text = json.dumps({"digest": text_digest(json.dumps(data, sort_keys=True)), "data": data}, sort_keys=True)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, path)
        except OSError:
            return

    def memo(self, kind: str, key: str, build: Callable[[], dict[str, str]]) -> dict[str, str]:
        found = self.get(kind, key)
        if found is None:
            found = self.pending[(kind, key)] = build()
        return found

    def commit(self) -> None:
        for (kind, key), data in sorted(self.pending.items()):
            self.put(kind, key, data)
        self.pending.clear()
