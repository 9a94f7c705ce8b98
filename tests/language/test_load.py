"""Unit tests of the positioned, strict YAML loader."""

from __future__ import annotations

from pathlib import Path

import pytest

from slokit.errors import SlokitError
from slokit.load import MAX_DEPTH, parse_bytes, parse_yaml, read_yaml


def errors(text: str) -> list[str]:
    with pytest.raises(SlokitError) as info:
        parse_yaml(text, "f.yaml")
    return [f"{d.line}:{d.column}: {d.message}" for d in info.value.diagnostics]


def test_positions_of_values_and_keys():
    src = parse_yaml("service: demo\nslos:\n  - name: a\n    objective: 99.5\n", "f.yaml")
    assert src.data == {"service": "demo", "slos": [{"name": "a", "objective": 99.5}]}
    assert src.position(("slos", 0, "objective")) == (4, 16)
    assert src.position(("slos", 0, "objective"), at_key=True) == (4, 5)
    # A missing key falls back to its closest ancestor.
    assert src.position(("slos", 0, "window")) == (3, 5)
    assert src.diagnostic(("service",), "m", "h").format() == "f.yaml:1:10: m\n  hint: h"


def test_yaml_1_2_core_schema_keeps_words_and_dates_as_text():
    src = parse_yaml("a: yes\nb: on\nc: 2024-01-01\nd: 12:30\ne: 010\nf: 0x1f\ng: true\nh: ~\ni: 1_000\n", "f")
    assert src.data == {"a": "yes", "b": "on", "c": "2024-01-01", "d": "12:30", "e": 10, "f": 31, "g": True,
                        "h": None, "i": "1_000"}


def test_keys_are_names_as_written():
    assert parse_yaml("1: a\ntrue: b\n", "f").data == {"1": "a", "true": "b"}


def test_every_duplicate_key_is_reported_with_the_first_position():
    assert errors("a: 1\nb: {c: 1, c: 2}\na: 3\n") == [
        "2:11: duplicate key 'c' (first defined at line 2, column 5)",
        "3:1: duplicate key 'a' (first defined at line 1, column 1)",
    ]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", "1:1: file is empty"),
        ("# only a comment\n", "1:1: file is empty"),
        ("---\n", "1:1: file is empty"),
        ("- a\n", "1:1: the file must be a mapping of keys to values, not a list"),
        ("a\n", "1:1: the file must be a mapping of keys to values, not a single value"),
        ("a:\n\tb: 1\n", "2:1: tab character used for indentation"),
        ("a: 1\n---\nb: 2\n", "2:1: more than one YAML document in the file"),
        ("a: &x 1\nb: *x\n", "2:4: YAML alias *x is not supported"),
        ("a: 1e400\n", "1:4: number is too large"),
        ("a: -1e400\n", "1:4: number is too large"),
        ("a: " + "1" * 5000 + "\n", "1:4: number is too large"),
        ("a: .inf\n", "1:4: .inf is not a finite number"),
        ("a: !!binary aGk=\n", "1:4: YAML tag !!binary is not supported"),
        ("a: !!python/name:os.system x\n", "1:4: YAML tag !!python/name:os.system is not supported"),
        ('a: "x\\0"\n', "1:4: text contains the control character U+0000"),
        ("a: \x1b\n", "1:4: unsupported character U+001B"),
        ("? [a]\n: 1\n", "1:3: mapping keys must be plain names"),
        ('a: "open\n', "1:4: YAML syntax error: unterminated quoted string"),
        ("a: {b: 1\nc: 2\n", "2:2: YAML syntax error: the { opened at line 1, column 4 is not closed"),
        ("a: 1\n b: 2\n", "2:3: YAML syntax error: unexpected ':'"),
    ],
)
def test_rejected_input(text: str, expected: str):
    assert errors(text) == [expected]


def test_nesting_is_capped_before_python_recursion():
    deep = "a: " + "[" * 10_000 + "]" * 10_000 + "\n"
    (message,) = errors(deep)
    assert message.endswith(f"nesting is deeper than {MAX_DEPTH} levels")
    # Block-style nesting too.
    block = "".join("  " * i + f"k{i}:\n" for i in range(MAX_DEPTH + 5)) + "  " * (MAX_DEPTH + 5) + "x: 1\n"
    assert errors(block)[0].endswith(f"nesting is deeper than {MAX_DEPTH} levels")


def test_alias_bomb_is_rejected_without_expansion():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
    )
    assert errors(bomb) == ["2:8: YAML alias *a is not supported"]


def test_byte_order_mark_is_accepted():
    assert parse_bytes("\ufeffa: 1\n".encode(), "f").data == {"a": 1}


def test_non_utf8_points_at_the_byte(tmp_path: Path):
    path = tmp_path / "x.yaml"
    path.write_bytes(b"a: 1\nbb: caf\xe9\n")
    with pytest.raises(SlokitError) as info:
        read_yaml(path, "x.yaml")
    (diag,) = info.value.diagnostics
    assert (diag.line, diag.column) == (2, 8)
    assert diag.message == "file is not UTF-8: byte 0xE9 at offset 12 cannot be decoded"


def test_oversized_and_unreadable_files(tmp_path: Path):
    big = tmp_path / "big.yaml"
    big.write_text("a: " + "x" * (1024 * 1024) + "\n")
    with pytest.raises(SlokitError, match="larger than 1 MiB"):
        read_yaml(big)
    with pytest.raises(SlokitError, match="cannot read file"):
        read_yaml(tmp_path / "missing.yaml")
