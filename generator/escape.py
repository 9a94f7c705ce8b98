"""Escaping of user text, one function per target language.

Each function takes literal text and returns what makes the target produce
exactly that text again. Each is applied exactly once, where the text is put
into its target (never to text that is already escaped), so they stay small
enough to be used as Jinja filters by templates too.

- Go text/template (Prometheus expands alert labels and annotations);
- Markdown inline text, code spans and fenced blocks (runbooks);
- generated header comments (YAML `#`, Markdown/HTML `<!-- -->`, JSON text).

PromQL strings and regexes are quoted in `slokit.promql`; YAML and JSON by
their dumpers in `slokit.render.common`.
"""

from __future__ import annotations

import re
import unicodedata

# -- Go text/template ---------------------------------------------------------

# Go's template lexer starts an action at `{{` and nothing else; `}}` outside
# an action is plain text. A run of `{` of two or more, or a `{` ending the
# text (the next piece of a template may start with `{`), is written as a raw
# string action that prints it: {{`{{`}}. A raw string cannot hold a
# backtick, and a run of `{` never does.
_GO_BRACES = re.compile(r"\{\{+|\{$")


def go_template_literal(text: str) -> str:
    """`text` as a Go text/template that expands to exactly `text`."""
    return _GO_BRACES.sub(lambda m: "{{`" + m.group() + "`}}", text)


# -- Markdown -----------------------------------------------------------------

# Every line break CommonMark, YAML or a browser may act on.
_LINE_BREAKS = re.compile(r"[\r\n\v\f\x85\u2028\u2029]+")
# ASCII punctuation with a meaning inline (emphasis, code, links, HTML,
# entities, tables, strikethrough, autolinks); CommonMark lets a backslash
# escape any ASCII punctuation, so each is shown as itself.
_MD_INLINE = re.compile(r"([\\`*_\[\]<>&|~#$])")
# What makes a block of the start of a line: headings, quotes, lists, rules,
# setext underlines, ordered lists (`1.` or `1)`).
_MD_LINE_START = re.compile(r"^([-+=>]|\d+(?=[.)]))")


def one_line(text: str) -> str:
    """`text` with every run of line breaks turned into one space."""
    return _LINE_BREAKS.sub(" ", text)


def markdown_text(text: str) -> str:
    """`text` as Markdown inline content that renders as exactly that text, on one line.

    No headings, lists, HTML, comments, links or emphasis can come out of it,
    wherever on a line it is put.
    """
    # Leading blanks would make an indented code block at the start of a line.
    escaped = _MD_INLINE.sub(r"\\\1", one_line(text).strip())
    match = _MD_LINE_START.match(escaped)
    if match is None:
        return escaped
    # `1.` starts a list: escape the punctuation after the number; `-` and the like themselves.
    at = match.end() if match.group(1)[0].isdigit() else 0
    return escaped[:at] + "\\" + escaped[at:]


def markdown_code(text: str) -> str:
    """`text` as a Markdown code span: a fence longer than any backtick run inside it."""
    text = one_line(text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    # A span starting or ending with a backtick (or a space) needs a space
    # inside the fence; CommonMark strips one space from each side.
    pad = " " if text[:1] in ("`", " ") or text[-1:] in ("`", " ") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def markdown_fence(lines: list[str], info: str = "") -> list[str]:
    """Lines of a fenced code block whose fence no line of `lines` can close."""
    body = "\n".join(lines)
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + info, *body.split("\n"), fence]


def markdown_url(url: str) -> str:
    """A link destination: `<url>` allows parentheses and spaces; `<`, `>` and line breaks are percent-encoded."""
    return "<" + one_line(url).replace("<", "%3C").replace(">", "%3E").replace(" ", "%20") + ">"


# -- header comments ----------------------------------------------------------

# Characters shown as \u escapes in a generated header: line breaks (which
# would end a YAML comment), controls and invisible format characters, and
# `<`, `>` (which could close or open an HTML comment). The backslash itself
# is escaped, so the escaping reads back unambiguously.
_VISIBLE_CATEGORIES = ("L", "M", "N", "P", "S")


def _header_char(ch: str) -> str:
    if ch == " " or (unicodedata.category(ch)[0] in _VISIBLE_CATEGORIES and ch not in "\\<>"):
        return ch
    return f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}"


def header_text(text: str) -> str:
    """`text` (a file name) safe inside any generated comment or header: one line, no `-->`, visible."""
    return "".join(_header_char(ch) for ch in text)
