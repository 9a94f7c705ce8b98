"""Turn pydantic validation errors into positioned, human diagnostics."""

from __future__ import annotations

import difflib

from pydantic import BaseModel, ValidationError

from slokit.errors import Diagnostic
from slokit.load import Source


def did_you_mean(word: str, options) -> str:
    close = difflib.get_close_matches(word, sorted(options), n=1, cutoff=0.6)
    return f"did you mean {close[0]}?" if close else ""


def describe_validation_error(exc: ValidationError, source: Source, model: type[BaseModel]) -> list[Diagnostic]:
    diags = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        hint = ""
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            key = str(loc[-1])
            msg = f"unknown key {key!r}"
        diags.append(source.diagnostic(loc, msg, hint))
    return diags
