"""Keep checking a file whose shape is partly broken.

When one SLO of a file has an unparsable objective, the file does not fit the
model and, before this module, none of its other mistakes were reported until
that one was fixed. Here the broken parts are set aside (a broken entry of
`slos` or `budgets`, a broken optional key) and the rest is validated again,
so the semantic checks can run on what does not depend on the broken part.
The salvaged model is only ever used to find more mistakes, never to
generate: the file still has errors.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from slokit.load import PathKey, Source

M = TypeVar("M", bound=BaseModel)
LISTS = ("slos", "budgets")
MAX_ROUNDS = 3


def _breakage(exc: ValidationError, model: type[BaseModel]) -> tuple[set[tuple[str, int]], set[str]] | None:
    """The list entries and optional top-level keys to set aside, or None when a required part is broken."""
    entries: set[tuple[str, int]] = set()
    keys: set[str] = set()
    for err in exc.errors(include_url=False):
        loc = err["loc"]
        if len(loc) >= 2 and loc[0] in LISTS and isinstance(loc[1], int):
            entries.add((loc[0], loc[1]))
        elif loc and isinstance(loc[0], str) and loc[0] in model.model_fields \
                and not model.model_fields[loc[0]].is_required():
            keys.add(loc[0])
        else:
            return None
    return entries, keys


def _remap(source: Source, kept: dict[str, list[int]], data: dict) -> Source:
    """A Source for the salvaged data whose positions still point at the original lines."""
    def move(table: dict[PathKey, tuple[int, int]]) -> dict[PathKey, tuple[int, int]]:
        moved = {}
        for path, pos in table.items():
            if len(path) >= 2 and path[0] in kept and isinstance(path[1], int):
                if path[1] not in kept[path[0]]:
                    continue
                path = (path[0], kept[path[0]].index(path[1])) + path[2:]
            moved[path] = pos
        return moved

    return Source(source.path, data, move(source.positions), move(source.key_positions))


def salvage(source: Source, model: type[M], exc: ValidationError) -> tuple[M, Source] | None:
    """The model of `source` without its broken parts, and a Source to position messages; None if impossible."""
    data = source.data
    current = source
    for _ in range(MAX_ROUNDS):
        broken = _breakage(exc, model)
        if broken is None:
            return None
        entries, keys = broken
        kept = {name: [i for i in range(len(data.get(name) or [])) if (name, i) not in entries]
                for name in LISTS if isinstance(data.get(name), list)}
        data = {k: v for k, v in data.items() if k not in keys}
        for name, indexes in kept.items():
            data[name] = [current.data[name][i] for i in indexes]
        current = _remap(current, {n: i for n, i in kept.items() if n in data}, data)
        try:
            return model.model_validate(data), current
        except ValidationError as again:
            exc = again
    return None
