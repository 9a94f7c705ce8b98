"""`slokit diff` as Markdown (a pull-request comment) and JSON."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from slokit.diff import ProjectDiff, SLOChange, SLOFacts
from slokit.explain import ERROR_RATES, percent
from slokit.report import plural
from slokit.templating import loader

# Lists longer than this fold into <details>.
FOLD = 8


def md_escape(text: str) -> str:
    """User text in a Markdown table cell or list item: no markup, no HTML, no broken table."""
    out = []
    for ch in str(text):
        if ch in "\\`*_{}[]()<>!|~&":
            out.append(f"&#{ord(ch)};")
        elif ch in "\r\n":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def _code(text: str) -> str:
    """Text shown as code: backticks cannot be escaped inside a code span, so they are replaced."""
    return "`" + str(text).replace("`", "'").replace("|", "\\|").replace("\n", " ") + "`"


def _budget(f: SLOFacts | None) -> str:
    if f is None:
        return "-"
    text = f"{f.outage_minutes:g} min of full outage, {f.failed_per_million:g} failed per million"
    if f.budget_events_now is not None:
        text += f", {f.budget_events_now:,.0f} failed events at current traffic ({f.events_per_second:.3g}/s)"
    return text


def _fold(title: str, lines: list[str]) -> list[str]:
    if len(lines) <= FOLD:
        return lines
    return [f"<details><summary>{title} ({len(lines)})</summary>", "", *lines, "", "</details>"]


def _detection(change: SLOChange) -> list[str]:
    rates = [f"at {percent(e)} errors" for e in ERROR_RATES]
    lines = ["", "| tier | " + " | ".join(rates) + " |", "|---|" + "---|" * len(rates)]
    for side, facts in (("before", change.before), ("after", change.after)):
        if facts is None:
            continue
        for tier, times in facts.detection.items():
            lines.append(f"| {side}: {md_escape(tier)} | " + " | ".join(times) + " |")
    return lines


def _slo_section(change: SLOChange) -> list[str]:
    name = f"{md_escape(change.service)}/{md_escape(change.slo)}"
    if change.status == "added":
        head = f"- **added** SLO {name}: {change.after.objective} over {change.after.window}"
    elif change.status == "removed":
        head = f"- **removed** SLO {name} (was {change.before.objective} over {change.before.window})"
    else:
        head = f"- **changed** SLO {name}: {', '.join(change.fields)}"
    lines = [head, f"  - error budget: {_budget(change.before)} → {_budget(change.after)}"]
    for fld in change.fields:
        before, after = getattr(change.before, fld), getattr(change.after, fld)
        if fld in ("tiers", "routes", "group_by"):
            before, after = "; ".join(before) or "none", "; ".join(after) or "none"
        lines.append(f"  - {fld}: {_code(before)} → {_code(after)}")
    details = _detection(change)
    lines += ["", "  <details><summary>detection times per tier</summary>", *["  " + d for d in details], "",
              "  </details>"]
    return lines


def _counts(d: ProjectDiff) -> list[str]:
    counts = [plural(len(d.services_added), "service") + " added" if d.services_added else "",
              plural(len(d.services_removed), "service") + " removed" if d.services_removed else "",
              plural(len(d.slos), "SLO") + " added, removed or changed" if d.slos else "",
              plural(len(d.budgets), "budget") + " changed" if d.budgets else "",
              f"alerts +{len(d.alerts_added)} −{len(d.alerts_removed)}",
              plural(len(d.files), "generated file") + " changed"]
    return [c for c in counts if c]


def markdown(d: ProjectDiff, templates: Path | None = None) -> str:
    """The diff as Markdown, from diff.md.j2 (the repository's own, when it has one)."""
    import jinja2

    # Markdown, not HTML: autoescape stays off and user text is escaped once, by the `md` and `code` filters.
    env = jinja2.Environment(loader=loader(templates), autoescape=False, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    env.filters.update(md=md_escape, code=_code, plural=lambda n, word: plural(n, word),
                       prefix=lambda text, head: head + text)
    template = env.get_template("diff.md.j2")
    return template.render(d=d, counts=_counts(d), slo_section=_slo_section, fold=_fold)


def as_json(d: ProjectDiff) -> str:
    doc = asdict(d)
    for change, raw in zip(d.slos, doc["slos"]):
        raw["fields"] = list(change.fields)
    doc["empty"] = d.empty
    return json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n"
