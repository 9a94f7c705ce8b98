"""Turn pydantic validation errors into positioned, human diagnostics.

One diagnostic per problem, at the line and column of the offending key or
value, in words of the SLO language ("objective must be between 0 and 100
exclusive") rather than pydantic's ("Input should be less than 100").
"""

from __future__ import annotations

import difflib
import types
import typing
from dataclasses import dataclass, replace

from pydantic import BaseModel, ValidationError

from slokit import codes as C
from slokit.errors import Diagnostic
from slokit.load import PathKey, Source
from slokit import model as m


def did_you_mean(word: str, options) -> str:
    """A 'did you mean X?' hint for the closest option, or ''."""
    close = difflib.get_close_matches(str(word), sorted(options), n=1, cutoff=0.6)
    return f"did you mean {close[0]}?" if close else ""


# --------------------------------------------------------------------------
# Walking the model alongside the data
# --------------------------------------------------------------------------


def _unwrap(annotation):
    """Strip Optional/Annotated down to the type that describes the data."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            annotation = models[0] if models else args[0]
            if len(args) > 1 and not models:
                return annotation
        else:
            return annotation


def _type_at(model: type[BaseModel], path: PathKey):
    """The annotation describing the value at `path`, or None when unknown."""
    current = model
    for part in path:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
        elif typing.get_origin(current) is list and isinstance(part, int):
            current = typing.get_args(current)[0]
        elif typing.get_origin(current) is dict and isinstance(part, str):
            current = typing.get_args(current)[1]
        else:
            return None
    return _unwrap(current)


def _model_at(model: type[BaseModel], path: PathKey) -> type[BaseModel] | None:
    found = _type_at(model, path)
    return found if isinstance(found, type) and issubclass(found, BaseModel) else None


def _is_dict_entry(model: type[BaseModel], path: PathKey) -> bool:
    return bool(path) and typing.get_origin(_type_at(model, path[:-1])) is dict


def _name(model: type[BaseModel], path: PathKey) -> str:
    """How to call the value at `path` in a message: `objective`, `match.status`, `entry 2 of slos`."""
    if not path:
        return "the file"
    last = path[-1]
    if isinstance(last, int):
        return f"entry {last + 1} of {_name(model, path[:-1])}"
    if _is_dict_entry(model, path) and len(path) >= 2:
        return f"{path[-2]}.{last}"
    return str(last)


# --------------------------------------------------------------------------
# From pydantic's error list to diagnostics
# --------------------------------------------------------------------------


@dataclass
class _Error:
    type: str
    path: PathKey  # path into the data
    missing: str | None  # the missing key, for type "missing"
    at_key: bool  # the problem is the key itself
    union_at: int | None  # length of the path where a union branch was chosen
    value: object
    ctx: dict
    msg: str


def _resolve(err: dict, data) -> _Error:
    """Split pydantic's loc into the path that exists in the data and the rest."""
    path: list = []
    current = data
    at_key = False
    union_at = None
    missing = None
    loc = list(err["loc"])
    for i, part in enumerate(loc):
        if isinstance(current, dict) and isinstance(part, str) and part in current:
            path.append(part)
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            path.append(part)
            current = current[part]
        elif part == "[key]":
            at_key = True
        elif i == len(loc) - 1 and err["type"] == "missing":
            missing = str(part)
        elif isinstance(part, str) and not part.startswith("function-") and union_at is None:
            union_at = len(path)
    return _Error(err["type"], tuple(path), missing, at_key, union_at, err.get("input"), err.get("ctx") or {},
                  err["msg"])


def _show(value) -> str:
    if isinstance(value, str):
        return repr(value) if len(value) <= 60 else repr(value[:57] + "...")
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {value:g}" if isinstance(value, float) else f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


_PATTERN_TEXT = {
    m.SLUG_PATTERN: (
        "is not a valid name",
        "use lowercase letters, digits, '-' and '_', starting with a letter or digit, e.g. api-success",
    ),
    m.METRIC_NAME_PATTERN: ("is not a valid metric name", "use letters, digits and '_', e.g. llm_requests_total"),
    m.LABEL_NAME_PATTERN: (
        "is not a valid label name",
        "use letters, digits and '_', not starting with a digit, e.g. feature",
    ),
    m.DURATION_THRESHOLD_PATTERN: (
        "is neither a number nor a duration",
        "write a number in the histogram's unit (le: 0.5), or a duration converted to it: 500ms, 1.5s, 1m30s "
        "(units ms, s, m, h; no space)",
    ),
    m.DURATION_PATTERN: (
        "is not a Prometheus duration",
        "use a Prometheus duration such as 30d, 28d or 7d (units w, d, h, m, s, largest first, e.g. 1h30m)",
    ),
}

# Range messages for the fields whose bounds a user must know by heart.
_RANGES = {
    "objective": ("objective must be between 0 and 100 exclusive, e.g. 99.5", "it is a percentage of good events"),
    "budget_percent": ("budget_percent must be above 0 and at most 100, e.g. 2", "it is the share of the error "
                       "budget spent when the alert fires"),
    "limit": ("limit must be greater than 0", "the most the counter may increase over the budget window"),
    "factor": ("factor must be greater than 1, e.g. 1.5", "the regression alert fires at this multiple of the baseline"),
    "max_cardinality": ("max_cardinality must be between 1 and 10000", "labels with more values belong in traces "
                        "and logs, not metrics"),
    "min_events_per_hour": ("min_events_per_hour must be 0 or more", "0 turns the traffic guard off"),
}

_VALUE_ERROR_HINTS = {
    "a ratio SLI has exactly one of": "write `good:` (successes) or `bad:` (failures), plus `total:`",
    "a raw SLI has exactly one of": "write `good:` (successes) or `bad:` (failures), plus `total:`; or one "
                                    "`error_ratio:` expression",
    "a raw SLI with `good` or `bad` needs": "add `total:`, the rate of all events",
    "a raw SLI with `error_ratio` has no": "error_ratio is the whole SLI: remove good, bad and total, or "
                                          "remove error_ratio",
    "a threshold SLI has exactly one of": "write `le: 1` (good when at most 1) or `gt: 0.8` (good when above 0.8)",
    "an SLI has exactly one of": "ratio for counters, threshold for a histogram bucket bound, raw for PromQL",
    "a label declares exactly one of": "use `values: [...]` for a known set, or `max_cardinality: N` for an open "
                                       "set such as tenant",
}


def _otel_name_hint(name: str) -> str:
    """A dotted OpenTelemetry name: the name Prometheus (2.x, no UTF-8 names) stores after translation."""
    stem = "_".join(part for part in "".join(c if c.isalnum() or c == "_" else "_" for c in name).split("_") if part)
    return (f"an OpenTelemetry name? Prometheus stores it translated: {stem}, plus the unit suffix (_seconds for "
            f"unit s, none for annotations such as {{token}}) and _total for counters; write that name and keep "
            f"the OpenTelemetry one in the catalog under `otel: {{name: {name}}}`")


def _patterns(annotation) -> set[str]:
    """Every string pattern constraint inside an annotation (through Optional and Annotated)."""
    found = set()
    for meta in getattr(annotation, "__metadata__", ()):
        if getattr(meta, "pattern", None):
            found.add(meta.pattern)
    for arg in typing.get_args(annotation):
        found |= _patterns(arg)
    return found


def _is_duration(model: type[BaseModel], path: PathKey) -> bool:
    """Whether the value at `path` is a Prometheus duration (window, long_window, offset, ...)."""
    if not path:
        return False
    parent = _model_at(model, path[:-1])
    field = parent.model_fields.get(str(path[-1])) if parent else None
    if field is None:
        return False
    patterns = _patterns(field.annotation) | {getattr(meta, "pattern", None) for meta in field.metadata}
    return m.DURATION_PATTERN in patterns


def _number_text(value) -> str | None:
    """`value` as a number written in YAML, when it is text that reads as one ("99.5")."""
    if not isinstance(value, str):
        return None
    try:
        float(value.strip())
    except ValueError:
        return None
    return value.strip()


def _field_help(model: type[BaseModel], path: PathKey, key: str) -> str:
    parent = _model_at(model, path)
    if parent is None or key not in parent.model_fields:
        return ""
    description = parent.model_fields[key].description or ""
    return f"{key}: {description}" if description else ""


def _message(e: _Error, model: type[BaseModel]) -> tuple[str, str]:
    name = _name(model, e.path)
    field = str(e.path[-1]) if e.path else ""
    t, v = e.type, e.value

    if t == "extra_forbidden":
        parent = _model_at(model, e.path[:-1])
        allowed = sorted(parent.model_fields) if parent else []
        hint = did_you_mean(field, allowed) or (f"allowed keys here: {', '.join(allowed)}" if allowed else "")
        if field == "native" and parent is m.MetricDef:
            # Asked for by users of native histograms: say why it is missing, not just what is allowed.
            hint = ("native histograms are not supported yet (see docs/catalog.md#native-histograms-not-supported): "
                    "declare the metric's classic histogram (its _bucket series) instead")
        return f"unknown key {field!r}", hint
    if t == "missing":
        return f"missing required key {e.missing!r}", _field_help(model, e.path, e.missing or "")
    if t == "string_too_short" and name in ("le", "gt"):
        e = replace(e, ctx={**e.ctx, "pattern": m.DURATION_THRESHOLD_PATTERN})
    if t in ("string_pattern_mismatch", "string_too_short") and (e.ctx.get("pattern") in _PATTERN_TEXT or t ==
                                                                 "string_too_short"):
        pattern = e.ctx.get("pattern", m.DURATION_PATTERN)
        what, hint = _PATTERN_TEXT[pattern]
        if pattern == m.METRIC_NAME_PATTERN and isinstance(v, str) and "{" in v:
            hint = "write only the metric name and put label filters under `match:`, e.g. match: {status: ok}"
        elif pattern == m.METRIC_NAME_PATTERN and isinstance(v, str) and "." in v:
            hint = _otel_name_hint(v)
        subject = "" if e.at_key else f"{name} "
        return f"{subject}{_show(v)} {what}", hint
    if t == "string_pattern_mismatch" and name == "unit":
        return f"unit {_show(v)} is not valid", "a lowercase base unit such as seconds, tokens, usd or requests"
    if t == "string_too_long":
        return (f"{name} is too long ({len(v)} characters, at most {e.ctx.get('max_length')})",
                "shorten it" if field not in ("service", "name", "owner") else "names end up in rule names, file "
                "names and dashboard UIDs; keep them short")
    if t in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        if field in _RANGES:
            message, hint = _RANGES[field]
            return f"{message} (got {v:g})" if isinstance(v, (int, float)) else message, hint
        bound = next(iter(e.ctx.values()), "")
        words = {"greater_than": "greater than", "greater_than_equal": "at least", "less_than": "less than",
                 "less_than_equal": "at most"}[t]
        return f"{name} must be {words} {bound:g}" if isinstance(bound, (int, float)) else e.msg, ""
    if t in ("float_parsing", "float_type"):
        example = "e.g. 99.5" if field == "objective" else "e.g. 0.5"
        number = _number_text(v)
        hint = f"remove the quotes: {number}" if number is not None else f"write a plain number, {example}"
        return f"{name} must be a number, got {_show(v)}", hint
    if t == "finite_number":
        return f"{name} must be a finite number", "write a plain number"
    if t in ("int_parsing", "int_type", "int_from_float"):
        return f"{name} must be a whole number, got {_show(v)}", ""
    if t == "string_type" and _is_duration(model, e.path):
        example = f"{v}d or {v}h" if isinstance(v, int) and not isinstance(v, bool) else "30d or 1h30m"
        return (f"{name} must be a Prometheus duration such as 30d, got {_show(v)}",
                f"add the unit, e.g. {example} (units w, d, h, m, s)")
    if t == "string_type":
        hint = f"quote it: \"{v}\"" if isinstance(v, (int, float, bool)) and not isinstance(v, bool) else ""
        if isinstance(v, bool):
            hint = f"quote it: \"{'true' if v else 'false'}\""
        return f"{name} must be text, got {_show(v)}", hint
    if t in ("bool_type", "bool_parsing"):
        hint = ("write true or false without quotes (yes, no, on and off are text in YAML 1.2)"
                if isinstance(v, str) else "write true or false")
        return f"{name} must be true or false, got {_show(v)}", hint
    if t == "too_short" and isinstance(v, list) and not v:
        if field == "tiers":
            return ("tiers must not be empty",
                    "remove `tiers` to use the defaults, or turn a severity off with page: {enabled: false}")
        return f"{name} must not be empty", "list at least one item"
    if t == "list_type":
        hint = f"write a list, e.g. [{v}]" if isinstance(v, str) else "write a list, e.g. [a, b]"
        return f"{name} must be a list, got {_show(v)}", hint
    if t in ("dict_type", "model_type", "model_attributes_type"):
        help_text = _field_help(model, e.path[:-1], field) if e.path else ""
        return f"{name} must be a mapping of keys to values, got {_show(v)}", help_text
    if t == "literal_error":
        expected = e.ctx.get("expected", "")
        options = [o.strip().strip("'") for o in expected.replace(" or ", ",").split(",") if o.strip()]
        return f"{name} must be {expected}, got {_show(v)}", did_you_mean(v, options) if isinstance(v, str) else ""
    if t == "value_error":
        text = str(e.ctx.get("error", e.msg))
        hint = next((h for k, h in _VALUE_ERROR_HINTS.items() if text.startswith(k)), "")
        return text, hint
    return f"{name}: {e.msg}", ""


def _code(e: _Error) -> str:
    """The stable code of a pydantic error type."""
    t = e.type
    if t == "extra_forbidden":
        return C.UNKNOWN_KEY
    if t == "missing":
        return C.MISSING_KEY
    if t in ("greater_than", "greater_than_equal", "less_than", "less_than_equal", "finite_number"):
        return C.OUT_OF_RANGE
    if t in ("string_pattern_mismatch", "string_too_short", "string_too_long"):
        return C.BAD_NAME
    if t.endswith(("_type", "_parsing")) or t == "int_from_float":
        return C.WRONG_TYPE
    return C.BAD_VALUE


_TYPE_MISMATCH = {"string_type", "list_type", "dict_type", "model_type", "float_type", "bool_type", "int_type"}


def _merge_union(errors: list[_Error], model: type[BaseModel]) -> list[_Error | tuple[PathKey, str, str]]:
    """Errors of the branches of one union (label: value or [values]) as the user meant them.

    A branch that failed only because the value has another shape is noise;
    when every branch failed that way, say which shapes are allowed.
    """
    point = errors[0].path[: errors[0].union_at]
    real = [e for e in errors if not (e.type in _TYPE_MISMATCH and e.path == point)]
    if real:
        return real
    value = errors[0].value
    return [(point, f"{_name(model, point)} must be a label value or a list of values, got {_show(value)}",
             "e.g. status: ok or status: [ok, timeout]; quote numbers: \"1\"")]


def _drop_missing_explained_by_typo(errors: list[_Error]) -> list[_Error]:
    """`objectve: 99` is one mistake: report the unknown key with its 'did you mean', not also the missing one."""
    extra = {(e.path[:-1], str(e.path[-1])) for e in errors if e.type == "extra_forbidden" and e.path}
    return [e for e in errors if not (e.type == "missing" and any(
        parent == e.path and did_you_mean(key, [e.missing]) for parent, key in extra))]


def describe_validation_error(exc: ValidationError, source: Source, model: type[BaseModel],
                              limit: int | None = None) -> list[Diagnostic]:
    """Every pydantic error of `exc` as one positioned diagnostic (union branches merged).

    With `limit`, only the first `limit` of pydantic's errors are described:
    formatting a million of them costs minutes and nobody reads them.
    """
    plain: list[_Error] = []
    unions: dict[PathKey, list[_Error]] = {}
    raw = exc.errors(include_url=False)
    for err in raw if limit is None else raw[:limit]:
        e = _resolve(err, source.data)
        if e.union_at is None:
            plain.append(e)
        else:
            unions.setdefault(e.path[: e.union_at], []).append(e)
    plain = _drop_missing_explained_by_typo(plain)
    items: list = list(plain)
    for errors in unions.values():
        items += _merge_union(errors, model)
    diags = []
    seen = set()
    for item in items:
        if isinstance(item, tuple):
            path, message, hint = item
            at_key, code = False, C.WRONG_TYPE
        else:
            path, (message, hint) = item.path, _message(item, model)
            at_key, code = item.at_key or item.type == "extra_forbidden", _code(item)
        diag = source.diagnostic(path, message, hint, at_key=at_key, code=code)
        if diag not in seen:
            seen.add(diag)
            diags.append(diag)
    return diags
