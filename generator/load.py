"""Load YAML files into plain data plus a map of source positions.

Every value keeps the `line:column` it came from (keyed by its path in the
document, e.g. ``("slos", 0, "sli", "threshold", "le")``) so that later stages
can point at the exact spot a user has to fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from slokit.errors import Diagnostic, SlokitError

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class Source:
    """One parsed YAML file."""

    path: str
    data: Any
    positions: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def position(self, key: PathKey) -> tuple[int, int]:
        """Position of `key`, or of its closest ancestor that has one."""
        key = tuple(key)
        while key:
            if key in self.positions:
                return self.positions[key]
            key = key[:-1]
        return self.positions.get((), (1, 1))

    def diagnostic(self, key: PathKey, message: str, hint: str = "") -> Diagnostic:
        line, column = self.position(key)
        return Diagnostic(self.path, line, column, message, hint)


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _construct(node: yaml.Node, key: PathKey, positions: dict, diags: list, path: str, loader) -> Any:
    positions[key] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        result: dict = {}
        seen: dict[Any, tuple[int, int]] = {}
        for key_node, value_node in node.value:
            k = loader.construct_object(key_node, deep=True)
            if not isinstance(k, (str, int, float, bool)) or k is None:
                diags.append(Diagnostic(path, *_mark(key_node), "mapping keys must be plain strings"))
                continue
            k = str(k) if not isinstance(k, str) else k
            if k in seen:
                line, col = seen[k]
                diags.append(
                    Diagnostic(path, *_mark(key_node), f"duplicate key {k!r} (first defined at line {line}, column {col})",
                               "remove one of the two; YAML would silently keep only the last")
                )
                continue
            seen[k] = _mark(key_node)
            result[k] = _construct(value_node, key + (k,), positions, diags, path, loader)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _construct(item, key + (i,), positions, diags, path, loader) for i, item in enumerate(node.value)
        ]
    return loader.construct_object(node, deep=True)


def parse_yaml(text: str, path: str) -> Source:
    """Parse one YAML document, keeping positions; raise SlokitError on bad input."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise SlokitError([Diagnostic(path, line, col, f"YAML syntax error: {exc.problem or exc}")]) from None
    except yaml.YAMLError as exc:
        raise SlokitError([Diagnostic(path, 1, 1, f"YAML error: {exc}")]) from None
    finally:
        loader.dispose()
    if node is None:
        raise SlokitError([Diagnostic(path, 1, 1, "file is empty", "write a mapping with the documented keys")])
    positions: dict[PathKey, tuple[int, int]] = {}
    diags: list[Diagnostic] = []
    data = _construct(node, (), positions, diags, path, yaml.SafeLoader(""))
    if diags:
        raise SlokitError(diags)
    return Source(path=path, data=data, positions=positions)


def read_yaml(file: Path, display: str | None = None) -> Source:
    display = display or str(file)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise SlokitError([Diagnostic(display, 1, 1, f"cannot read file: {exc.strerror}")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SlokitError([Diagnostic(display, 1, 1, f"file is not UTF-8 (bad byte at offset {exc.start})")]) from None
    return parse_yaml(text, display)
