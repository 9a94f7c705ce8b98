"""Text that looks like other text: invisible characters and mixed-script look-alikes.

A label value with a zero-width space, a bidi override or a Cyrillic `а` in
a Latin word shows exactly like another value in Alertmanager and Grafana,
so an alert looks like another service's, and nobody can type it into a
silence. Validation rejects such values with the character's code point.
"""

from __future__ import annotations

import unicodedata

# Shown as nothing (or as a plain space) but not in a format or control
# category: Hangul fillers, the braille blank, the combining grapheme joiner,
# variation selectors.
_INVISIBLE = frozenset({"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800", "\u034f"}
                       | {chr(c) for c in range(0xFE00, 0xFE10)}
                       | {chr(c) for c in range(0xE0100, 0xE01F0)})
# Controls, format characters (zero-width, bidi embeddings, overrides and
# isolates, soft hyphen, tags), line and paragraph separators, surrogates,
# private use and unassigned code points.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def describe(ch: str) -> str:
    return f"U+{ord(ch):04X} ({unicodedata.name(ch, 'unnamed')})"


def invisible_char(text: str) -> str | None:
    """The first character of `text` that cannot be seen or typed as itself, or None.

    A space other than the ASCII one (no-break, em, ideographic spaces) counts:
    it looks like a space and is not one.
    """
    for ch in text:
        category = unicodedata.category(ch)
        if ch in _INVISIBLE or category in _INVISIBLE_CATEGORIES or (category == "Zs" and ch != " "):
            return ch
    return None


def lookalike_char(text: str) -> tuple[str, str] | None:
    """A character of another script that looks like a Latin one in mixed-script `text`, and that Latin one.

    Single-script text (all Cyrillic, all Greek) is fine; so is a mix whose
    non-Latin characters look like no Latin letter (Han, emoji).
    """
    from confusable_homoglyphs import confusables

    if not confusables.is_mixed_script(text):
        return None
    found = confusables.is_confusable(text, preferred_aliases=["latin"])
    if not found:
        return None
    glyphs = [g["c"] for g in found[0]["homoglyphs"] if g["c"].isascii()] or [found[0]["homoglyphs"][0]["c"]]
    return found[0]["character"], glyphs[0]


def lookalike_problem(text: str) -> str:
    """Why `text` may look like other text, or ''."""
    ch = invisible_char(text)
    if ch is not None:
        return f"contains {describe(ch)}, which cannot be seen or typed as itself"
    pair = lookalike_char(text)
    if pair is not None:
        return (f"mixes scripts: {pair[0]!r} {describe(pair[0])} looks like {pair[1]!r}, so the value looks "
                "like another one")
    return ""
