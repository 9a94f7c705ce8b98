"""Grafana's current dashboard model, via grafana-foundation-sdk's typed models.

A dashboard is loaded into the SDK's `Dashboard` (panels, targets, field
config and panel options decoded by the registered plugin variants) and
encoded again. Keys the model does not know are dropped by the SDK's
decoders, so comparing the two JSON trees finds legacy and misspelled keys;
a value whose JSON type changes (a string where a number belongs) is found
the same way. Keys the SDK adds (its defaults) are not problems.
"""

from __future__ import annotations

import json
import warnings
from typing import Any, Iterator

from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins

with warnings.catch_warnings():
    # The SDK marks the v1 model deprecated in favour of the v2 (schema v2
    # dashboards); file provisioning and the import UI read v1.
    warnings.simplefilter("ignore", DeprecationWarning)
    from grafana_foundation_sdk.models.dashboard import Dashboard as SdkDashboard

register_default_plugins()

Path = tuple[str | int, ...]


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def leaves(value: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every leaf (and every empty container) with its path."""
    if isinstance(value, dict) and value:
        for k, v in value.items():
            yield from leaves(v, path + (k,))
    elif isinstance(value, list) and value:
        for i, v in enumerate(value):
            yield from leaves(v, path + (i,))
    else:
        yield path, value


def roundtrip(data: dict[str, Any]) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        model = SdkDashboard.from_json(json.loads(json.dumps(data)))
    return json.loads(json.dumps(model, cls=JSONEncoder))


def _at(data: Any, path: Path) -> tuple[bool, Any]:
    for step in path:
        if isinstance(data, dict) and isinstance(step, str) and step in data:
            data = data[step]
        elif isinstance(data, list) and isinstance(step, int) and step < len(data):
            data = data[step]
        else:
            return False, None
    return True, data


def format_path(path: Path) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def model_problems(data: dict[str, Any]) -> list[str]:
    """Keys lost and JSON types changed by a round trip through the typed model."""
    try:
        back = roundtrip(data)
    except Exception as exc:  # the SDK raises on shapes it cannot decode at all
        return [f"the typed model cannot load the dashboard: {type(exc).__name__}: {exc}"]
    problems = []
    for path, value in leaves(data):
        found, other = _at(back, path)
        if not found:
            problems.append(f"{format_path(path)}: key lost (not in the dashboard model)")
        elif _json_type(value) != _json_type(other):
            problems.append(f"{format_path(path)}: {_json_type(value)} became {_json_type(other)}")
    return problems


# --------------------------------------------------------------------------
# Types: the SDK decodes without checking, so check its annotations here
# --------------------------------------------------------------------------

import enum
import types
import typing


def _hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls)
    except Exception:  # annotations the SDK cannot resolve itself: treat as untyped
        return {}


def _conforms(value: Any, hint: Any) -> bool:
    if hint is Any or hint is object:
        return True
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_conforms(value, a) for a in args)
    if origin is typing.Literal:
        return value in args
    if hint is type(None):
        return value is None
    if origin is list:
        return isinstance(value, list) and all(_conforms(v, args[0]) for v in value) if args else isinstance(value, list)
    if origin is dict:
        return isinstance(value, dict) and (not args or all(_conforms(v, args[1]) for v in value.values()))
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return isinstance(value, hint) or value in {m.value for m in hint}
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if isinstance(hint, type):
        # A model class (or an abstract variant such as Dataquery): instances
        # of it or its subclasses. Plain dicts are what the SDK keeps for
        # options it has no decoder for.
        return isinstance(value, hint)
    return True


def type_problems(obj: Any, path: Path = ()) -> list[str]:
    """Values whose type disagrees with the typed model's annotation."""
    problems: list[str] = []
    if isinstance(obj, list):
        for i, item in enumerate(obj):
            problems += type_problems(item, path + (i,))
        return problems
    if isinstance(obj, dict):
        for k, v in obj.items():
            problems += type_problems(v, path + (str(k),))
        return problems
    if not hasattr(obj, "to_json") or not hasattr(type(obj), "__init__"):
        return problems
    for name, hint in _hints(type(obj)).items():
        if not hasattr(obj, name):
            continue
        value = getattr(obj, name)
        model = _raw_model(value, hint)
        if model is not None:
            # The SDK kept this part as plain JSON (panel links, transformations):
            # decode it with the class the annotation names and check it too.
            problems += _decoded_problems(value, model, path + (name,))
        elif not _conforms(value, hint):
            problems.append(f"{format_path(path + (name,))}: {type(value).__name__} {value!r:.60} is not {hint}")
        else:
            problems += type_problems(value, path + (name,))
    return problems


def _model_of(hint: Any) -> type | None:
    for arg in (hint, *typing.get_args(hint)):
        if isinstance(arg, type) and hasattr(arg, "from_json") and not issubclass(arg, enum.Enum):
            return arg
    return None


def _raw_model(value: Any, hint: Any) -> tuple[type, str] | None:
    """(model class, shape) when `value` is raw JSON where the annotation names a model class.

    shape: "one" (an object), "list" (a list of objects) or "dict" (objects by key).
    """
    union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    for arg in (hint, *(typing.get_args(hint) if union else ())):
        origin, args = typing.get_origin(arg), typing.get_args(arg)
        if origin is list and args and isinstance(value, list) and value and isinstance(value[0], dict):
            cls = _model_of(args[0])
            if cls is not None:
                return cls, "list"
        if origin is dict and len(args) == 2 and isinstance(value, dict) and value \
                and all(isinstance(v, dict) for v in value.values()):
            cls = _model_of(args[1])
            if cls is not None:
                return cls, "dict"
        if origin is None and isinstance(arg, type) and isinstance(value, dict):
            cls = _model_of(arg)
            if cls is not None:
                return cls, "one"
    return None


def _decoded_problems(value: Any, model: tuple[type, str], path: Path) -> list[str]:
    cls, shape = model
    if shape == "list":
        items = [((i,), item) for i, item in enumerate(value)]
    elif shape == "dict":
        items = [((k,), item) for k, item in value.items()]
    else:
        items = [((), value)]
    problems = []
    for where, item in items:
        decoded = cls.from_json(item)
        back = json.loads(json.dumps(decoded, cls=JSONEncoder))
        for leaf, v in leaves(item):
            found, other = _at(back, leaf)
            if not found:
                problems.append(f"{format_path(path + where + leaf)}: key lost (not in {cls.__name__})")
            elif _json_type(v) != _json_type(other):
                problems.append(f"{format_path(path + where + leaf)}: {_json_type(v)} became {_json_type(other)}")
        problems += type_problems(decoded, path + where)
    return problems


def typed_problems(data: dict[str, Any]) -> list[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        model = SdkDashboard.from_json(json.loads(json.dumps(data)))
    return type_problems(model)
