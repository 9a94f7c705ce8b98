"""Imports run one way down the compiler's stages (DEVELOPERS.md): no module imports a later stage.

Every import that runs counts, at the top of a file or inside a function (a
cycle hidden in a function is a cycle); imports for type hints only (under
TYPE_CHECKING) do not.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

GENERATOR = Path(__file__).resolve().parents[2] / "generator"

# Earlier stages first. A module not listed is a front end (a command, the CLI):
# it may import anything, and nothing listed may import it.
STAGES: list[tuple[str, ...]] = [
    ("", "errors", "codes", "vcs", "naming", "promql", "cache", "escape", "lookalike", "manifest",
     "units"),  # "": __version__
    ("load",),
    ("model",),
    ("windows", "messages", "salvage"),  # salvage: sets a broken part of a spec aside so the rest is still checked
    ("validate",),
    ("project", "config", "presets"),  # presets: a catalog include is read with the catalog; slokit.yaml's settings are read with the project (and reuse its model checks)
    ("plan", "collisions", "rulers"),
    ("render", "explain", "templating"),  # explain: the plan in words (runbooks reuse its phrases)
    ("write", "transaction", "shortcut"),  # shortcut: the whole-run record, checked through the writer's readers
    ("pipeline",),
]
FRONT = len(STAGES)



def stage(module: str) -> int:
    """The stage of a module path like `render.grafana.shared` (a package counts by its first part)."""
    for i, names in enumerate(STAGES):
        if module in names or module.split(".")[0] in names:
            return i
    return FRONT


def module_name(path: Path) -> str:
    parts = list(path.relative_to(GENERATOR).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _nodes(tree: ast.AST, runtime_only: bool):
    """Every node, or only those that run (not under `if TYPE_CHECKING:`)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        if runtime_only and isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            todo.extend(node.orelse)
            continue
        yield node
        todo.extend(ast.iter_child_nodes(node))


def imported(path: Path, runtime_only: bool = True) -> set[str]:
    """slokit modules imported by a file, as paths under the package (`slokit.plan` -> `plan`).

    Imports for type hints only (under TYPE_CHECKING) never run and do not count by default.
    """
    package = module_name(path).split(".") if path.name == "__init__.py" else module_name(path).split(".")[:-1]
    found: set[str] = set()
    for node in _nodes(ast.parse(path.read_text(encoding="utf-8")), runtime_only):
        if isinstance(node, ast.Import):
            found |= {a.name.removeprefix("slokit").lstrip(".") for a in node.names
                      if a.name == "slokit" or a.name.startswith("slokit.")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([node.module] if node.module else []))
            elif node.module == "slokit" or (node.module or "").startswith("slokit."):
                base = node.module.removeprefix("slokit").lstrip(".")
            else:
                continue
            found.add(base)
            if base == "":  # `from slokit import naming` imports the module slokit.naming
                found |= {a.name for a in node.names if (GENERATOR / f"{a.name}.py").exists()
                          or (GENERATOR / a.name).is_dir()}
    return found


MODULES = sorted(GENERATOR.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p) or "slokit")
def test_no_module_imports_a_later_stage(path):
    me = module_name(path)
    later = sorted(m for m in imported(path) if stage(m) > stage(me) and m != me)
    assert not later, f"{me or 'slokit'} (stage {stage(me)}) imports later stages: {later}"


def test_name_collisions_are_checked_after_planning_not_by_the_project_stage():
    """Collisions need the plan: the pipeline runs them after load, so the project stage never plans."""
    assert "collisions" not in imported(GENERATOR / "project.py") and "plan" not in imported(GENERATOR / "project.py")
    assert "collisions" in imported(GENERATOR / "pipeline.py")


def test_project_and_validate_do_not_import_each_other():
    assert "validate" not in imported(GENERATOR / "plan.py")
    assert "project" not in imported(GENERATOR / "validate.py")
    assert "project" in imported(GENERATOR / "validate.py", runtime_only=False)  # its type hints name Project


def test_the_checker_sees_imports_inside_functions(tmp_path):
    """The check would be toothless if it missed a lazy import (the form the old cycles took)."""
    source = GENERATOR / "plan.py"
    assert "promql" in imported(source) and "model" in imported(source)
    lazy = [n for n in ast.walk(ast.parse((GENERATOR / "pipeline.py").read_text(encoding="utf-8")))
            if isinstance(n, ast.FunctionDef) and any(isinstance(x, ast.ImportFrom) for x in ast.walk(n))]
    assert lazy and "render" in {m.split(".")[0] for m in imported(GENERATOR / "pipeline.py")}
