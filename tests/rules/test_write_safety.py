"""`slokit generate` never deletes or writes outside what it owns, and a write is a real transaction.

Manifest tampering, links and special files in the output root, injected
failures at every call of every file-system step, ENOSPC while staging the
manifest, a SIGKILL loop against real processes, two runs at once, and a held
lock. The fault-injection tests call `write_outputs` (the mechanism) with
outputs rendered once; the process tests run real `slokit` subprocesses.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from slokit import naming as N
from slokit import transaction as T
from slokit import write as W
from slokit.cli import main
from slokit.errors import SlokitError
from slokit.manifest import content_hash, manifest_text, read_manifest
from slokit.pipeline import build_outputs
from slokit.project import load_project

REPO = Path(__file__).resolve().parents[2]
SLOKIT = [sys.executable, "-m", "slokit"]


def snapshot(root: Path) -> dict[str, bytes]:
    """Every path under root with its bytes (directories and links marked), slokit's lock files aside."""
    own = {N.STATE_DIR, N.LOCK_FILE, f"{N.STATE_DIR}/.gitignore"}
    result = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if rel in own:
            continue
        result[rel] = (b"<link>" + os.readlink(p).encode()) if p.is_symlink() else \
            b"<dir>" if p.is_dir() else p.read_bytes() if p.is_file() else b"<special>"
    return result


def outputs_of(root: Path, formats: tuple[str, ...] = ()) -> dict[str, str]:
    cwd = os.getcwd()
    os.chdir(root)
    try:
        return build_outputs(load_project([Path("slos")]), formats)
    finally:
        os.chdir(cwd)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[dict[str, str], dict[str, str]]:
    """Outputs of the bundled example (`old`), and of a changed example (`new`): one service removed, an
    objective changed, operator rules added (so a commit adds, replaces and removes files)."""
    root = tmp_path_factory.mktemp("render")
    shutil.copytree(REPO / "slos", root / "slos")
    old = outputs_of(root)
    (root / "slos" / "rag-assistant.yaml").unlink()
    spec = root / "slos" / "support-chatbot.yaml"
    spec.write_text(spec.read_text().replace("objective: 99.5", "objective: 99.7"))
    new = outputs_of(root, ("operator",))
    assert set(old) - set(new) and set(new) - set(old) and old.keys() & new.keys()
    return old, new


@pytest.fixture
def tree(tmp_path: Path, rendered) -> Path:
    """An output root holding the old outputs, the old manifest, and a file slokit did not write."""
    old, _ = rendered
    root = tmp_path / "out"
    W.write_outputs(root, old)
    (root / "README.md").write_text("mine\n")
    (root / "alerts" / "handwritten.rules.yaml").write_text("groups: []\n")
    return root


# -- manifest tampering -------------------------------------------------------------------------------


def set_manifest(root: Path, extra: dict[str, str | None]) -> None:
    files = read_manifest(root).files
    (root / N.MANIFEST_FILE).write_text(manifest_text({**files, **extra}))


def expect_refusal(root: Path, outputs: dict[str, str], *fragments: str, inputs=frozenset()) -> str:
    before = snapshot(root)
    with pytest.raises(SlokitError) as info:
        W.write_outputs(root, outputs, inputs)
    text = str(info.value)
    for fragment in fragments:
        assert fragment in text
    assert snapshot(root) == before  # nothing touched, nothing staged
    assert not (root / N.TRANSACTION_DIR).exists()
    return text


@pytest.mark.parametrize("entry, fragment", [
    ("README.md", "is not in a directory slokit writes"),
    ("slos/support-chatbot.yaml", "is not in a directory slokit writes"),
    ("pyproject.toml", "is not in a directory slokit writes"),
    ("/etc/passwd", "is an absolute path"),
    ("alerts/../README.md", "contains `..`"),
    ("alerts/./x.rules.yaml", "is not a plain relative path"),
    (".slokit-manifest.json", "is not in a directory slokit writes"),
])
def test_a_manifest_entry_outside_the_output_dirs_is_refused(tree, rendered, entry, fragment):
    _, new = rendered
    target = tree / "README.md"
    set_manifest(tree, {entry: content_hash(target.read_bytes())})
    text = expect_refusal(tree, new, fragment)
    assert text.startswith(str(tree / N.MANIFEST_FILE) + ":")  # positioned at the manifest


def test_a_symlinked_dir_inside_the_root_cannot_reach_outside(tree, rendered, tmp_path):
    _, new = rendered
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim.rules.yaml"
    victim.write_text("keep me\n")
    (tree / "alerts" / "evil").symlink_to(outside)
    set_manifest(tree, {"alerts/evil/victim.rules.yaml": content_hash(b"keep me\n")})
    expect_refusal(tree, new, "alerts/evil is a symlink (to outside the output root)")
    assert victim.read_text() == "keep me\n"


@pytest.mark.parametrize("kind", ["symlink", "directory", "fifo"])
def test_a_manifest_entry_that_is_not_a_plain_file_is_refused(tree, rendered, kind):
    _, new = rendered
    path = tree / "alerts" / "odd.rules.yaml"
    {"symlink": lambda: path.symlink_to(tree / "README.md"), "directory": path.mkdir,
     "fifo": lambda: os.mkfifo(path)}[kind]()
    set_manifest(tree, {"alerts/odd.rules.yaml": content_hash((tree / "README.md").read_bytes())})
    expect_refusal(tree, new, {"symlink": "is a symlink", "directory": "is a directory",
                               "fifo": "is a special file"}[kind])
    assert (tree / "README.md").read_text() == "mine\n"


def test_a_manifest_entry_naming_an_input_file_is_refused(tree, rendered):
    _, new = rendered
    catalog = tree / "alerts" / "catalog.yaml"
    catalog.write_text("metrics: {}\n")
    set_manifest(tree, {"alerts/catalog.yaml": content_hash(catalog.read_bytes())})
    expect_refusal(tree, new, "is one of the input files", inputs=frozenset({catalog.resolve()}))


@pytest.mark.parametrize("text, fragment", [
    ("{not json", "is not valid JSON"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"files": ["README.md"]}', "is not a slokit manifest"),
    ('{"generator": "slokit", "version": 3, "files": {}}', "unknown layout"),
    ('{"generator": "slokit", "version": 2, "files": {"alerts/a.rules.yaml": "short"}}', "unknown layout"),
    ('{"generator": "slokit", "version": 1, "files": [1, 2]}', "unknown layout"),
    ('{"generator": "slokit", "version": 2, "files": {"a": null}}', "is not in a directory slokit writes"),
])
def test_a_malformed_manifest_is_an_error_and_nothing_is_touched(tree, rendered, text, fragment):
    _, new = rendered
    (tree / N.MANIFEST_FILE).write_text(text)
    expect_refusal(tree, new, fragment)


def test_a_manifest_that_is_a_symlink_is_refused(tree, rendered):
    _, new = rendered
    real = tree / "alerts" / "manifest-copy.json"
    shutil.move(tree / N.MANIFEST_FILE, real)
    (tree / N.MANIFEST_FILE).symlink_to(real)
    expect_refusal(tree, new, "the manifest is a symlink")


def test_an_edited_stale_file_is_reported_and_kept_until_it_holds_slokits_content_again(tree, rendered):
    old, new = rendered
    stale = N.rules_path("rag-assistant")
    (tree / stale).write_text(old[stale] + "# my edit\n")
    result = W.write_outputs(tree, new)
    assert (tree / stale).read_text() == old[stale] + "# my edit\n"
    assert any(stale in w and "edited since slokit wrote it" in w for w in result.warnings)
    assert stale not in [c.path for c in result.changes]
    assert read_manifest(tree).files[stale] == content_hash(old[stale])  # still tracked, so reported again
    assert any(stale in w for w in W.write_outputs(tree, new).warnings)
    (tree / stale).write_text(old[stale])  # the edit undone: now it is slokit's file again
    result = W.write_outputs(tree, new)
    assert W.Change(stale, "removed") in result.changes and not (tree / stale).exists()
    assert stale not in read_manifest(tree).files


def test_check_reports_an_edited_stale_file_without_counting_it_as_a_change(tree, rendered):
    old, _ = rendered
    shutil.copytree(REPO / "slos", tree / "slos")
    assert CliRunner().invoke(main, ["generate", str(tree / "slos"), "--out", str(tree)]).exit_code == 0
    (tree / "slos" / "rag-assistant.yaml").unlink()
    stale = tree / N.rules_path("rag-assistant")
    stale.write_text(old[N.rules_path("rag-assistant")] + "# mine\n")
    before = snapshot(tree)
    result = CliRunner().invoke(main, ["generate", str(tree / "slos"), "--out", str(tree), "--check"])
    assert result.exit_code == 1  # the other files of rag-assistant would be removed
    assert f"slokit: warning: {stale}: no longer generated, but edited since slokit wrote it" in result.stderr
    assert f"removed: {N.rules_path('rag-assistant')}" not in result.stderr
    assert f"removed: {N.runbook_path('rag-assistant')}" in result.stderr
    assert snapshot(tree) == before


def test_check_fails_when_the_committed_manifest_does_not_match_the_outputs(tree):
    shutil.copytree(REPO / "slos", tree / "slos")
    args = ["generate", str(tree / "slos"), "--out", str(tree)]
    assert CliRunner().invoke(main, args).exit_code == 0
    assert CliRunner().invoke(main, [*args, "--check"]).exit_code == 0
    manifest = read_manifest(tree)
    rel = N.rules_path("support-chatbot")
    (tree / N.MANIFEST_FILE).write_text(manifest_text({**manifest.files, rel: content_hash("something else")}))
    result = CliRunner().invoke(main, [*args, "--check"])
    assert result.exit_code == 1 and f"changed: {N.MANIFEST_FILE}" in result.stderr
    assert "1 generated file out of date" in result.stderr and f"+    \"{rel}\": \"" in result.stdout
    assert CliRunner().invoke(main, args).exit_code == 0  # generate repairs the hashes
    assert read_manifest(tree).files[rel] == manifest.files[rel]


def test_an_old_manifest_without_hashes_prunes_nothing_and_is_upgraded(tree, rendered):
    old, new = rendered
    (tree / N.MANIFEST_FILE).write_text(json.dumps({"generator": "slokit", "version": 1, "files": sorted(old)}))
    result = W.write_outputs(tree, new)
    stale = sorted(set(old) - set(new))
    for rel in stale:
        assert (tree / rel).read_text() == old[rel]  # unverifiable: kept
        assert any(rel in w and "no content hash" in w for w in result.warnings)
    manifest = read_manifest(tree)
    assert manifest.version == 2
    assert {rel: manifest.files[rel] for rel in new} == {rel: content_hash(text) for rel, text in new.items()}
    assert all(manifest.files[rel] is None for rel in stale)


def test_hand_files_in_the_output_dirs_are_never_touched(tree, rendered):
    _, new = rendered
    W.write_outputs(tree, new)
    assert (tree / "README.md").read_text() == "mine\n"
    assert (tree / "alerts" / "handwritten.rules.yaml").read_text() == "groups: []\n"


# -- what is in the way of an output ------------------------------------------------------------------


def test_a_symlinked_output_dir_pointing_outside_is_refused(tmp_path, rendered):
    _, new = rendered
    root, outside = tmp_path / "out", tmp_path / "elsewhere"
    root.mkdir()
    outside.mkdir()
    (root / "alerts").symlink_to(outside)
    expect_refusal(root, new, "alerts is a symlink (to outside the output root)")
    assert list(outside.iterdir()) == []


def test_an_output_that_is_a_symlink_is_refused_and_its_target_is_not_read(tmp_path, rendered):
    _, new = rendered
    root = tmp_path / "out"
    (root / "alerts").mkdir(parents=True)
    secret = tmp_path / "token.txt"
    secret.write_text("hunter2-secret-token\n")
    rel = next(p for p in new if p.startswith("alerts/"))
    (root / rel).symlink_to(secret)
    text = expect_refusal(root, new, f"{rel} is a symlink")
    assert "hunter2" not in text and secret.read_text() == "hunter2-secret-token\n"


def test_a_fifo_at_an_output_path_fails_at_once_in_a_real_process(tmp_path):
    shutil.copytree(REPO / "slos", tmp_path / "slos")
    (tmp_path / "alerts").mkdir()
    os.mkfifo(tmp_path / N.rules_path("support-chatbot"))
    for args in (["generate"], ["generate", "--check"]):
        # A hang would hit the timeout and fail the test: the FIFO is never opened for reading.
        proc = subprocess.run([*SLOKIT, *args], cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr
        assert f"{N.rules_path('support-chatbot')}:1:1: cannot write this output: " in proc.stderr
        assert "is a special file" in proc.stderr
    assert sorted(p.name for p in (tmp_path / "alerts").iterdir()) == ["support-chatbot.rules.yaml"]


def test_a_fifo_as_the_manifest_fails_at_once_in_a_real_process(tmp_path):
    shutil.copytree(REPO / "slos", tmp_path / "slos")
    os.mkfifo(tmp_path / N.MANIFEST_FILE)
    proc = subprocess.run([*SLOKIT, "generate"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert ".slokit-manifest.json:1:1: the manifest is not a regular file" in proc.stderr
    assert not (tmp_path / "alerts").exists()


def test_cli_reports_a_tampered_manifest_as_positioned_errors(tree, rendered):
    shutil.copytree(REPO / "slos", tree / "slos")
    (tree / N.MANIFEST_FILE).write_text(manifest_text({"README.md": None, "slos/catalog.yaml": None}))
    before = snapshot(tree)
    result = CliRunner().invoke(main, ["generate", str(tree / "slos"), "--out", str(tree)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    manifest = str(tree / N.MANIFEST_FILE)
    assert f'{manifest}:5:5: manifest entry "README.md" is not in a directory slokit writes' in result.stderr
    assert f'{manifest}:6:5: manifest entry "slos/catalog.yaml" is not in a directory' in result.stderr
    assert "hint: restore it from version control" in result.stderr and result.stderr.endswith("2 errors\n")
    assert snapshot(tree) == before


# -- injected failures: every call of every step ----------------------------------------------------


class Injected(OSError):
    pass


def count_calls(monkeypatch, module, name: str, fail_at: int | None) -> list[int]:
    """Wrap `module.name` to count calls, raising at call number `fail_at` (1-based)."""
    real = getattr(module, name)
    calls = [0]

    def wrapper(*args, **kwargs):
        calls[0] += 1
        if calls[0] == fail_at:
            raise Injected(errno.EIO, f"injected failure of {name} #{fail_at}")
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return calls


# os.rename is never called (every move is os.replace, which a test would otherwise have to mirror).
STEPS = [(os, "replace"), (os, "write"), (os, "fsync"), (os, "mkdir"), (os, "open"),
         (os, "unlink"), (os, "chmod")]


@pytest.mark.parametrize("module, name", STEPS, ids=[n for _, n in STEPS])
def test_a_failure_at_any_call_of_any_step_restores_the_tree_byte_for_byte(tree, rendered, monkeypatch, module,
                                                                           name, tmp_path):
    _, new = rendered
    # The old tree lacks docs/runbooks/ entirely, so the commit also has to create (and undo) a directory.
    shutil.rmtree(tree / "docs" / "runbooks")
    template = tmp_path / "template"
    shutil.copytree(tree, template, symlinks=True)
    before = snapshot(tree)
    with monkeypatch.context() as m:
        total = count_calls(m, module, name, None)
        W.write_outputs(tree, new)
    expected_after = snapshot(tree)
    assert expected_after != before
    outcomes = {"restored": 0, "committed": 0}
    committed_at = []
    for k in range(1, total[0] + 1):
        shutil.rmtree(tree)
        shutil.copytree(template, tree, symlinks=True)
        with monkeypatch.context() as m:
            count_calls(m, module, name, k)
            try:
                W.write_outputs(tree, new)
            except (T.TransactionError, OSError, SlokitError) as exc:
                assert "injected failure" in str(exc)
                assert snapshot(tree) == before, f"{name} failing at call {k} left a changed tree"
                assert not (tree / N.TRANSACTION_DIR).exists(), f"{name} #{k} left staged files"
                outcomes["restored"] += 1
                continue
        # A run may still succeed: a failure pathlib tolerates (mkdir of a directory that exists), or one
        # in the cleanup after the commit point; then the tree is the new one, and the next run removes
        # whatever cleanup is left.
        outcomes["committed"] += 1
        committed_at.append(k)
        assert {k: v for k, v in snapshot(tree).items()
                if not (k == N.STATE_DIR or k.startswith(N.STATE_DIR + "/"))} == expected_after
        W.write_outputs(tree, new)
        assert snapshot(tree) == expected_after
    print(f"{name}: {total[0]} calls, outcomes {outcomes}")
    assert total[0] > 0
    if name == "write":
        # Every write comes before the commit point: each failure must roll back.
        assert outcomes["committed"] == 0
    if name in ("replace", "fsync"):
        # All but the last: that replace renames the finished transaction away, that fsync makes the
        # `committed` journal durable, both after the commit point (the rename of the journal).
        assert committed_at == [total[0]]
    if name == "unlink":
        # unlink runs only in the cleanup after the commit point (the undo never needed it here).
        assert outcomes["restored"] == 0


def test_enospc_while_staging_the_manifest_changes_nothing(tree, rendered, monkeypatch):
    _, new = rendered
    before = snapshot(tree)
    real = T.write_file
    hit = []

    def full_disk(path, data, mode=0o644):
        if data.startswith(b'{\n  "generator": "slokit"'):
            hit.append(path)
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, data, mode)

    monkeypatch.setattr(T, "write_file", full_disk)
    with pytest.raises(T.TransactionError, match="No space left on device"):
        W.write_outputs(tree, new)
    assert hit and snapshot(tree) == before and not (tree / N.TRANSACTION_DIR).exists()


def test_enospc_while_writing_the_journal_changes_nothing(tree, rendered, monkeypatch):
    _, new = rendered
    before = snapshot(tree)
    real = T.write_file

    def full_disk(path, data, mode=0o644):
        if Path(path).name.startswith(T.JOURNAL):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, data, mode)

    monkeypatch.setattr(T, "write_file", full_disk)
    with pytest.raises(T.TransactionError, match="No space left on device"):
        W.write_outputs(tree, new)
    assert snapshot(tree) == before and not (tree / N.TRANSACTION_DIR).exists()


# -- crashes: leftovers of an interrupted run ----------------------------------------------------------


def test_a_leftover_of_a_crash_before_the_commit_is_removed(tree, rendered):
    _, new = rendered
    staged = tree / N.TRANSACTION_DIR / "staged"
    staged.mkdir(parents=True)
    (staged / "0").write_text("half")
    result = W.write_outputs(tree, new)
    assert any("removed the staged files of an interrupted" in w for w in result.warnings)
    assert not (tree / N.TRANSACTION_DIR).exists()


def test_temporary_files_an_older_slokit_left_are_removed_and_nothing_else(tree, rendered):
    _, new = rendered
    rel = N.rules_path("support-chatbot")
    leftover = tree / "alerts" / f".{Path(rel).name}.k3_x9a2b.tmp"
    leftover_manifest = tree / f".{N.MANIFEST_FILE}.abcdefgh.tmp"
    not_ours = tree / "alerts" / ".handwritten.txt.abcdefgh.tmp"
    for path in (leftover, leftover_manifest, not_ours):
        path.write_text("partial")
    result = W.write_outputs(tree, new)
    assert not leftover.exists() and not leftover_manifest.exists() and not_ours.read_text() == "partial"
    assert any("removed 2 temporary files an interrupted older slokit left" in w for w in result.warnings)


def test_a_tampered_journal_cannot_direct_the_recovery_outside_the_output_dirs(tree):
    txn = tree / N.TRANSACTION_DIR
    txn.mkdir(parents=True)
    (txn / T.JOURNAL).write_text(json.dumps({"state": "committing", "dirs": [],
                                             "ops": [{"path": "README.md", "write": True, "existed": False}]}))
    with pytest.raises(T.TransactionError, match="names 'README.md', which is not a file slokit writes"):
        W.write_outputs(tree, {})
    assert (tree / "README.md").read_text() == "mine\n"


def test_check_refuses_while_an_interrupted_transaction_is_pending(tree):
    shutil.copytree(REPO / "slos", tree / "slos")
    (tree / N.TRANSACTION_DIR).mkdir(parents=True)
    result = CliRunner().invoke(main, ["generate", str(tree / "slos"), "--out", str(tree), "--check"])
    assert result.exit_code == 1 and "an interrupted `slokit generate` left" in result.stderr


def variant_outputs(rendered: dict[str, str], variant: str) -> dict[str, str]:
    """The bundled example's outputs plus many synthetic ones (so a commit is long enough to be hit by a
    kill); variant b also changes one file and drops another (so its commit replaces and prunes)."""
    outputs = dict(rendered)
    if variant == "b":
        outputs[N.rules_path("support-chatbot")] += "# b\n"
        outputs.pop(N.COST_DASHBOARD_PATH)
    for i in range(80):
        outputs[f"alerts/extra/{variant}-{i:03}.rules.yaml"] = f"groups: []  # {variant} {i}\n" * 50
    return outputs


def run_driver(root: Path, outputs_file: Path, delay: float | None, die_at: int | None = None) -> tuple[str, float]:
    """Start a writer process; SIGKILL it `delay` seconds after it is ready (None: let it finish), or let it
    SIGKILL itself at its `die_at`-th os.replace."""
    driver = Path(__file__).with_name("kill_driver.py")
    extra = [str(die_at)] if die_at else []
    proc = subprocess.Popen([sys.executable, str(driver), str(root), str(outputs_file), *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "ready\n", proc.stderr.read()
        start = time.monotonic()
        if delay is not None:
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=300)
        took = time.monotonic() - start
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if delay is None and die_at is None:
        assert proc.returncode == 0, err
    return ("finished" if "done" in out else "killed"), took


def test_sigkill_at_any_moment_leaves_either_the_old_or_the_new_tree(tmp_path, rendered):
    """20 real processes killed with SIGKILL at delays spread over the write; after each, recovery must
    give exactly the tree before the run or exactly the tree after it, never a mix or leftovers."""
    old, _ = rendered
    root = tmp_path / "project"
    shutil.copytree(REPO / "slos", root / "slos")
    files, states = {}, {}
    for v in "ab":
        files[v] = tmp_path / f"{v}.json"
        files[v].write_text(json.dumps(variant_outputs(old, v)))
        scratch = tmp_path / f"scratch-{v}"
        shutil.copytree(root, scratch)
        W.write_outputs(scratch, variant_outputs(old, v))
        states[v] = snapshot(scratch)
    W.write_outputs(root, variant_outputs(old, "a"))
    # How long one full write takes here: the kill delays are spread from 0 to a little beyond it.
    _, took = run_driver(root, files["b"], None)
    assert snapshot(root) == states["b"]
    with pytest.MonkeyPatch.context() as m:
        replaces = count_calls(m, os, "replace", None)
        W.write_outputs(tmp_path / "scratch-a", variant_outputs(old, "b"))
    current, seen = "b", []

    def kill_and_recover(label: str, delay: float | None, die_at: int | None = None) -> None:
        nonlocal current
        target = "b" if current == "a" else "a"
        how, _ = run_driver(root, files[target], delay, die_at)
        with T.locked(root):
            recovered = T.recover(root) or ""
        state = snapshot(root)
        assert state in (states[current], states[target]), f"{label}: a mixed tree"
        assert not (root / N.TRANSACTION_DIR).exists() and not list((root / N.STATE_DIR).glob("trash-*"))
        flipped = state == states[target]
        current = target if flipped else current
        seen.append(f"{label}: {how}, recovery: {recovered.split(' (')[0] or '-'} -> {'new' if flipped else 'old'}")

    for i in range(20):
        delay = took * 1.2 * i / 19
        kill_and_recover(f"SIGKILL after {delay:.2f}s", delay)
    # A timer rarely lands inside the commit (it is short next to staging): crash at exact os.replace calls.
    for k in sorted({1, 2, 3, replaces[0] // 4, replaces[0] // 2, replaces[0] - 2, replaces[0] - 1, replaces[0]}):
        kill_and_recover(f"SIGKILL at os.replace #{k} of {replaces[0]}", None, k)
    print(f"kill loop (one write takes {took:.2f}s):", *seen, sep="\n  ")
    assert any("rolled back" in line for line in seen)  # the exact-point crashes hit the commit
    # And the real CLI, killed at varying delays, then run to completion.
    for delay in (0.5, 1.5, 2.5):
        proc = subprocess.Popen([*SLOKIT, "generate"], cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.kill()
        proc.wait()
    proc = subprocess.run([*SLOKIT, "generate"], cwd=root, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    check = subprocess.run([*SLOKIT, "generate", "--check"], cwd=root, capture_output=True, text=True, timeout=300)
    assert check.returncode == 0 and check.stdout.startswith("up to date:"), check.stdout + check.stderr
    assert not (root / N.TRANSACTION_DIR).exists()
    assert {rel: (root / rel).read_text() for rel in old} == old
    assert set(read_manifest(root).files) == set(old)  # synthetic extras pruned: they were slokit's, unedited
    assert not (root / "alerts" / "extra").exists()


# -- concurrency ---------------------------------------------------------------------------------------


def test_two_generate_runs_at_once_do_not_corrupt_each_other(tmp_path):
    shutil.copytree(REPO / "slos", tmp_path / "slos")
    procs = [subprocess.Popen([*SLOKIT, "generate"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    results = [p.communicate(timeout=300) + (p.returncode,) for p in procs]
    assert [r[2] for r in results] == [0, 0], results
    expected = outputs_of(tmp_path)
    assert {rel: (tmp_path / rel).read_text() for rel in expected} == expected
    assert set(read_manifest(tmp_path).files) == set(expected)
    assert not (tmp_path / N.TRANSACTION_DIR).exists()


def test_a_held_lock_makes_the_second_run_fail_clearly(tree, rendered):
    _, new = rendered
    before = snapshot(tree)
    fd = os.open(tree / N.LOCK_FILE, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(T.TransactionError, match=r"another `slokit generate` is writing to .* \(it holds "
                                                      r"\.slokit/lock\); gave up after 0\.2 s"):
            W.write_outputs(tree, new, lock_wait=0.2)
    finally:
        os.close(fd)
    assert snapshot(tree) == before
    W.write_outputs(tree, new)  # released: the next run goes through


def test_the_staging_area_is_git_ignored(tree):
    assert (tree / N.STATE_DIR / ".gitignore").read_text().splitlines()[-1] == "*"
    repo_ignore = (REPO / ".gitignore").read_text().splitlines()
    assert "/.slokit/" in repo_ignore
