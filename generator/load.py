"""Load YAML files into plain data plus a map of source positions.

Every value keeps the `line:column` it came from (keyed by its path in the
document, e.g. ``("slos", 0, "sli", "threshold", "le")``) so that later stages
can point at the exact spot a user has to fix.

The loader is deliberately stricter than YAML: SLO files are reviewed in pull
requests, so anything that makes a file mean something other than what it
looks like is an error. It reads the YAML 1.2 core schema (`yes`, `on`, `01:30`
and dates stay strings, as editors and the JSON Schema see them), rejects
duplicate keys, aliases (no alias bombs), tags, tabs in indentation, several
documents per file, absurd nesting, numbers that are not finite and control
characters, and it never lets a parser exception escape as anything but
`SlokitError`.
"""

from __future__ import annotations

import math
import os
import re
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from slokit import codes as C
from slokit.errors import ERROR, Diagnostic, SlokitError

PathKey = tuple[str | int, ...]

MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 32
# Integers beyond this cannot be represented exactly as floats and are never a
# meaningful objective, bucket, limit or traffic guard.
MAX_INT = 10**15

_CORE = "tag:yaml.org,2002:"
def _tag(tag: str) -> str:
    return "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Source:
    """One parsed YAML file.

    `positions` maps a path to where its value starts; `key_positions` maps a
    path to where its key is written (for "unknown key" and the like).
    """

    path: str
    data: Any
    positions: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def position(self, key: PathKey, at_key: bool = False) -> tuple[int, int]:
        """Position of `key` (its value, or its key with `at_key`), else of its closest ancestor."""
        key = tuple(key)
        if at_key and key in self.key_positions:
            return self.key_positions[key]
        while key:
            if key in self.positions:
                return self.positions[key]
            key = key[:-1]
        return self.positions.get((), (1, 1))

    def diagnostic(self, key: PathKey, message: str, hint: str = "", at_key: bool = False,
                   code: str = C.INVALID, severity: str = ERROR) -> Diagnostic:
        line, column = self.position(key, at_key)
        return Diagnostic(self.path, line, column, message, hint, code, severity)


# --------------------------------------------------------------------------
# A YAML 1.2 core-schema loader that refuses aliases and deep nesting
# --------------------------------------------------------------------------


class _Reject(Exception):
    """Raised inside the composer; carries a mark and a message."""

    def __init__(self, mark, message: str, hint: str = ""):
        super().__init__(message)
        self.mark, self.message, self.hint = mark, message, hint


class _Loader(yaml.SafeLoader):
    yaml_implicit_resolvers: dict = {}

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _Reject(event.start_mark, f"YAML alias *{event.anchor} is not supported",
                          "write the value out in full; slokit files stay explicit so reviews see everything")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Reject(self.peek_event().start_mark, f"nesting is deeper than {MAX_DEPTH} levels",
                              "slokit files need only a few levels; check for runaway brackets or indentation")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_Loader.add_implicit_resolver(_CORE + "bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_Loader.add_implicit_resolver(_CORE + "null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
_Loader.add_implicit_resolver(_CORE + "int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
                              list("-+0123456789"))
_Loader.add_implicit_resolver(
    _CORE + "float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."),
)


def _mark(node_or_mark) -> tuple[int, int]:
    mark = getattr(node_or_mark, "start_mark", node_or_mark)
    return mark.line + 1, mark.column + 1


class _Builder:
    """Turns a composed node tree into plain data, recording positions and problems."""

    def __init__(self, path: str):
        self.path = path
        self.positions: dict[PathKey, tuple[int, int]] = {}
        self.key_positions: dict[PathKey, tuple[int, int]] = {}
        self.diags: list[Diagnostic] = []

    def error(self, node, message: str, hint: str = "") -> None:
        # Everything the builder rejects is valid YAML that slokit refuses.
        self.diags.append(Diagnostic(self.path, *_mark(node), message, hint, C.YAML_UNSUPPORTED))

    def build(self, node: yaml.Node, key: PathKey) -> Any:
        self.positions[key] = _mark(node)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, key)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _CORE + "seq":
                self.error(node, f"YAML tag {_tag(node.tag)} is not supported", "remove the tag")
            return [self.build(item, key + (i,)) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _mapping(self, node: yaml.MappingNode, key: PathKey) -> dict:
        if node.tag != _CORE + "map":
            self.error(node, f"YAML tag {_tag(node.tag)} is not supported", "remove the tag")
        result: dict[str, Any] = {}
        seen: dict[str, tuple[int, int]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "":
                self.error(key_node, "mapping keys must be plain names", "write `name: value`")
                continue
            # The key as written: `1:` and `true:` are names here, not numbers.
            k = key_node.value
            if _CONTROL.search(k):
                self.error(key_node, "key contains a control character", "remove it")
                continue
            if k in seen:
                line, col = seen[k]
                self.error(key_node, f"duplicate key {k!r} (first defined at line {line}, column {col})",
                           "remove one of the two; YAML would silently keep only the last")
                continue
            seen[k] = _mark(key_node)
            self.key_positions[key + (k,)] = seen[k]
            result[k] = self.build(value_node, key + (k,))
        return result

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        tag, text = node.tag, node.value
        if tag == _CORE + "str":
            match = _CONTROL.search(text)
            if match:
                self.error(node, f"text contains the control character U+{ord(match.group()):04X}",
                           "remove it; only printable characters, tabs and line breaks are allowed")
            return text
        if tag == _CORE + "null":
            return None
        if tag == _CORE + "bool":
            return text.lower() == "true"
        if tag == _CORE + "int":
            return self._int(node, text)
        if tag == _CORE + "float":
            return self._float(node, text)
        self.error(node, f"YAML tag {_tag(tag)} is not supported", "remove the tag; write plain values")
        return None

    def _int(self, node, text: str) -> int | None:
        digits = text.lstrip("+-")
        if len(digits) > 30:
            self.error(node, "number is too large", f"numbers must stay below {MAX_INT:.0e}")
            return None
        base = 16 if digits.startswith("0x") else 8 if digits.startswith("0o") else 10
        value = int(digits[2:] if base != 10 else digits, base) * (-1 if text.startswith("-") else 1)
        if abs(value) >= MAX_INT:
            self.error(node, "number is too large", f"numbers must stay below {MAX_INT:.0e}")
            return None
        return value

    def _float(self, node, text: str) -> float | None:
        lowered = text.lower()
        if "inf" in lowered or "nan" in lowered:
            self.error(node, f"{text} is not a finite number", "write a plain number such as 99.5")
            return None
        value = float(text)
        if not math.isfinite(value) or abs(value) >= MAX_INT:
            self.error(node, "number is too large", f"numbers must stay below {MAX_INT:.0e}")
            return None
        return value


# --------------------------------------------------------------------------
# Syntax errors, in words a reviewer understands
# --------------------------------------------------------------------------


def _line_of(text: str, index: int) -> tuple[int, int]:
    before = text[:index]
    line = before.count("\n") + 1
    return line, index - (before.rfind("\n") + 1) + 1


def _syntax_error(exc: yaml.MarkedYAMLError, text: str, path: str) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = exc.problem or ""
    context = exc.context or ""
    if "'\\t'" in problem and mark is not None:
        line_text = text.splitlines()[mark.line] if mark.line < len(text.splitlines()) else ""
        if line_text[: mark.column].strip(" \t") == "":
            return Diagnostic(path, line, col, "tab character used for indentation", "indent with spaces only")
        return Diagnostic(path, line, col, "tab character where YAML expects a space", "use spaces instead of tabs")
    if "another document" in problem:
        return Diagnostic(path, line, col, "more than one YAML document in the file",
                          "keep one service per file; remove the `---` separator")
    if "mapping values are not allowed here" in problem:
        return Diagnostic(path, line, col, "YAML syntax error: unexpected ':'",
                          "check the indentation, or quote a value that contains ': '")
    if "could not find expected ':'" in problem:
        return Diagnostic(path, line, col, "YAML syntax error: expected `key: value`",
                          "a ':' is missing, or an indented line does not belong to the line above")
    if "quoted scalar" in context and exc.context_mark is not None:
        start = exc.context_mark
        return Diagnostic(path, start.line + 1, start.column + 1, "YAML syntax error: unterminated quoted string",
                          "close the quote on the same value")
    if problem.startswith("expected <block end>"):
        return Diagnostic(path, line, col, "YAML syntax error: this line is not aligned with the block it belongs to",
                          "check the indentation of this line against the lines above")
    if ("flow mapping" in context or "flow sequence" in context) and exc.context_mark is not None:
        opened = exc.context_mark
        bracket = "{" if "mapping" in context else "["
        closing = "}" if bracket == "{" else "]"
        return Diagnostic(path, line, col, f"YAML syntax error: the {bracket} opened at line {opened.line + 1}, "
                          f"column {opened.column + 1} is not closed",
                          f"close it with {closing}, and separate its items with commas")
    if "flow" in context and "<stream end>" in problem:
        return Diagnostic(path, line, col, "YAML syntax error: a [ or { is never closed", "close it with ] or }")
    if "flow" in context:
        return Diagnostic(path, line, col, f"YAML syntax error: {problem} {context}".strip(),
                          "check the matching brackets [ ] and braces { } and the commas between items")
    message = f"YAML syntax error: {problem}" + (f" {context}" if context else "")
    return Diagnostic(path, line, col, message.strip(), "")


def parse_yaml(text: str, path: str) -> Source:
    """Parse one YAML document that must be a mapping, keeping positions; raise SlokitError on bad input."""
    if text.startswith("\ufeff"):
        text = text[1:]
    loader = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
    except _Reject as exc:
        raise SlokitError([Diagnostic(path, *_mark(exc.mark), exc.message, exc.hint, C.YAML_UNSUPPORTED)]) from None
    except yaml.MarkedYAMLError as exc:
        code = C.YAML_UNSUPPORTED if "another document" in (exc.problem or "") else C.YAML_SYNTAX
        raise SlokitError([replace(_syntax_error(exc, text, path), code=code)]) from None
    except yaml.reader.ReaderError as exc:
        line, col = _line_of(text, exc.position)
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise SlokitError([Diagnostic(path, line, col, f"unsupported character U+{code:04X}",
                                      "remove it; YAML files may contain only printable characters",
                                      C.BAD_ENCODING)]) from None
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        # str(exc) quotes the offending line; say only what kind of problem it is.
        raise SlokitError([Diagnostic(path, 1, 1, f"YAML error ({type(exc).__name__})",
                                      "check that this is an SLO spec or catalog file", C.YAML_SYNTAX)]) from None
    finally:
        if loader is not None:
            loader.dispose()
    if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == _CORE + "null"):
        raise SlokitError([Diagnostic(path, 1, 1, "file is empty", "write a mapping with the documented keys",
                                      C.NOT_A_MAPPING)])
    if not isinstance(node, yaml.MappingNode):
        # The value itself is not quoted: a file that is not a spec (a token, a password file) must not be echoed.
        found = "a list" if isinstance(node, yaml.SequenceNode) else "a single value"
        raise SlokitError([Diagnostic(path, *_mark(node), f"the file must be a mapping of keys to values, not {found}",
                                      "start with `key: value` lines, e.g. `service: my-service`",
                                      C.NOT_A_MAPPING)])
    builder = _Builder(path)
    data = builder.build(node, ())
    if builder.diags:
        raise SlokitError(builder.diags)
    return Source(path=path, data=data, positions=builder.positions, key_positions=builder.key_positions)


def read_bytes(file: Path, display: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """A regular file's bytes, at most `limit`; never blocks on a FIFO or device, never reads a directory."""
    try:
        # O_NONBLOCK: opening a FIFO without a writer would otherwise wait forever.
        fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise SlokitError([Diagnostic(display, 1, 1, f"cannot read file: {exc.strerror}",
                                      "check that the file exists and that you may read it",
                                      C.UNREADABLE_FILE)]) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise SlokitError([Diagnostic(display, 1, 1, "is a directory, not a YAML file",
                                          "rename it or move it out of the way", C.UNREADABLE_FILE)])
        if not stat.S_ISREG(info.st_mode):
            raise SlokitError([Diagnostic(display, 1, 1, "is not a regular file (a FIFO, socket or device)",
                                          "slokit reads only regular files; replace it with one",
                                          C.UNREADABLE_FILE)])
        if info.st_size > limit:
            raise _too_large(display, limit)
        with os.fdopen(os.dup(fd), "rb") as handle:
            raw = handle.read(limit + 1)
    except OSError as exc:
        raise SlokitError([Diagnostic(display, 1, 1, f"cannot read file: {exc.strerror}",
                                      "check that you may read it", C.UNREADABLE_FILE)]) from None
    finally:
        os.close(fd)
    if len(raw) > limit:
        raise _too_large(display, limit)
    return raw


def _too_large(display: str, limit: int) -> SlokitError:
    return SlokitError([Diagnostic(display, 1, 1, f"file is larger than {limit // (1024 * 1024)} MiB, the most slokit "
                                   "reads from one file", "split it: one spec file per service", C.FILE_TOO_LARGE)])


def read_yaml(file: Path, display: str | None = None) -> Source:
    display = display or str(file)
    return parse_bytes(read_bytes(file, display), display)


def parse_bytes(raw: bytes, display: str) -> Source:
    """Decode UTF-8 (pointing at the first bad byte) and parse."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Windows editors save "Unicode" as UTF-16 with a byte order mark.
        raise SlokitError([Diagnostic(display, 1, 1, "file is UTF-16, not UTF-8",
                                      "save the file as UTF-8", C.BAD_ENCODING)])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        prefix = raw[: exc.start].decode("utf-8")
        line, col = _line_of(prefix, len(prefix))
        raise SlokitError([Diagnostic(display, line, col, f"file is not UTF-8: byte 0x{raw[exc.start]:02X} "
                                      f"at offset {exc.start} cannot be decoded",
                                      "save the file as UTF-8", C.BAD_ENCODING)]) from None
    return parse_yaml(text, display)


def parse_documents(text: str, path: str) -> list[Source]:
    """Every YAML document of a multi-document file (`---`), each with its own positions.

    Importers read other tools' files, where several documents per file are
    the norm (Kubernetes objects, OpenSLO bundles); slokit's own files stay
    one document each. Empty documents are skipped; the same strictness as
    `parse_yaml` applies otherwise.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    loader = None
    sources: list[Source] = []
    diags: list[Diagnostic] = []
    try:
        loader = _Loader(text)
        while loader.check_node():
            node = loader.get_node()
            if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == _CORE + "null"):
                continue
            builder = _Builder(path)
            data = builder.build(node, ())
            diags += builder.diags
            sources.append(Source(path=path, data=data, positions=builder.positions,
                                  key_positions=builder.key_positions))
    except _Reject as exc:
        raise SlokitError([Diagnostic(path, *_mark(exc.mark), exc.message, exc.hint, C.YAML_UNSUPPORTED)]) from None
    except yaml.MarkedYAMLError as exc:
        raise SlokitError([replace(_syntax_error(exc, text, path), code=C.YAML_SYNTAX)]) from None
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        raise SlokitError([Diagnostic(path, 1, 1, f"YAML error: {exc}", "", C.YAML_SYNTAX)]) from None
    finally:
        if loader is not None:
            loader.dispose()
    if diags:
        raise SlokitError(diags)
    return sources


def read_documents(file: Path, display: str | None = None) -> list[Source]:
    """`parse_documents` of a file, with the size and encoding checks of `read_yaml`."""
    display = display or str(file)
    try:
        with open(file, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise SlokitError([Diagnostic(display, 1, 1, f"cannot read file: {exc.strerror}", "",
                                      C.UNREADABLE_FILE)]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise SlokitError([Diagnostic(display, 1, 1, "file is larger than 1 MiB", "split it", C.FILE_TOO_LARGE)])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SlokitError([Diagnostic(display, 1, 1, f"file is not UTF-8 (byte offset {exc.start})",
                                      "save the file as UTF-8", C.BAD_ENCODING)]) from None
    return parse_documents(text, display)
