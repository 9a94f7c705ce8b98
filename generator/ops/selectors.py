"""Label selectors given on the command line (`--candidate 'track="canary"'`), and adding them to plan queries.

Both the user's selector and the plan's series selectors are parsed with
promql-parser and rendered again through slokit.promql, so a label value is
quoted exactly once and cannot close the string or the selector early.
"""

from __future__ import annotations

import promql_parser

from slokit.promql import Matcher, Selector

_OPS = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}


class SelectorError(ValueError):
    pass


def _matchers(parsed) -> tuple[Matcher, ...]:
    return tuple(Matcher(m.name, _OPS[str(m.op).rsplit(".", 1)[-1]], m.value) for m in parsed.matchers.matchers)


def parse_matchers(text: str) -> tuple[Matcher, ...]:
    """`track="canary", model=~"sim-.*"` (braces optional) -> matchers; SelectorError when it is not that."""
    inner = text.strip()
    if inner.startswith("{") and inner.endswith("}"):
        inner = inner[1:-1]
    if not inner.strip():
        raise SelectorError("the selector is empty")
    try:
        parsed = promql_parser.parse("x{" + inner + "}")
    except (ValueError, RuntimeError) as exc:
        raise SelectorError(f"not a label selector: {text!r} ({exc})") from None
    if type(parsed).__name__ != "VectorSelector":
        raise SelectorError(f"not a label selector: {text!r}")
    found = tuple(m for m in _matchers(parsed) if m.label != "__name__")
    if len(found) != len(parsed.matchers.matchers):
        raise SelectorError(f"{text!r} names a metric; give label matchers only, e.g. track=\"canary\"")
    return found


def with_matchers(selector: str, extra: tuple[Matcher, ...]) -> str:
    """A plan's series selector (e.g. `llm_requests_total{status="ok"}`) narrowed by `extra`."""
    parsed = promql_parser.parse(selector)
    if type(parsed).__name__ != "VectorSelector":
        raise SelectorError(f"not a series selector: {selector}")
    own = tuple(m for m in _matchers(parsed) if m.label != "__name__")
    overridden = {m.label for m in extra}
    clash = [m.label for m in own if m.label in overridden]
    if clash:
        raise SelectorError(f"the selector sets {', '.join(clash)}, which the SLI already selects on ({selector})")
    return Selector(parsed.name, own + extra).render()
